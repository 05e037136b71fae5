/**
 * Synthetic JT/T 808 traffic for the e2e bench: one terminal (12-digit phone) per simulated device,
 * a 0x0200 location (R = 1) or a 0x0704 batch of R locations, each with a typical item set
 * (mileage 0x01, signal 0x30, satellites 0x31, a 1078 video alarm word 0x14) and distinct,
 * increasing times. Built with the protocol's own frame builder (escaping and XOR included).
 */
import { stringToBcd } from '../../src/codec/bcd.js';
import { buildFrame } from '../../protocols/jt808/frame.js';
import { bcdTimeBytes } from '../../protocols/jt808/bcd-time.js';
import { TS_BASE } from './ruptela-frames.js';

/** Terminal numbers of the e2e devices (base + device index). */
export const JT808_TERMINAL_BASE = 13_800_000_000;

function location(idx: number): Uint8Array {
  const b = new Uint8Array(28 + 6 + 3 + 3 + 6);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0); // alarm
  dv.setUint32(4, 0x000c0003); // ACC on, positioned, GPS + BeiDou
  dv.setUint32(8, 31_230_416 + (idx % 1000)); // latitude 1e-6°
  dv.setUint32(12, 121_473_701 + (idx % 1000)); // longitude
  dv.setUint16(16, 12); // altitude m
  dv.setUint16(18, 600 + (idx % 200)); // speed 0.1 km/h
  dv.setUint16(20, idx % 360); // course
  b.set(bcdTimeBytes(TS_BASE + idx, 480), 22); // the decoder's default zone (GMT+8)
  b.set([0x01, 4, 0, 0, (idx >> 8) & 0xff, idx & 0xff], 28); // mileage
  b.set([0x30, 1, 25], 34); // signal
  b.set([0x31, 1, 14], 37); // satellites
  b.set([0x14, 4, 0, 0, 0, 0], 40); // video alarm word
  return b;
}

/** Frame `k` of terminal `terminal`: locations k*R .. k*R+R-1. */
export function deviceLocationFrame(terminal: number, k: number, recordsPerFrame: number): Uint8Array {
  const phone = stringToBcd(String(terminal), 6);
  const serial = k & 0xffff;
  if (recordsPerFrame === 1) return buildFrame(0x0200, phone, serial, location(k), 2013);
  const items = Array.from({ length: recordsPerFrame }, (_, j) => location(k * recordsPerFrame + j));
  const body = new Uint8Array(3 + items.reduce((n, x) => n + 2 + x.length, 0));
  body[0] = recordsPerFrame >> 8;
  body[1] = recordsPerFrame & 0xff;
  body[2] = 0; // normal batch
  let p = 3;
  for (const x of items) {
    body[p++] = x.length >> 8;
    body[p++] = x.length & 0xff;
    body.set(x, p);
    p += x.length;
  }
  return buildFrame(0x0704, phone, serial, body, 2013);
}
