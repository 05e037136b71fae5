/**
 * The video bench's load, in its own process (so its CPU is not the server's): N simulated JT/T 1078
 * cameras on the server's jt808 channel, V live viewers each over HTTP, and D Ruptela devices on
 * another channel sending a records frame every 1/rate s and timing their ACKs (stop-and-wait).
 *
 * Glass-to-glass here is packet in → fragment out: the camera notes when it wrote the last packet
 * of frame k; the first viewer of that camera (the one whose request started it, so its fragment k
 * is frame k: one fragment per frame) notes when fragment k's moof box arrived. Same process, same
 * clock. Printed as one JSON line on stdout when done.
 *
 *   node dist/bench/lib/video-load.js '{"host":…,"jt808Port":…,"httpPort":…,"token":…,"cameras":N,"viewers":V,"codec":"h264","clip":"…","fps":15,"durationMs":…,"ruptelaPort":…,"devices":D,"rate":R}'
 */
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { DeviceFrames } from '../../protocols/jt808/attachments/device-frames.js';
import { MSG } from '../../protocols/jt808/constants.js';
import { parseCommand } from '../../protocols/jt808/encoder.js';
import { serverMessage, signIn } from '../../protocols/jt808/sim-link.js';
import { split } from '../../protocols/jt808/splitter.js';
import { simulateCamera } from '../../protocols/jt808/stream/camera-sim.js';
import { recordsFrame, typicalRecord } from '../../protocols/ruptela/device-frames.js';
import { openSimSocket } from '../../src/replay/sim-io.js';
import { splitAccessUnits } from '../../src/video/annexb.js';

interface Params {
  host: string;
  jt808Port: number;
  httpPort: number;
  token: string;
  cameras: number;
  viewers: number;
  codec: 'h264' | 'h265';
  clip: string;
  fps: number;
  durationMs: number;
  ruptelaPort: number;
  devices: number;
  rate: number;
}

const p = JSON.parse(process.argv[2]!) as Params;
const units = splitAccessUnits(p.codec, new Uint8Array(readFileSync(p.clip))).map((u) => ({ data: u.data, keyframe: u.keyframe }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const g2g: number[] = [];
const acks: number[] = [];
let stopAt = Infinity;
let viewerBytes = 0;
let viewerErrors = 0;

async function camera(i: number): Promise<void> {
  const phone = `1334${String(5000000 + i).padStart(7, '0')}`;
  const dev = new DeviceFrames({ phone, terminalId: `BCAM${i}`, version: 2013, tzOffsetMin: 480, idBytes: 16 });
  const main = await openSimSocket(p.host, p.jt808Port);
  await signIn(main, dev, 10_000);
  const sent: number[] = [];
  const viewersDone = Array.from({ length: p.viewers }, (_, v) => viewer(phone, v === 0 ? sent : null, v * 200));
  // the first viewer's request makes the server send 0x9101
  let f = await main.nextFrame(split, 20_000);
  while (f && serverMessage(f).msgId !== MSG.liveVideoRequest) f = await main.nextFrame(split, 20_000);
  if (!f) throw new Error(`camera ${i}: no 0x9101`);
  const m = serverMessage(f);
  const props = parseCommand(f).properties as Record<string, number | string>;
  main.write(dev.frame(MSG.terminalGeneralResponse, Uint8Array.of(m.serial >> 8, m.serial & 0xff, m.msgId >> 8, m.msgId & 0xff, 0)));
  const s: Socket = connect({ host: p.host, port: props.tcp_port as number, noDelay: true });
  await new Promise<void>((r) => s.once('connect', () => r()));
  let seq = 0;
  let t = 1_700_000_000_000;
  const frameMs = 1000 / p.fps;
  const t0 = performance.now();
  let k = 0;
  while (performance.now() < stopAt && !s.destroyed) {
    const out = simulateCamera({ sim: phone, channel: props.channel as number, video: { codec: p.codec, accessUnits: units, fps: p.fps }, startSeq: seq, startTimestampMs: t });
    seq = (seq + out.generated) & 0xffff;
    let j = 0;
    while (j < out.packets.length && performance.now() < stopAt) {
      const ts = out.packets[j]!.timestampMs;
      while (j < out.packets.length && out.packets[j]!.timestampMs === ts) s.write(out.bytes[j++]!);
      sent[k++] = performance.now();
      // paced on the wall clock, not by sleeps adding up
      const due = t0 + k * frameMs - performance.now();
      if (due > 0) await sleep(due);
    }
    t += units.length * frameMs;
  }
  s.destroy();
  await Promise.all(viewersDone);
  main.close();
}

/** A live viewer: reads the fragmented MP4 and (the first viewer) times each moof against its frame's send time. */
async function viewer(phone: string, sent: number[] | null, delayMs: number): Promise<void> {
  await sleep(delayMs);
  const ac = new AbortController();
  const stop = setTimeout(() => ac.abort(), Math.max(0, stopAt - performance.now()));
  try {
    const res = await fetch(`http://${p.host}:${p.httpPort}/api/v1/live/2/${phone}/1`, { headers: { authorization: `Bearer ${p.token}` }, signal: ac.signal });
    if (res.status !== 200) {
      viewerErrors++;
      return;
    }
    const reader = res.body!.getReader();
    let pending = new Uint8Array(0);
    let fragment = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      viewerBytes += value.length;
      if (!sent) continue;
      const now = performance.now();
      const buf = new Uint8Array(pending.length + value.length);
      buf.set(pending);
      buf.set(value, pending.length);
      let at = 0;
      while (buf.length - at >= 8) {
        const size = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
        const type = String.fromCharCode(buf[at + 4]!, buf[at + 5]!, buf[at + 6]!, buf[at + 7]!);
        if (type === 'moof') {
          const s = sent[fragment++];
          // the first seconds are the start-up (0x9101, connect), not the steady state
          if (s !== undefined && fragment > p.fps) g2g.push(now - s);
        }
        if (buf.length - at < size) break;
        at += size;
      }
      pending = buf.slice(at);
    }
  } catch {
    // aborted at the end of the run
  } finally {
    clearTimeout(stop);
  }
}

/** A Ruptela device: a records frame every 1/rate s, the ACK timed (stop-and-wait). */
async function device(i: number): Promise<void> {
  const imei = 863071018300000n + BigInt(i);
  const s = connect({ host: p.host, port: p.ruptelaPort, noDelay: true });
  await new Promise<void>((r) => s.once('connect', () => r()));
  let waiting: (() => void) | null = null;
  let got = 0;
  s.on('data', (b: Buffer) => {
    got += b.length;
    if (got >= 6) {
      got -= 6;
      waiting?.();
    }
  });
  const period = 1000 / p.rate;
  await sleep(Math.random() * period);
  let n = 0;
  while (performance.now() < stopAt) {
    const t = performance.now();
    const acked = new Promise<void>((r) => (waiting = r));
    s.write(recordsFrame(imei, [typicalRecord(1_735_689_300 + n++, i)]));
    await Promise.race([acked, sleep(10_000)]);
    acks.push(performance.now() - t);
    const rest = period - (performance.now() - t);
    if (rest > 0) await sleep(rest);
  }
  s.destroy();
}

function pct(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
}

async function main(): Promise<void> {
  stopAt = performance.now() + p.durationMs;
  const work = [...Array.from({ length: p.cameras }, (_, i) => camera(i)), ...Array.from({ length: p.devices }, (_, i) => device(i))];
  await Promise.all(work);
  process.stdout.write(JSON.stringify({ g2gP50: pct(g2g, 0.5), g2gP99: pct(g2g, 0.99), g2gSamples: g2g.length, ackP50: pct(acks, 0.5), ackP99: pct(acks, 0.99), acks: acks.length, viewerBytes, viewerErrors }) + '\n');
}

main().catch((e: Error) => {
  process.stderr.write(`video load failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
