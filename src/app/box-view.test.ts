import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxInstance, boxReadiness, mergeChannels, mergeDeviceLists, newestPayload, type ChannelView, type DeviceRow, type OwnAnswers } from './box-view.js';
import type { Runtime } from './runtime.js';

const view = (id: number, connections: number, frames: number, paused: string[] = []): ChannelView => ({ id, protocol: 'ruptela', tcp_port: 5000 + id, udp_port: null, connections, reading_paused: paused, counters: { frames, 'udp.overload.drops': 0 } });

test("channels of several processes: connections and counters summed by channel, pause reasons joined, each process's view untouched", () => {
  const p0 = [view(1, 3, 30), view(2, 1, 5, ['spool'])];
  const p1 = [view(1, 4, 41, ['spool']), view(2, 0, 0, ['spool', 'pool'])];
  const merged = mergeChannels([p0, p1]);
  assert.deepEqual(merged, [
    { ...view(1, 7, 71), reading_paused: ['spool'] },
    { ...view(2, 1, 5), reading_paused: ['spool', 'pool'] },
  ]);
  assert.deepEqual(p0[0], view(1, 3, 30), 'the inputs are not changed');
  assert.deepEqual(mergeChannels([p0]), p0, 'one process: its own view');
});

test("devices of several processes: one row per device with the newest message, newest first, limited; the total counts distinct devices", () => {
  const row = (ident: string, at: number | null): DeviceRow => ({ ident, last: at === null ? null : `{"ident":"${ident}","server.timestamp":${at}}`, at });
  const p0 = { idents: ['a', 'b', 'c', 'x'], rows: [row('a', 30), row('b', 20), row('c', null)] };
  // b moved to process 1 and sent a newer message there; d is only there
  const p1 = { idents: ['b', 'd'], rows: [row('b', 40), row('d', 10)] };
  const m = mergeDeviceLists([p0, null, p1], 3);
  assert.deepEqual(m.rows.map((r) => [r.ident, r.at]), [['b', 40], ['a', 30], ['d', 10]]);
  assert.deepEqual(m.idents.sort(), ['a', 'b', 'c', 'd', 'x']);
});

test("a device's latest message of several processes: the one with the newest server time", () => {
  const p = (ident: string, at: number) => `{"ident":"${ident}","text":"\\"server.timestamp\\":9e9","server.timestamp":${at},"channel.id":1}`;
  assert.equal(newestPayload([null, p('a', 10), p('a', 30), p('a', 20)]), p('a', 30));
  assert.equal(newestPayload([null, null]), null);
  assert.equal(newestPayload([]), null);
});

test('the instance view: alone, the process itself; of several without a primary to ask, not ready and saying why, never an error', async () => {
  const self = { instance_id: 'edge-p0', ready: true, reasons: [], mqtt_connected: true };
  const own = { instance: () => ({ ...self }) } as unknown as OwnAnswers;
  const rt = (count: number) => ({ process: { index: 0, count } }) as unknown as Runtime;
  assert.deepEqual(await boxInstance(rt(1), own), self);
  // this test process has no primary: process 0 cannot ask the others
  const v = await boxInstance(rt(2), own);
  assert.equal(v.instance_id, 'edge-p0');
  assert.equal(v.ready, false);
  assert.match(v.reasons.join(), /the other processes cannot be asked: .*primary/);
  assert.deepEqual(v.instances, [{ index: 0, ...self }]);
  // /readyz says the same, in its own shape
  assert.deepEqual(await boxReadiness(rt(1), own), { ready: true, reasons: [] });
  assert.deepEqual(await boxReadiness(rt(2), own), { ready: false, reasons: v.reasons });
});
