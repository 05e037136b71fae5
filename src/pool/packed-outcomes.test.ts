import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { packOutcomes, unpackOutcomes, type PackedOutcomes } from './packed-outcomes.js';
import type { FrameOutcome } from './task-types.js';

/** What a worker's answer becomes on the main thread: a structured clone through a message port. */
function throughPort(p: PackedOutcomes): PackedOutcomes {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(p);
  const m = receiveMessageOnPort(port2);
  port1.close();
  assert.ok(m, 'the message crossed');
  return m.message as PackedOutcomes;
}

/** Outcomes with replies as plain arrays, to compare bytes rather than buffer identities. */
function plain(outcomes: FrameOutcome[]): unknown[] {
  return outcomes.map((o) => ({ ...o, replies: o.replies.map((r) => [...r]) }));
}

test('packed outcomes: every frame comes back equal (messages, replies, rare fields), in order', () => {
  const outcomes: FrameOutcome[] = [
    { idents: ['a'], payloads: ['{"x":1}'], replies: [Uint8Array.of(1, 2, 3)] },
    { idents: [], payloads: [], replies: [] },
    { idents: ['b', 'b', 'b'], payloads: ['{"n":1}', '{"n":2}', '{"n":"é✓"}'], replies: [Uint8Array.of(9), Uint8Array.of(), Uint8Array.of(7, 7)], session: { ident: 'b' } },
    { idents: [], payloads: [], replies: [], error: { code: 'EDGE_DECODE_CHECKSUM', reason: 'bad crc' } },
    { idents: [], payloads: [], replies: [], contextMiss: true },
    {
      idents: ['c'], payloads: ['{}'], replies: [Uint8Array.of(0xff)], warnings: [{ code: 'EDGE_DECODE_UNKNOWN_IO', detail: 'io 9' } as never],
      commandReplies: [{ replyKey: 'k', executed: true, response: 'ok' } as never], effects: [{ kind: 'server-frame', bytes: Uint8Array.of(5) } as never],
    },
  ];
  const back = unpackOutcomes(throughPort(packOutcomes(outcomes)));
  assert.equal(back.length, outcomes.length);
  assert.deepEqual(plain(back), plain(outcomes));
  for (const o of back) for (const r of o.replies) assert.ok(r instanceof Uint8Array);
});

test('packed outcomes: frames with only messages and replies carry no per-frame objects', () => {
  const outcomes: FrameOutcome[] = Array.from({ length: 32 }, (_, i) => ({ idents: [`d${i}`], payloads: [`{"i":${i}}`], replies: [Uint8Array.of(i, 1)] }));
  const p = packOutcomes(outcomes);
  assert.equal(p.extras, null);
  assert.equal(p.replyBytes.length, 64);
  assert.deepEqual(plain(unpackOutcomes(throughPort(p))), plain(outcomes));
});

test('packed outcomes: an empty task', () => {
  assert.deepEqual(unpackOutcomes(throughPort(packOutcomes([]))), []);
});

test('packed outcomes: watched values (device time + watched names per message) come back per frame; a failed frame has none', () => {
  const names = ['tacho.fms.driver.id.1', 'ibutton.code'];
  const outcomes: FrameOutcome[] = [
    { idents: ['a', 'a'], payloads: ['{"n":1}', '{"n":2}'], replies: [], watched: { names, values: [100, 'CARD', null, 101.5, null, '01d0'] } },
    { idents: [], payloads: [], replies: [], error: { code: 'EDGE_DECODE_CHECKSUM', reason: 'bad crc' } },
    { idents: ['b'], payloads: ['{}'], replies: [], watched: { names, values: [102, null, true] } },
  ];
  const p = packOutcomes(outcomes);
  assert.deepEqual(p.watched, [100, 'CARD', null, 101.5, null, '01d0', 102, null, true]);
  const back = unpackOutcomes(throughPort(p), names);
  assert.deepEqual(back.map((o) => o.watched?.values ?? null), [[100, 'CARD', null, 101.5, null, '01d0'], null, [102, null, true]]);
  assert.equal(back[0]!.watched!.names, names, 'the names are the task\'s own list');
  assert.equal(packOutcomes([{ idents: ['a'], payloads: ['{}'], replies: [] }]).watched, null, 'no watch list: nothing extra crosses');
});
