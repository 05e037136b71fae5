import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IMEI, startRig, type Rig } from '../../test/support/command-fakes.js';

const online = (r: Rig, ident = IMEI) => {
  r.device.online.add(`1/${ident}`);
  r.svc.deviceOnline('1', ident);
  return r.settle();
};
const offline = (r: Rig, ident = IMEI) => {
  r.device.online.delete(`1/${ident}`);
  r.svc.deviceOffline('1', ident);
  return r.settle();
};
/** Polls a condition that depends on file I/O (the store), for at most 5 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok(cond(), 'condition not reached within 5 s');
}
const statuses = (r: Rig, id: string) => r.events(id).map((e) => e.status);
const VERSION_REPLY = { replyKey: 'ruptela:3', executed: true, response: '542C,00.03.09.10,668,22,1' };

test('queued while offline, delivered in order after identification, one at a time, each reply closing the oldest in flight', async () => {
  const r = await startRig();
  try {
    await r.request({ id: 'a', name: 'get_version', meta: { ticket: 1 } });
    await r.request({ id: 'b', name: 'set_io', properties: { id: 175, value: 100 } });
    await r.request({ id: 'c', name: 'text', properties: { text: 'getio' } });
    assert.deepEqual(r.svc.heldFor('1', IMEI).map((h) => [h.id, h.state]), [['a', 'queued'], ['b', 'queued'], ['c', 'queued']]);
    assert.equal(r.device.written.length, 0, 'nothing is written while the device is offline');
    assert.equal(r.retained().size, 3, 'a retained queue entry per command');

    await online(r);
    assert.deepEqual(r.device.written.map((w) => w.hex), ['00016717b9'], 'only the first command goes out (V#50)');
    assert.deepEqual(r.svc.reply('1', IMEI, { replyKey: 'ruptela:17', executed: true, response: 0 }), null, 'a reply for another command does not match');
    assert.deepEqual(r.svc.reply('1', IMEI, VERSION_REPLY), { id: 'a', name: 'get_version' });
    await r.settle();
    assert.deepEqual(r.device.written.map((w) => w.name), ['get_version', 'set_io'], 'the second goes only after the first was answered');
    assert.equal(r.device.written[1]!.hex, '000975000000af0000006439cc', 'V#49');
    assert.deepEqual(r.svc.reply('1', IMEI, { replyKey: 'ruptela:17', executed: true, response: 0 }), { id: 'b', name: 'set_io' });
    await r.settle();
    assert.deepEqual(r.svc.reply('1', IMEI, { replyKey: 'ruptela:7', executed: true, response: 'IO ok' }), { id: 'c', name: 'text' });
    await r.settle();

    assert.deepEqual(statuses(r, 'a'), ['queued', 'sent', 'processed']);
    const processed = r.events('a').at(-1)!;
    assert.equal(processed.body.executed, true);
    assert.equal(processed.body.response, VERSION_REPLY.response);
    assert.equal(processed.body.attempt, 1);
    assert.deepEqual(processed.body.meta, { ticket: 1 });
    assert.deepEqual(r.events().map((e) => `${e.body.id}:${e.status}`), ['a:queued', 'b:queued', 'c:queued', 'a:sent', 'a:processed', 'b:sent', 'b:processed', 'c:sent', 'c:processed']);
    assert.equal(r.retained().size, 0, 'every queue entry is cleared when its command ends');
    assert.deepEqual(await r.store.load(), [], 'the store holds nothing once all ended');
  } finally {
    await r.close();
  }
});

test('meta comes back byte for byte on every event and queue entry', async () => {
  const r = await startRig();
  try {
    const meta = '{ "ticket" : "OPS-1", "n": 1.0, "e": 1e3, "u": "\\u00e9", "2": 0, "1": [ ] }';
    await r.request(`{"id":"m","name":"get_version","meta":${meta}}`);
    await online(r);
    r.svc.reply('1', IMEI, VERSION_REPLY);
    await r.settle();
    const events = r.events('m');
    assert.deepEqual(events.map((e) => e.status), ['queued', 'sent', 'processed']);
    for (const e of events) assert.ok(e.payload.endsWith(`"meta":${meta}}`), e.payload);
    const entries = r.mqtt.published.filter((p) => p.retain && p.payload !== '');
    assert.ok(entries.length >= 2);
    for (const p of entries) assert.ok(p.payload.endsWith(`"meta":${meta}}`), p.payload);
    const none = r.events().length;
    await r.request({ id: 'nometa', name: 'get_version' });
    assert.equal(r.events()[none]!.body.meta, null, 'no meta: null');
  } finally {
    await r.close();
  }
});

test('ttl: a command still queued when its ttl runs out expires; nothing is written', async () => {
  const r = await startRig();
  try {
    await r.request({ id: 'x', name: 'get_version', ttl: 60 });
    await r.request({ id: 'y', name: 'get_version', ttl: 600 });
    r.clock.advance(59.9);
    r.svc.tick();
    await r.settle();
    assert.deepEqual(statuses(r, 'x'), ['queued']);
    r.clock.advance(0.1);
    r.svc.tick();
    await r.settle();
    assert.deepEqual(statuses(r, 'x'), ['queued', 'expired']);
    assert.match(String(r.events('x')[1]!.body.reason), /ttl \(60 s\)/);
    assert.deepEqual(r.svc.heldFor('1', IMEI).map((h) => h.id), ['y']);
    await online(r);
    assert.deepEqual(r.device.written.map((w) => w.name), ['get_version']);
    assert.deepEqual(statuses(r, 'y'), ['queued', 'sent']);
  } finally {
    await r.close();
  }
});

test('timeout: no reply ends processed with executed false and a reason; the next command goes; a late reply matches nothing', async () => {
  const r = await startRig();
  try {
    await online(r);
    await r.request({ id: 't1', name: 'get_version', timeout: 20 });
    await r.request({ id: 't2', name: 'text', properties: { text: 'getio' } });
    r.clock.advance(19);
    r.svc.tick();
    await r.settle();
    assert.deepEqual(statuses(r, 't1'), ['queued', 'sent']);
    r.clock.advance(1);
    r.svc.tick();
    await r.settle();
    const last = r.events('t1').at(-1)!;
    assert.equal(last.status, 'processed');
    assert.equal(last.body.executed, false);
    assert.equal(last.body.code, 'EDGE_COMMAND_TIMEOUT');
    assert.equal(last.body.reason, 'no reply within 20 s');
    assert.deepEqual(r.device.written.map((w) => w.name), ['get_version', 'text']);
    assert.equal(r.svc.reply('1', IMEI, VERSION_REPLY), null, 'the late version reply closes nothing');
  } finally {
    await r.close();
  }
});

test('a device that answers "not executed" ends processed with executed false and its response', async () => {
  const r = await startRig();
  try {
    await online(r);
    await r.request({ id: 's', name: 'set_io', properties: { id: 1, value: 1 } });
    r.svc.reply('1', IMEI, { replyKey: 'ruptela:17', executed: false, response: 2 });
    await r.settle();
    const p = r.events('s').at(-1)!.body;
    assert.deepEqual([p.executed, p.response, p.code], [false, 2, 'EDGE_COMMAND_FAILED']);
  } finally {
    await r.close();
  }
});

test('commands without a reply (set_connection, set_odometer) end processed once written', async () => {
  const r = await startRig();
  try {
    await online(r);
    await r.request({ id: 'o', name: 'set_odometer', properties: { value: 1000 } });
    await r.request({ id: 'c', name: 'set_connection', properties: { host: 'example.org', port: 5046, protocol: 'TCP' } });
    assert.deepEqual(r.device.written.map((w) => w.hex), ['00056a000003e8ac35', r.device.written[1]!.hex]);
    assert.equal(r.device.written[1]!.name, 'set_connection');
    for (const id of ['o', 'c']) {
      assert.deepEqual(statuses(r, id), ['queued', 'sent', 'processed']);
      assert.equal(r.events(id).at(-1)!.body.executed, true);
    }
  } finally {
    await r.close();
  }
});

test('attempts: a connection lost before the reply queues the command again; at max_attempts it ends executed false', async () => {
  const r = await startRig({ config: { max_attempts: 2 } });
  try {
    await r.request({ id: 'a', name: 'get_version' });
    await online(r);
    await offline(r);
    assert.deepEqual(r.events('a').map((e) => [e.status, e.body.attempt]), [['queued', 0], ['sent', 1], ['queued', 1]]);
    await online(r);
    await offline(r);
    await online(r);
    assert.equal(r.device.written.length, 2, 'written twice, never a third time');
    const last = r.events('a').at(-1)!;
    assert.deepEqual([last.status, last.body.executed, last.body.code, last.body.attempt], ['processed', false, 'EDGE_COMMAND_ATTEMPTS', 2]);
  } finally {
    await r.close();
  }
});

test('a failed write (connection closed under it) keeps the command at the head for the next connection', async () => {
  const r = await startRig();
  try {
    await r.request({ id: 'a', name: 'get_version' });
    await r.request({ id: 'b', name: 'get_version' });
    r.device.failSends = true;
    await online(r);
    assert.deepEqual(r.svc.heldFor('1', IMEI).map((h) => [h.id, h.state, h.attempts]), [['a', 'queued', 1], ['b', 'queued', 0]], 'the failed write counts as an attempt');
    r.svc.deviceOffline('1', IMEI);
    r.device.failSends = false;
    await online(r);
    assert.deepEqual(r.svc.heldFor('1', IMEI).map((h) => [h.id, h.state, h.attempts]), [['a', 'sent', 2], ['b', 'queued', 0]]);
    assert.deepEqual(r.events('a').map((e) => e.status), ['queued', 'sent'], 'no "sent" for the write that failed');
  } finally {
    await r.close();
  }
});

test('cancel: a queued command ends canceled; an in-flight one too, but it keeps the slot until its reply', async () => {
  const r = await startRig();
  try {
    await r.request({ id: 'q1', name: 'get_version' });
    await r.request({ id: 'q2', name: 'get_version' });
    await r.request({ id: 'q3', name: 'get_version' });
    await r.cancel('q2');
    assert.deepEqual(statuses(r, 'q2'), ['queued', 'canceled']);
    await online(r);
    await r.cancel('q1');
    assert.deepEqual(statuses(r, 'q1'), ['queued', 'sent', 'canceled']);
    assert.equal(r.device.written.length, 1, 'q3 waits: the device may still answer q1');
    assert.deepEqual(r.svc.reply('1', IMEI, VERSION_REPLY), { id: 'q1', name: 'get_version' }, "the reply is still q1's (its message gets command.id)");
    await r.settle();
    assert.deepEqual(statuses(r, 'q1'), ['queued', 'sent', 'canceled'], 'no processed after canceled');
    assert.equal(r.device.written.length, 2, 'q3 goes after the canceled command was answered');
    await r.cancel('nope');
    const rej = r.events('nope');
    assert.deepEqual(rej.map((e) => [e.status, e.body.code]), [['rejected', 'EDGE_COMMAND_NOT_FOUND']]);
    await r.cancel('q3', '999');
    assert.equal(r.events('q3').at(-1)!.status, 'rejected', 'a cancel on another device does not touch it');
    assert.equal(r.retained().size, 1, 'only q3 is still pending');
  } finally {
    await r.close();
  }
});

test('a repeated id is rejected (EDGE_COMMAND_DUPLICATE, first status) while held and shortly after it ended: the device gets it once', async () => {
  const r = await startRig();
  try {
    await r.request({ id: 'dup', name: 'get_version', meta: { try: 1 } });
    await r.request({ id: 'dup', name: 'get_version', meta: { try: 2 } });
    assert.equal(r.svc.heldFor('1', IMEI).length, 1);
    await online(r);
    r.svc.reply('1', IMEI, VERSION_REPLY);
    await r.settle();
    await r.request({ id: 'dup', name: 'get_version' });
    assert.equal(r.svc.duplicates, 2);
    assert.equal(r.device.written.length, 1);
    const events = r.events('dup');
    assert.deepEqual(events.map((e) => e.status).filter((s) => s !== 'rejected'), ['queued', 'sent', 'processed']);
    const rejected = events.filter((e) => e.status === 'rejected');
    assert.deepEqual(rejected.map((e) => [e.body.code, e.body.first_status]), [['EDGE_COMMAND_DUPLICATE', 'queued'], ['EDGE_COMMAND_DUPLICATE', 'processed']]);
    assert.equal((rejected[0]!.body.meta as { try: number }).try, 2, "the duplicate's own meta is echoed");
    await r.request({ name: 'get_version' });
    await r.request({ name: 'get_version' });
    assert.deepEqual(r.svc.heldFor('1', IMEI).map((h) => h.id), ['auto-1', 'auto-2'], 'requests without an id get distinct ids');
  } finally {
    await r.close();
  }
});

test('every rejected case names its reason; nothing is queued or written', async () => {
  const r = await startRig({ config: { max_queued_per_device: 2 } });
  try {
    await online(r);
    r.device.failSends = true; // keep anything that slipped through visible as held
    const big = { blob: 'x'.repeat(8200) };
    let deep: unknown = 1;
    for (let i = 0; i < 17; i++) deep = { d: deep };
    const cases: [string | Record<string, unknown>, string, RegExp, string?][] = [
      ['{"name":', 'EDGE_COMMAND_MALFORMED', /not JSON/],
      ['[1,2]', 'EDGE_COMMAND_MALFORMED', /must be a JSON object/],
      [Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'), 'EDGE_COMMAND_MALFORMED', /JSON|UTF-8/],
      [{ id: 'r1' }, 'EDGE_COMMAND_MALFORMED', /^name: is required/],
      [{ id: 'r2', name: 'reboot' }, 'EDGE_COMMAND_UNKNOWN', /^name: "reboot" is not a command.*known: configuration, get_version/],
      [{ id: 'r3', name: 'set_io', properties: { id: 1 } }, 'EDGE_COMMAND_INVALID', /^properties\.value: is required/],
      [{ id: 'r4', name: 'set_io', properties: { id: 1, value: 'on' } }, 'EDGE_COMMAND_INVALID', /^properties\.value: must be an integer, got "on"/],
      [{ id: 'r5', name: 'set_io', properties: { id: 1, value: 2 ** 32 } }, 'EDGE_COMMAND_INVALID', /^properties\.value: must be within 0\.\.4294967295/],
      [{ id: 'r6', name: 'get_version', properties: { force: true } }, 'EDGE_COMMAND_INVALID', /^properties\.force: get_version has no such property \(it takes none\)/],
      [{ id: 'r7', name: 'get_version', properties: [] }, 'EDGE_COMMAND_INVALID', /^properties: must be a JSON object/],
      [{ id: 'r8', name: 'set_connection', properties: { host: 'h', port: 1, protocol: 'SCTP' } }, 'EDGE_COMMAND_INVALID', /"protocol" must be "TCP" or "UDP"/],
      [{ id: 'r9', name: 'get_version', meta: big }, 'EDGE_COMMAND_INVALID', /^meta: 8\d{3} bytes exceeds the 8192-byte limit/],
      [{ id: 'r10', name: 'get_version', meta: deep as Record<string, unknown> }, 'EDGE_COMMAND_INVALID', /^meta: nesting depth 17 exceeds 16/],
      [{ id: 'r11', name: 'get_version', meta: 'ops' }, 'EDGE_COMMAND_INVALID', /^meta: must be a JSON object/],
      [{ id: 'r12', name: 'get_version', ttl: 0 }, 'EDGE_COMMAND_MALFORMED', /^ttl: must be a number of seconds/],
      [{ id: 'r13', name: 'get_version', timeout: 'soon' }, 'EDGE_COMMAND_MALFORMED', /^timeout: must be a number of seconds/],
      [{ id: 'bad id/', name: 'get_version' }, 'EDGE_COMMAND_MALFORMED', /^id: must be 1-128 characters/],
      [{ id: 'r14', name: 'get_version', priority: 1 }, 'EDGE_COMMAND_MALFORMED', /^unknown field "priority"/],
      [{ id: 'r15', name: 'get_version' }, 'EDGE_COMMAND_CHANNEL_UNKNOWN', /^channel: this server runs no such channel/, '9'],
    ];
    for (const [body, code, reason, channel] of cases) {
      const before = r.mqtt.published.length;
      await r.request(body, IMEI, channel ?? '1');
      const out = r.mqtt.published.slice(before);
      assert.equal(out.length, 1, `${JSON.stringify(body).slice(0, 60)}: one event`);
      assert.match(out[0]!.topic, /\/commands\/rejected$/);
      assert.equal(out[0]!.retain, false);
      const ev = JSON.parse(out[0]!.payload) as Record<string, unknown>;
      assert.equal(ev.code, code, `${JSON.stringify(body).slice(0, 60)}: ${String(ev.reason)}`);
      assert.match(String(ev.reason), reason);
      assert.ok('meta' in ev && 'timestamp' in ev && 'name' in ev && 'properties' in ev && 'id' in ev);
    }
    const ok = r.events('r3')[0]!.body;
    assert.deepEqual([ok.name, ok.properties], ['set_io', { id: 1 }], 'what could be read is echoed');
    assert.equal(r.events('r1')[0]!.body.meta, null);
    assert.equal(r.svc.heldFor('1', IMEI).length, 0);
    assert.equal(r.device.written.length, 0);
    assert.deepEqual(await r.store.load(), []);

    r.device.failSends = false;
    r.device.online.clear();
    await r.request({ id: 'f1', name: 'get_version' });
    await r.request({ id: 'f2', name: 'get_version' });
    await r.request({ id: 'f3', name: 'get_version', meta: { keep: true } });
    const full = r.events('f3');
    assert.deepEqual(full.map((e) => [e.status, e.body.code]), [['rejected', 'EDGE_COMMAND_QUEUE_FULL']]);
    assert.deepEqual(full[0]!.body.meta, { keep: true });
    const long = 'x'.repeat(65);
    await r.request({ id: 'i1', name: 'get_version' }, long);
    assert.equal(r.events('i1')[0]!.body.code, 'EDGE_COMMAND_CHANNEL_UNKNOWN');
  } finally {
    await r.close();
  }
});

test('restart: a reopened store gives the queue back in order with attempts; the retained entries are re-published', async () => {
  const first = await startRig();
  const ids = ['r1', 'r2', 'r3', 'r4'];
  for (const id of ids) await first.request({ id, name: 'text', properties: { text: id }, meta: { id } });
  await online(first);
  await first.request({ id: 'gone', name: 'get_version' });
  await first.cancel('gone');
  assert.deepEqual(first.svc.heldFor('1', IMEI).map((h) => [h.id, h.attempts]), [['r1', 1], ['r2', 0], ['r3', 0], ['r4', 0]]);
  await first.close(true);

  const second = await startRig({ dir: first.dir, clock: first.clock });
  try {
    assert.deepEqual(second.svc.heldFor('1', IMEI).map((h) => [h.id, h.state, h.attempts]), [['r1', 'queued', 1], ['r2', 'queued', 0], ['r3', 'queued', 0], ['r4', 'queued', 0]]);
    assert.equal(second.retained().size, 4);
    await online(second);
    for (const id of ids) {
      assert.deepEqual(second.device.written.at(-1)!.name, 'text');
      second.svc.reply('1', IMEI, { replyKey: 'ruptela:7', executed: true, response: id });
      await second.settle();
    }
    assert.deepEqual(second.events().filter((e) => e.status === 'processed').map((e) => [e.body.id, e.body.response, e.body.attempt, (e.body.meta as { id: string }).id]), [
      ['r1', 'r1', 2, 'r1'],
      ['r2', 'r2', 1, 'r2'],
      ['r3', 'r3', 1, 'r3'],
      ['r4', 'r4', 1, 'r4'],
    ]);
  } finally {
    await second.close();
  }
});

test('a reply that arrives before the write resolved still closes the command, after its "sent" event', async () => {
  const r = await startRig();
  try {
    const release: (() => void)[] = [];
    const send = r.device.send.bind(r.device);
    r.device.send = async (ch, ident, bytes) => {
      await send(ch, ident, bytes);
      await new Promise<void>((res) => release.push(res));
    };
    await r.request({ id: 'e', name: 'get_version' });
    await r.request({ id: 'f', name: 'get_version' });
    r.device.online.add(`1/${IMEI}`);
    r.svc.deviceOnline('1', IMEI);
    await until(() => release.length === 1);
    assert.deepEqual(r.svc.reply('1', IMEI, VERSION_REPLY), { id: 'e', name: 'get_version' });
    await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(statuses(r, 'e'), ['queued'], 'nothing more until the write resolved');
    release.shift()!();
    await until(() => release.length === 1);
    assert.deepEqual(statuses(r, 'e'), ['queued', 'sent', 'processed']);
    assert.equal(r.device.written.length, 2, 'the next command went out');
    release.shift()!();
  } finally {
    await r.close();
  }
});

test('complete: the runtime ends the in-flight command waiting for a reply key (a stored file) with a result; other keys, queued commands and ended ones are left alone', async () => {
  const r = await startRig();
  try {
    const tacho = { source: 'vehicle_unit', atr: '3b9a96c01031fe5d0064057b01023180900076', mask: 0, from: 1, to: 2 };
    await r.request({ id: 'f1', name: 'request_tachograph_file', properties: tacho, meta: { t: 1 } });
    assert.equal(r.svc.complete('1', IMEI, 'media:tacho', { executed: true }), null, 'a queued command (not written yet) is not ended');
    await online(r);
    assert.equal(r.svc.complete('1', IMEI, 'media:image', { executed: true }), null, 'another reply key');
    assert.equal(r.svc.complete('1', IMEI, 'ruptela:3', { executed: true }), null);
    const result = { 'file.sha256': 'ab'.repeat(32), 'file.size': 10 };
    assert.deepEqual(r.svc.complete('1', IMEI, 'media:tacho', { executed: true, response: 'x.ddd', result }), { id: 'f1', name: 'request_tachograph_file' });
    await r.settle();
    const last = r.events('f1').at(-1)!;
    assert.equal(last.status, 'processed');
    assert.equal(last.body.executed, true);
    assert.equal(last.body.response, 'x.ddd');
    assert.deepEqual(last.body.result, result);
    assert.deepEqual(last.body.meta, { t: 1 });
    assert.equal(r.svc.complete('1', IMEI, 'media:tacho', { executed: true }), null, 'ended: nothing left to complete');
    // a failure through a predicate, with its code and reason
    await r.request({ id: 'f2', name: 'request_tachograph_file', properties: tacho });
    await r.settle();
    assert.deepEqual(r.svc.complete('1', IMEI, (k) => k.startsWith('media:'), { executed: false, code: 'EDGE_RELAY_TIMEOUT', reason: 'no answer' }), { id: 'f2', name: 'request_tachograph_file' });
    await r.settle();
    const f2 = r.events('f2').at(-1)!;
    assert.deepEqual([f2.status, f2.body.executed, f2.body.code, f2.body.reason], ['processed', false, 'EDGE_RELAY_TIMEOUT', 'no answer']);
  } finally {
    await r.close();
  }
});
