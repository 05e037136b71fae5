/**
 * Server frames of the remote tachograph download (ref §8.2), built and read back:
 *
 * ```
 * 110 start tacho read (V#12):  len | 6e | 02 | 0000 | company-card ATR | what-to-read u8 | from u32 | to u32 | CRC
 * 110 card answer [G]:          len | 6e | subId (3) | 0000 | response APDU (data + SW1 SW2)         | CRC
 * 111 ACK (V#37–V#41):          0004 | 6f | ack u8 (1 accept, 2 reject = the device deletes the file) | index u16 | CRC
 * ```
 *
 * The 110 frame that carries the card's answer back is not public: the reading here mirrors the
 * device's cmd 10 header (subId, two reserved bytes), the most consistent reading of the public
 * protocol document; its subId
 * is the protocol option `tacho_apdu_reply_sub_id` (README "Tachograph download").
 * The ATR has no length field: it is whatever lies between the reserved bytes and the last 9 bytes.
 */
import { EdgeError } from '../../src/errors.js';
import { SERVER_CMD } from './constants.js';
import { wrapFrame } from './frame.js';

export const TACHO_SUB_START = 2;
export const TACHO_SUB_APDU = 3;

/** What-to-read bits that select the source (ref §8.2 [S/G]); bits 3–5 are data sets of the VU read. */
export const TACHO_SOURCE_BITS = { vehicle_unit: 0x01, driver_1: 0x02, driver_2: 0x04 } as const;
export type TachoSource = keyof typeof TACHO_SOURCE_BITS;
const SOURCE_MASK = 0x07;

/** ISO 7816-3: an ATR is 2..33 bytes (TS, T0 … TCK). */
export const ATR_MIN = 2;
export const ATR_MAX = 33;

export interface TachoStart {
  source: TachoSource;
  atr: Uint8Array;
  /** The what-to-read bits other than the source bit. */
  mask: number;
  from: number;
  to: number;
}

export function startFrame(s: TachoStart): Uint8Array {
  const body = new Uint8Array(4 + s.atr.length + 9);
  const v = new DataView(body.buffer);
  body[0] = SERVER_CMD.tacho;
  body[1] = TACHO_SUB_START;
  body.set(s.atr, 4);
  let o = 4 + s.atr.length;
  body[o++] = TACHO_SOURCE_BITS[s.source] | s.mask;
  v.setUint32(o, s.from);
  v.setUint32(o + 4, s.to);
  return wrapFrame(body);
}

/** Reads the payload of a 110 sub 2 frame (after the cmd byte). Throws EDGE_DECODE_INVALID. */
export function readStart(payload: Uint8Array): TachoStart {
  const atrLen = payload.length - 3 - 9;
  if (atrLen < ATR_MIN || atrLen > ATR_MAX) throw new EdgeError('EDGE_DECODE_INVALID', `cmd 110 sub 2 leaves ${atrLen} byte(s) for the ATR (${ATR_MIN}..${ATR_MAX})`, 3);
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const wtr = payload[3 + atrLen]!;
  const sources = (Object.entries(TACHO_SOURCE_BITS) as [TachoSource, number][]).filter(([, bit]) => (wtr & bit) !== 0);
  if (sources.length !== 1) throw new EdgeError('EDGE_DECODE_INVALID', `cmd 110 what-to-read 0x${wtr.toString(16)} must select exactly one source (bit 0 VU, 1 driver 1, 2 driver 2)`, 3 + 3 + atrLen);
  return { source: sources[0]![0], atr: payload.slice(3, 3 + atrLen), mask: wtr & ~SOURCE_MASK & 0xff, from: v.getUint32(4 + atrLen), to: v.getUint32(8 + atrLen) };
}

export function apduAnswerFrame(subId: number, rapdu: Uint8Array): Uint8Array {
  const body = new Uint8Array(4 + rapdu.length);
  body[0] = SERVER_CMD.tacho;
  body[1] = subId;
  body.set(rapdu, 4);
  return wrapFrame(body);
}

export const TACHO_ACK = { accept: 1, reject: 2 } as const;

export function tachoAck(ack: number, index: number): Uint8Array {
  return wrapFrame(Uint8Array.of(SERVER_CMD.tachoAck, ack, index >>> 8, index & 0xff));
}
