/**
 * One JT/T 1078 real-time media packet (the stream socket a camera opens after 0x9101/0x9201; no 7E
 * framing, no escaping), decoded and encoded. An RTP-like header, big-endian:
 *
 * ```
 *  30 31 63 64 | V2 P1 X1 CC4 | M1 PT7 | seq u16 | SIM BCD[6 or 10] | channel u8 | type4 subpackage4
 *  | timestamp u64 ms    (absent for transparent data, type 4)
 *  | last-I-frame interval u16 ms | last-frame interval u16 ms   (video only, types 0–2)
 *  | body length u16 (≤ 950 by the standard) | body
 * ```
 *
 * The SIM is 6 BCD bytes for 2013-style terminals and 10 for 2019-style ones, and nothing in the
 * packet says which: the width is a per-connection fact, learned once (stream-splitter.ts
 * `detectSimWidth`) or taken from the same device's JT/T 808 header version, then passed here.
 * Pure: bytes in, a plain object out (the body is a view of the input, not a copy).
 */
import { toHex, fromHex } from '../../../src/codec/hex.js';
import { ByteReader } from '../../../src/codec/byte-reader.js';
import { ByteWriter } from '../../../src/codec/byte-writer.js';
import { EdgeError } from '../../../src/errors.js';
import type { MediaStreamPacket } from '../../../src/protocol/types.js';
import { DATA_TYPE, SUBPACKAGE } from '../../../src/video/payload-types.js';

export const STREAM_MAGIC: readonly number[] = [0x30, 0x31, 0x63, 0x64];
/** The standard's largest body; the splitter refuses more, so a corrupt length cannot make the buffer grow. */
export const MAX_BODY_BYTES = 950;

export type SimWidth = 6 | 10;

export { DATA_TYPE, SUBPACKAGE, PAYLOAD_TYPES, codecOf, kindOf, type MediaCodec, type MediaKind } from '../../../src/video/payload-types.js';

/**
 * One JT/T 1078 packet: the runtime's MediaStreamPacket (what the assembler reads: seq, SIM, channel,
 * PT, data type, sub-package mark, timestamps, body) plus the header fields kept for the encode mirror.
 * `sim` keeps every digit (leading zeros too, so encode gives the same bytes); timestamps are the
 * device's milliseconds (null for transparent data), the intervals video-only.
 */
export interface StreamPacket extends MediaStreamPacket {
  /** RTP version (2 bits; 2 on every known device), padding, extension, CSRC count: kept for the mirror, not used. */
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  /** RTP marker bit: set on a frame's last packet by most devices; not relied upon. */
  marker: boolean;
  simWidth: SimWidth;
}

/** Bytes before the SIM: magic, V/P/X/CC, M/PT, seq. */
export const PRE_SIM_BYTES = 8;

/** Header bytes (body length field included) of a packet of this data type and SIM width. */
export function headerBytes(simWidth: SimWidth, dataType: number): number {
  return PRE_SIM_BYTES + simWidth + 2 + (dataType === DATA_TYPE.TRANSPARENT ? 0 : 8) + (dataType <= DATA_TYPE.B ? 4 : 0) + 2;
}

/**
 * Decodes exactly one packet (`bytes` is the whole packet). Throws EdgeError: TRUNCATED when a field
 * or the body runs past the end, INVALID for a wrong magic, a data type above 4, a sub-package mark
 * above 3, a body over `maxBodyBytes` or a timestamp beyond 2^53 ms, TRAILING for bytes after the body.
 * Offsets are from the packet start.
 */
export function decodePacket(bytes: Uint8Array, simWidth: SimWidth, maxBodyBytes = MAX_BODY_BYTES): StreamPacket {
  const r = new ByteReader(bytes);
  for (let i = 0; i < 4; i++) {
    if (r.u8('magic') !== STREAM_MAGIC[i]) throw new EdgeError('EDGE_DECODE_INVALID', 'not a JT/T 1078 stream packet (magic 30 31 63 64)', i);
  }
  const vpxcc = r.u8('V/P/X/CC');
  const mpt = r.u8('M/PT');
  const seq = r.u16('sequence number');
  const sim = toHex(r.bytes(simWidth, 'SIM'));
  const channel = r.u8('logical channel');
  const typeAt = r.offset;
  const typeByte = r.u8('data type');
  const dataType = typeByte >> 4;
  const subpackage = typeByte & 0x0f;
  if (dataType > DATA_TYPE.TRANSPARENT) throw new EdgeError('EDGE_DECODE_INVALID', `data type ${dataType} (0–4 allowed)`, typeAt);
  if (subpackage > SUBPACKAGE.MIDDLE) throw new EdgeError('EDGE_DECODE_INVALID', `sub-package mark ${subpackage} (0–3 allowed)`, typeAt);
  let timestampMs: number | null = null;
  if (dataType !== DATA_TYPE.TRANSPARENT) {
    const at = r.offset;
    const t = r.u64('timestamp');
    if (t > BigInt(Number.MAX_SAFE_INTEGER)) throw new EdgeError('EDGE_DECODE_INVALID', `timestamp ${t} ms is beyond 2^53`, at);
    timestampMs = Number(t);
  }
  let lastIFrameIntervalMs: number | null = null;
  let lastFrameIntervalMs: number | null = null;
  if (dataType <= DATA_TYPE.B) {
    lastIFrameIntervalMs = r.u16('last I-frame interval');
    lastFrameIntervalMs = r.u16('last frame interval');
  }
  const lengthAt = r.offset;
  const length = r.u16('body length');
  if (length > maxBodyBytes) throw new EdgeError('EDGE_DECODE_INVALID', `body length ${length} is over the ${maxBodyBytes}-byte limit`, lengthAt);
  const body = r.bytes(length, 'body');
  if (r.remaining > 0) throw new EdgeError('EDGE_DECODE_TRAILING', `${r.remaining} byte(s) after the body`, r.offset);
  return {
    version: vpxcc >> 6,
    padding: (vpxcc & 0x20) !== 0,
    extension: (vpxcc & 0x10) !== 0,
    csrcCount: vpxcc & 0x0f,
    marker: (mpt & 0x80) !== 0,
    payloadType: mpt & 0x7f,
    seq,
    sim,
    simWidth,
    channel,
    dataType,
    subpackage,
    timestampMs,
    lastIFrameIntervalMs,
    lastFrameIntervalMs,
    body,
  };
}

/** The wire bytes of a packet; the mirror of decodePacket. Throws RangeError on fields that cannot be written. */
export function encodePacket(p: StreamPacket): Uint8Array {
  if (p.sim.length !== p.simWidth * 2) throw new RangeError(`SIM "${p.sim}" is not ${p.simWidth * 2} hex digits`);
  if (p.body.length > 0xffff) throw new RangeError(`body of ${p.body.length} bytes does not fit its u16 length`);
  const w = new ByteWriter(headerBytes(p.simWidth, p.dataType) + p.body.length);
  w.bytes(Uint8Array.from(STREAM_MAGIC));
  w.u8(((p.version & 3) << 6) | (p.padding ? 0x20 : 0) | (p.extension ? 0x10 : 0) | (p.csrcCount & 0x0f));
  w.u8((p.marker ? 0x80 : 0) | (p.payloadType & 0x7f));
  w.u16(p.seq & 0xffff);
  w.bytes(fromHex(p.sim));
  w.u8(p.channel);
  w.u8(((p.dataType & 0x0f) << 4) | (p.subpackage & 0x0f));
  if (p.dataType !== DATA_TYPE.TRANSPARENT) w.u64(BigInt(p.timestampMs ?? 0));
  if (p.dataType <= DATA_TYPE.B) w.u16(p.lastIFrameIntervalMs ?? 0).u16(p.lastFrameIntervalMs ?? 0);
  w.u16(p.body.length);
  w.bytes(p.body);
  return w.finish();
}
