/**
 * Teltonika device-frame decoder (worker side): dispatches on the frame's shape (splitter.ts) and
 * the transport.
 *
 * | Frame | Result |
 * |---|---|
 * | `ff` (TCP keep-alive) | nothing, no reply |
 * | TCP `u16 len` + IMEI digits | session ident, reply `01` |
 * | TCP data frame, Codec 8/8E/16 | one message per record, reply u32 record count (after PUBACK) |
 * | TCP data frame, Codec 12/13/14/15 | one message; 12/14 responses also complete the command in flight; no reply |
 * | UDP datagram (header + AVL data, no CRC) | one message per record, reply `0005 id 01 avl-id N` |
 * | Codec 7 (GH3000), Codec 12 camera type 0x0D | unsupported: logged, nothing published, no reply |
 *
 * Any failed check throws an EdgeError: the frame is never acknowledged and, on TCP, the device
 * sends the packet again on a new connection.
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { EdgeError } from '../../src/errors.js';
import type { DecodeContext, DecodeResult, DecodeWarning } from '../../src/protocol/types.js';
import { CODEC, GPRS_TYPE, MAX_IMEI_LEN, MIN_IMEI_LEN, PING_BYTE, TCP_HEADER_BYTES, UDP_FIXED_HEADER_BYTES } from './constants.js';
import { checkTcpFrame } from './frame.js';
import { decodeGprs } from './gprs.js';
import { IO_DICTIONARIES, type IoDictionary } from './io-names.js';
import { decodeAvlData, isAvlCodec, type AvlOptions } from './records.js';

function avlOptions(ctx: DecodeContext): AvlOptions {
  const d = ctx.options.io_dictionary;
  const dict = typeof d === 'string' && Object.hasOwn(IO_DICTIONARIES, d) ? IO_DICTIONARIES[d as IoDictionary] : IO_DICTIONARIES.fmb;
  return { dict, codec8Group16: ctx.options.codec8_16_byte_group === true };
}

/** IMEI digits; anything else cannot be an ident (it becomes an MQTT topic level). */
function readImei(r: ByteReader, len: number): string {
  const at = r.offset;
  const imei = r.ascii(len, 'IMEI');
  if (!/^\d+$/.test(imei)) throw new EdgeError('EDGE_DECODE_INVALID', `IMEI ${JSON.stringify(imei)} is not decimal digits`, at);
  return imei;
}

export function decode(frame: Uint8Array, ctx: DecodeContext): DecodeResult {
  const warnings: DecodeWarning[] = [];
  if (frame.length === 1 && frame[0] === PING_BYTE) return { messages: [], replies: [], warnings };
  if (frame.length < 2) throw new EdgeError('EDGE_FRAME_LENGTH', `frame of ${frame.length} byte(s) is no Teltonika frame`, 0);
  const short = (frame[0]! << 8) | frame[1]!;
  if (short !== 0) {
    if (short + 2 !== frame.length) throw new EdgeError('EDGE_FRAME_LENGTH', `length field ${short} announces ${short + 2} bytes, got ${frame.length}`, 0);
    return ctx.transport === 'udp' ? decodeDatagram(frame, ctx, warnings) : decodeLogin(frame, short, warnings);
  }
  if (ctx.transport === 'udp') throw new EdgeError('EDGE_DECODE_INVALID', 'a UDP datagram starts with its non-zero length, not a TCP preamble', 0);
  const len = checkTcpFrame(frame, ctx.options.lenient_crc === true, warnings);
  const ident = ctx.session.ident;
  if (typeof ident !== 'string') throw new EdgeError('EDGE_DECODE_INVALID', 'data frame before the IMEI login: the device is unknown', 0);
  const r = new ByteReader(frame, 0, TCP_HEADER_BYTES + len);
  r.skip(TCP_HEADER_BYTES, 'preamble and length');
  const codec = frame[TCP_HEADER_BYTES]!;
  if (isAvlCodec(codec)) {
    const avl = decodeAvlData(r, ident, avlOptions(ctx), warnings);
    return { messages: avl.messages, replies: [countAck(avl.count)], warnings };
  }
  if (codec === CODEC.gh3000 || (codec === CODEC.c12 && frame[TCP_HEADER_BYTES + 2] === GPRS_TYPE.camera)) {
    const what = codec === CODEC.gh3000 ? 'codec 7 (GH3000)' : 'Codec 12 camera (type 0x0D)';
    warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `teltonika ${what} is not decoded yet` });
    return { messages: [], replies: [], warnings };
  }
  const g = decodeGprs(r, ident, ctx.receivedAtMs / 1000, warnings);
  const result: DecodeResult = { messages: g.messages, replies: [], warnings };
  if (g.commandReplies.length > 0) result.commandReplies = g.commandReplies;
  return result;
}

function decodeLogin(frame: Uint8Array, len: number, warnings: DecodeWarning[]): DecodeResult {
  if (len < MIN_IMEI_LEN || len > MAX_IMEI_LEN) throw new EdgeError('EDGE_DECODE_INVALID', `IMEI length ${len} is outside ${MIN_IMEI_LEN}..${MAX_IMEI_LEN}`, 0);
  const r = new ByteReader(frame);
  r.skip(2, 'IMEI length');
  const ident = readImei(r, len);
  return { messages: [], replies: [Uint8Array.of(0x01)], session: { ident }, warnings };
}

/** `u32` record count: the TCP ACK (ref §2.3). */
function countAck(n: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, n);
}

/**
 * UDP: `len | packet id u16 | not-usable u8 | AVL packet id u8 | u16 IMEI length | IMEI | AVL data`
 * (ref §4), answered with `0005 | packet id | 01 | AVL packet id | count`. The packet id is echoed
 * as the vendor says (Traccar writes 0).
 */
function decodeDatagram(frame: Uint8Array, ctx: DecodeContext, warnings: DecodeWarning[]): DecodeResult {
  const r = new ByteReader(frame);
  r.skip(2, 'length');
  const packetId = r.u16('packet id');
  r.u8('not-usable byte');
  const avlPacketId = r.u8('AVL packet id');
  const imeiLen = r.u16('IMEI length');
  if (imeiLen < MIN_IMEI_LEN || imeiLen > MAX_IMEI_LEN) throw new EdgeError('EDGE_DECODE_INVALID', `IMEI length ${imeiLen} is outside ${MIN_IMEI_LEN}..${MAX_IMEI_LEN}`, UDP_FIXED_HEADER_BYTES - 2);
  const ident = readImei(r, imeiLen);
  const avl = decodeAvlData(r, ident, avlOptions(ctx), warnings);
  const ack = Uint8Array.of(0x00, 0x05, packetId >>> 8, packetId & 0xff, 0x01, avlPacketId, avl.count);
  return { messages: avl.messages, replies: [ack], session: { ident }, warnings };
}
