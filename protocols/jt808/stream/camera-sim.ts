/**
 * A simulated JT/T 1078 camera: a clip's access units (and optional G.711 audio) in, the packets a
 * dashcam would send on its stream socket out. Pure: it returns packets and their bytes; the caller
 * owns the socket and the pacing. What a test or a demo needs to reproduce field trouble is here as
 * options: lost packets (every Nth, or a seeded random share), neighbours swapped (reordering, seeded),
 * a hang-up after K packets, a sequence number that wraps.
 *
 * Layout choices, as cameras do it: one sequence counter for the whole connection (audio and video
 * interleaved in time order; the assembler's default `seqScope: 'channel'`), bodies of at most 950
 * bytes, the marker bit on a frame's last packet, video timestamps from the frame rate, audio
 * timestamps from the sample count (G.711: one byte per sample).
 */
import { mulberry32 } from '../../../src/util/prng.js';
import { DATA_TYPE, SUBPACKAGE, payloadTypeOf } from '../../../src/video/payload-types.js';
import { encodePacket, MAX_BODY_BYTES, type SimWidth, type StreamPacket } from './packet.js';

export interface CameraSimOptions {
  /** SIM digits (left-padded with zeros to the width). */
  sim: string;
  simWidth?: SimWidth;
  channel: number;
  video?: { codec: 'h264' | 'h265'; accessUnits: ReadonlyArray<{ data: Uint8Array; keyframe: boolean }>; fps: number };
  /** G.711 audio cut into frames of `frameBytes` (default 320 = 40 ms at 8 kHz). */
  audio?: { codec: 'g711a' | 'g711u'; data: Uint8Array; sampleRate?: number; frameBytes?: number };
  startSeq?: number;
  startTimestampMs?: number;
  maxBodyBytes?: number;
  /** Packets not sent: every Nth (the Nth, 2Nth, …), or each with probability `rate` (seeded). */
  loss?: { everyNth?: number; rate?: number; seed?: number };
  /** Each packet swapped with its successor with probability `rate` (seeded): a displacement of one. */
  reorder?: { rate: number; seed: number };
  /** The camera hangs up after sending this many packets. */
  hangUpAfter?: number;
}

export interface CameraSimOutput {
  /** What was sent, in sending order. */
  packets: StreamPacket[];
  bytes: Uint8Array[];
  /** Sequence numbers generated but not sent (lost). */
  lostSeqs: number[];
  /** Packets generated in all (sent + lost + after the hang-up). */
  generated: number;
}

interface SimFrame {
  timestampMs: number;
  dataType: number;
  payloadType: number;
  data: Uint8Array;
  lastIFrameIntervalMs: number | null;
  lastFrameIntervalMs: number | null;
}

function videoFrames(v: NonNullable<CameraSimOptions['video']>, t0: number): SimFrame[] {
  const pt = payloadTypeOf(v.codec);
  let lastI = t0;
  let prev = t0;
  return v.accessUnits.map((au, i) => {
    const t = t0 + Math.round((i * 1000) / v.fps);
    if (au.keyframe) lastI = t;
    const f = { timestampMs: t, dataType: au.keyframe ? DATA_TYPE.I : DATA_TYPE.P, payloadType: pt, data: au.data, lastIFrameIntervalMs: Math.min(0xffff, t - lastI), lastFrameIntervalMs: Math.min(0xffff, t - prev) };
    prev = t;
    return f;
  });
}

function audioFrames(a: NonNullable<CameraSimOptions['audio']>, t0: number): SimFrame[] {
  const rate = a.sampleRate ?? 8000;
  const size = a.frameBytes ?? 320;
  const out: SimFrame[] = [];
  for (let at = 0; at < a.data.length; at += size) {
    out.push({ timestampMs: t0 + Math.round((at * 1000) / rate), dataType: DATA_TYPE.AUDIO, payloadType: payloadTypeOf(a.codec), data: a.data.subarray(at, at + size), lastIFrameIntervalMs: null, lastFrameIntervalMs: null });
  }
  return out;
}

/** The packets of a clip, as a camera would send them (see CameraSimOptions for the faults). */
export function simulateCamera(o: CameraSimOptions): CameraSimOutput {
  const width = o.simWidth ?? 6;
  const maxBody = o.maxBodyBytes ?? MAX_BODY_BYTES;
  const t0 = o.startTimestampMs ?? 0;
  const frames = [...(o.video ? videoFrames(o.video, t0) : []), ...(o.audio ? audioFrames(o.audio, t0) : [])];
  // time order; video before audio at the same instant (stable sort keeps the rest in input order)
  frames.sort((a, b) => a.timestampMs - b.timestampMs);
  const sim = o.sim.padStart(width * 2, '0');
  let seq = (o.startSeq ?? 0) & 0xffff;
  const all: StreamPacket[] = [];
  for (const f of frames) {
    const pieces = Math.max(1, Math.ceil(f.data.length / maxBody));
    for (let k = 0; k < pieces; k++) {
      const sub = pieces === 1 ? SUBPACKAGE.ATOMIC : k === 0 ? SUBPACKAGE.FIRST : k === pieces - 1 ? SUBPACKAGE.LAST : SUBPACKAGE.MIDDLE;
      all.push({
        version: 2,
        padding: false,
        extension: false,
        csrcCount: 1,
        marker: k === pieces - 1,
        payloadType: f.payloadType,
        seq,
        sim,
        simWidth: width,
        channel: o.channel,
        dataType: f.dataType,
        subpackage: sub,
        timestampMs: f.timestampMs,
        lastIFrameIntervalMs: f.lastIFrameIntervalMs,
        lastFrameIntervalMs: f.lastFrameIntervalMs,
        body: f.data.subarray(k * maxBody, (k + 1) * maxBody),
      });
      seq = (seq + 1) & 0xffff;
    }
  }
  const lostSeqs: number[] = [];
  const lossRandom = mulberry32(o.loss?.seed ?? 1);
  let sent = all.filter((p, i) => {
    const lost = (o.loss?.everyNth !== undefined && (i + 1) % o.loss.everyNth === 0) || (o.loss?.rate !== undefined && lossRandom() < o.loss.rate);
    if (lost) lostSeqs.push(p.seq);
    return !lost;
  });
  if (o.reorder) {
    const r = mulberry32(o.reorder.seed);
    sent = [...sent];
    for (let i = 0; i + 1 < sent.length; i++) {
      if (r() < o.reorder.rate) {
        [sent[i], sent[i + 1]] = [sent[i + 1]!, sent[i]!];
        i++; // a packet moves by one place at most
      }
    }
  }
  if (o.hangUpAfter !== undefined) sent = sent.slice(0, o.hangUpAfter);
  return { packets: sent, bytes: sent.map(encodePacket), lostSeqs, generated: all.length };
}

/** The packets as one TCP byte stream. */
export function streamBytes(out: CameraSimOutput): Uint8Array {
  const total = out.bytes.reduce((n, b) => n + b.length, 0);
  const buf = new Uint8Array(total);
  let at = 0;
  for (const b of out.bytes) {
    buf.set(b, at);
    at += b.length;
  }
  return buf;
}
