/**
 * Cost per message of automatic asset assignment, with and without rules (README "Assets"):
 *
 *   worker:      decodeFrames of Ruptela frames (12 IO per record, driver card 155/156 among them)
 *                with no watch list, with the rule's parameter, and with two parameters;
 *   crossing:    packOutcomes → structured clone through a MessagePort → unpackOutcomes, the same way;
 *   main thread: the asset service's observe + enrich per message (steady state: the card stays in,
 *                so no store write), against the alternative the design avoids: JSON.parse of every
 *                published payload to read one parameter.
 *
 *   node dist/bench/assets-bench.js [--frames 200] [--records 10] [--reps 15]
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Writable } from 'node:stream';
import { ContextCache } from '../src/pool/context-cache.js';
import { decodeFrames } from '../src/pool/decode-frames.js';
import { packOutcomes, unpackOutcomes, type PackedOutcomes } from '../src/pool/packed-outcomes.js';
import { META_FIELDS, type DecodeTask, type FrameOutcome } from '../src/pool/task-types.js';
import { getProtocol } from '../src/protocol/registry.js';
import { makeTopics } from '../src/mqtt/topics.js';
import { createLogger } from '../src/util/log.js';
import { AssetService } from '../src/assets/asset-service.js';
import type { AssetStore } from '../src/assets/asset-store.js';
import type { AssetRecord } from '../src/assets/types.js';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { machineLine } from './lib/machine.js';
import { arg, startReport } from './lib/report.js';

const FRAMES = Number(arg('frames') ?? 200);
const RECORDS = Number(arg('records') ?? 10);
const REPS = Number(arg('reps') ?? 15);
const P = 'tacho.fms.driver.id.1';
const DEVICES = 50;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** µs per message: the median over REPS of one pass over every message. */
function perMessage(messages: number, pass: () => void): number {
  pass(); // warm-up
  const t: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const a = performance.now();
    pass();
    t.push(((performance.now() - a) * 1000) / messages);
  }
  return median(t);
}

function buildTask(watch: readonly string[] | null): DecodeTask {
  const frames = Array.from({ length: FRAMES }, (_, f) => {
    const imei = 356307042440000n + BigInt(f % DEVICES);
    const d = f % DEVICES;
    // each device's own card number: "01234567" + "900000" + two digits of the device
    const card = 0x3930303030303030n + BigInt(d % 10) + (BigInt(Math.floor(d / 10)) << 8n);
    return recordsFrame(imei, Array.from({ length: RECORDS }, (_, i) => {
      const r = typicalRecord(1_700_000_000 + f * RECORDS + i, i);
      r.io8 = r.io8?.map(([id, v]) => [id, id === 156 ? card : v]);
      return r;
    }));
  });
  const total = frames.reduce((n, f) => n + f.length, 0);
  const buffer = new ArrayBuffer(total);
  const meta = new Float64Array(FRAMES * META_FIELDS);
  let off = 0;
  frames.forEach((fr, i) => {
    new Uint8Array(buffer).set(fr, off);
    meta.set([off, fr.length, i % DEVICES, 1_700_000_000_000, 1, 0], i * META_FIELDS);
    off += fr.length;
  });
  const contexts = Array.from({ length: DEVICES }, (_, c) => ({ conn: c, version: 1, peer: 'p', transport: 'tcp' as const, session: {} }));
  return { protocolId: 'ruptela', part: '', channelId: '1', options: {}, buffer, meta, contexts, watch };
}

function crossing(p: PackedOutcomes, watch: readonly string[] | null): FrameOutcome[] {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(p);
  const m = receiveMessageOnPort(port2)!.message as PackedOutcomes;
  port1.close();
  return unpackOutcomes(m, watch);
}

class MemoryStore implements AssetStore {
  private readonly m = new Map<string, AssetRecord>();
  async load(): Promise<AssetRecord[]> {
    return [...this.m.values()];
  }
  async get(id: string): Promise<AssetRecord | null> {
    return this.m.get(id) ?? null;
  }
  async put(r: AssetRecord): Promise<boolean> {
    this.m.set(r.asset.id, r);
    return true;
  }
  async delete(id: string): Promise<boolean> {
    return this.m.delete(id);
  }
  async close(): Promise<void> {}
}

async function service(withRules: boolean): Promise<AssetService> {
  const noop = () => {};
  // one driver per device, each matching the card value its records carry (steady state: held)
  const svc = new AssetService({
    store: new MemoryStore(),
    mqtt: { state: noop, clear: noop, event: noop, subscribe: async () => {} },
    topics: makeTopics('bench'),
    settings: { absence_grace_s: 60, max_intervals: 1000, max_late_s: 1e9, max_future_s: 300, max_meta_bytes: 8192 },
    declared: withRules ? Array.from({ length: 20 }, (_, i) => ({ id: `d${i}`, name: `Driver ${i}`, type: 'driver', match: { parameter: P, value: `card-${i}` } })) : [],
    log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    setWatch: noop,
  });
  await svc.start();
  return svc;
}

export async function main(): Promise<void> {
  const { machine } = startReport();
  const proto = await getProtocol('ruptela');
  const messages = FRAMES * RECORDS;
  console.log(`assets bench — ${machineLine(machine)}; ${FRAMES} frames × ${RECORDS} records (12 IO each), median of ${REPS}`);

  const rows: [string, number][] = [];
  const lists: [string, readonly string[] | null][] = [
    ['no watch list', null],
    [`watch [${P}]`, [P]],
    [`watch [${P}, ibutton.code]`, [P, 'ibutton.code']],
  ];
  let withWatch: FrameOutcome[] = [];
  for (const [label, watch] of lists) {
    const cache = new ContextCache();
    rows.push([`worker decodeFrames, ${label}`, perMessage(messages, () => void decodeFrames(proto, buildTaskCached(watch), cache))]);
    const out = decodeFrames(proto, buildTaskCached(watch), cache);
    rows.push([`pack + clone + unpack, ${label}`, perMessage(messages, () => void crossing(packOutcomes(out), watch))]);
    if (watch?.length === 1) withWatch = out;
  }

  // main thread: the outcomes of the one-parameter task, as the frame pipeline would see them
  const idents = withWatch.flatMap((o) => o.idents);
  const payloads = withWatch.flatMap((o) => o.payloads);
  const done = () => {};
  for (const withRules of [false, true]) {
    const svc = await service(withRules);
    const pass = () => {
      for (const o of withWatch) {
        const w = o.watched!;
        for (let k = 0; k < o.payloads.length; k++) {
          if (withRules) svc.observe('1', o.idents[k]!, w, k, done);
          svc.enrich('1', o.idents[k]!, w.values[k * 2] as number);
        }
      }
    };
    rows.push([`main observe + enrich, ${withRules ? '20 rules (no match: values differ)' : 'no assets'}`, perMessage(messages, pass)]);
    await svc.stop(100);
  }
  // steady state with a held asset on every device: observe finds the interval, enrich adds two fields
  {
    const values = new Map<string, string>();
    for (const o of withWatch) for (let k = 0; k < o.idents.length; k++) values.set(o.idents[k]!, o.watched!.values[k * 2 + 1] as string);
    const heldSvc = new AssetService({
      store: new MemoryStore(),
      mqtt: { state: () => {}, clear: () => {}, event: () => {}, subscribe: async () => {} },
      topics: makeTopics('bench'),
      settings: { absence_grace_s: 60, max_intervals: 1000, max_late_s: 1e9, max_future_s: 300, max_meta_bytes: 8192 },
      declared: [...values.entries()].map(([ident, v], i) => ({ id: `h${i}-${ident}`, name: `Driver ${i}`, type: 'driver', match: { parameter: P, value: v } })),
      log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
      setWatch: () => {},
    });
    await heldSvc.start();
    // open every interval first (one store write each), then measure the held path
    for (const o of withWatch) for (let k = 0; k < o.idents.length; k++) heldSvc.observe('1', o.idents[k]!, o.watched!, k, done);
    await new Promise((r) => setTimeout(r, 50));
    const pass = () => {
      for (const o of withWatch) {
        const w = o.watched!;
        for (let k = 0; k < o.payloads.length; k++) {
          heldSvc.observe('1', o.idents[k]!, w, k, done);
          heldSvc.enrich('1', o.idents[k]!, w.values[k * 2] as number);
        }
      }
    };
    rows.push([`main observe + enrich, an asset held on every device`, perMessage(messages, pass)]);
    await heldSvc.stop(100);
  }
  rows.push(['main JSON.parse of every payload (the avoided alternative)', perMessage(messages, () => {
    let n = 0;
    for (let i = 0; i < payloads.length; i++) if ((JSON.parse(payloads[i]!) as Record<string, unknown>)[P] !== undefined) n++;
    if (n < 0) console.log(idents.length);
  })]);

  const w = Math.max(...rows.map(([l]) => l.length));
  for (const [label, us] of rows) console.log(`${label.padEnd(w)}  ${us.toFixed(3)} µs/message`);
}

/** One task per watch list, decoded again on every pass (decodeFrames only reads its buffer). */
const built = new Map<string, DecodeTask>();
function buildTaskCached(watch: readonly string[] | null): DecodeTask {
  const key = JSON.stringify(watch);
  let t = built.get(key);
  if (!t) built.set(key, (t = buildTask(watch)));
  return t;
}

await main();
