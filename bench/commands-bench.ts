/**
 * Command queue cost: requests admitted per second (validated, durably stored, `queued` published),
 * commands delivered per second (encoded, attempt stored, written, reply matched, removal stored,
 * `processed` published), and the time to reopen a store holding many commands. The MQTT and device
 * ports are in-process fakes, so the figures are the service and its store alone.
 *
 *   node dist/bench/commands-bench.js [--devices 200] [--per-device 10] [--reopen 20000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeDevice, startRig } from '../test/support/command-fakes.js';
import { FileCommandStore } from '../src/commands/file-command-store.js';
import { machineLine } from './lib/machine.js';
import { arg, startReport } from './lib/report.js';

const devices = Number(arg('devices') ?? 200);
const perDevice = Number(arg('per-device') ?? 10);
const reopenN = Number(arg('reopen') ?? 20000);
const ident = (d: number) => String(860000000000000 + d);

async function run(fsync: boolean): Promise<{ admitPerS: number; deliverPerS: number; dir: string }> {
  const device = new FakeDevice();
  const rig = await startRig({ device, config: { fsync, max_queued_per_device: perDevice } });
  const n = devices * perDevice;
  let t = performance.now();
  for (let i = 0; i < perDevice; i++) {
    for (let d = 0; d < devices; d++) {
      rig.mqtt.inject(rig.topics.commandRequest('1', ident(d)), JSON.stringify({ name: 'set_io', properties: { id: 175, value: i }, meta: { d, i } }));
    }
  }
  await rig.settle();
  const admitS = (performance.now() - t) / 1000;
  const queued = rig.mqtt.published.filter((p) => p.topic.endsWith('/queued')).length;
  if (queued !== n) throw new Error(`only ${queued} of ${n} queued`);
  // every write is answered at once, as a device would in its next frame
  const send = device.send.bind(device);
  device.send = async (ch, id, bytes) => {
    await send(ch, id, bytes);
    setImmediate(() => rig.svc.reply(ch, id, { replyKey: 'ruptela:17', executed: true, response: 0 }));
  };
  t = performance.now();
  for (let d = 0; d < devices; d++) {
    device.online.add(`1/${ident(d)}`);
    rig.svc.deviceOnline('1', ident(d));
  }
  for (;;) {
    await rig.settle();
    if (rig.mqtt.published.filter((p) => p.topic.endsWith('/processed')).length >= n) break;
    await new Promise((r) => setImmediate(r));
  }
  const deliverS = (performance.now() - t) / 1000;
  await rig.close(true);
  return { admitPerS: n / admitS, deliverPerS: n / deliverS, dir: rig.dir };
}

async function reopen(): Promise<{ writeS: number; loadMs: number; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cmdbench-'));
  const s = new FileCommandStore({ dir, fsync: false });
  await s.load();
  const t0 = performance.now();
  const meta = JSON.stringify({ ticket: 'OPS-1234', operator: 'someone@example.org' });
  await Promise.all(
    Array.from({ length: reopenN }, (_, i) =>
      s.add({ id: `c${i}`, channelId: '1', ident: ident(i % 1000), name: 'set_io', properties: { id: 175, value: i }, meta, queuedAtMs: 0, expiresAtMs: 1, timeoutMs: 15000, attempts: 0 }),
    ),
  );
  const writeS = (performance.now() - t0) / 1000;
  const bytes = s.bytes;
  await s.close();
  const r = new FileCommandStore({ dir, fsync: false });
  const t1 = performance.now();
  const loaded = await r.load();
  const loadMs = performance.now() - t1;
  if (loaded.length !== reopenN) throw new Error(`reopened ${loaded.length} of ${reopenN}`);
  await r.close();
  rmSync(dir, { recursive: true, force: true });
  return { writeS, loadMs, bytes };
}

const { machine } = startReport();
console.log(`commands bench — ${machineLine(machine)}; ${devices} devices × ${perDevice} commands`);
for (const fsync of [true, false]) {
  const r = await run(fsync);
  rmSync(r.dir, { recursive: true, force: true });
  console.log(`fsync ${fsync ? 'on ' : 'off'}: admitted ${Math.round(r.admitPerS).toLocaleString('en-US')} requests/s, delivered ${Math.round(r.deliverPerS).toLocaleString('en-US')} commands/s`);
}
const ro = await reopen();
console.log(`store with ${reopenN.toLocaleString('en-US')} commands: ${(ro.bytes / 1024 / 1024).toFixed(1)} MB, reopened in ${ro.loadMs.toFixed(0)} ms`);
