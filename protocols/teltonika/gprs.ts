/**
 * Device frames of the GPRS command codecs (ref §5): Codec 12 responses, Codec 13 and 15 serial
 * data (RS232 TCP link mode, one-way) and Codec 14 responses. They share the TCP frame; the data
 * field is
 *
 * ```
 *  codec u8 | quantity 1 u8 | type u8 | u32 size | body (size bytes) | quantity 2 u8
 *  body  Codec 12 (type 0x06): response text
 *        Codec 13 (0x05/0x06): timestamp (u32 s, or u64 ms, see below) + data
 *        Codec 14 (0x06 / 0x11): IMEI (8 bytes, digits as hex) + response text / nothing (nACK)
 *        Codec 15 (0x0B): u32 timestamp s + IMEI (8) + data
 * ```
 *
 * None of them is acknowledged (ref §1: a stray ACK desynchronises the device's parser).
 * Responses complete the command in flight: reply keys `teltonika:12` and `teltonika:14`. They
 * become no message of their own: the runtime publishes every command reply as a message
 * (`command.response`, and `command.id` when it closed a command), which also keeps RS232 TCP-link
 * data that arrives as Codec 12 without a command (ref §5.1) from being dropped.
 */
import type { ByteReader } from '../../src/codec/byte-reader.js';
import { toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import { cleanText } from '../../src/protocol/message.js';
import type { CommandReply, DecodeWarning, Message } from '../../src/protocol/types.js';
import { CODEC, GPRS_TYPE } from './constants.js';

export interface GprsResult {
  messages: Message[];
  commandReplies: CommandReply[];
}

/** Text when every byte is printable ASCII (CR/LF/TAB allowed), else null. */
function printable(b: Uint8Array): string | null {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

/** The text (cleaned) when printable, else the bytes as hex. */
function responseOf(b: Uint8Array): string {
  const t = printable(b);
  return t === null ? toHex(b) : cleanText(t);
}

/** `<name>` = the text (cleaned) when printable, else `<name>.hex` = the bytes. */
function payloadField(m: Message, name: string, b: Uint8Array): string {
  const v = responseOf(b);
  m[printable(b) === null ? `${name}.hex` : name] = v;
  return v;
}

/** The 8-byte IMEI field of Codec 14/15: the IMEI's decimal digits read as hex, left-padded with 0. */
export function imeiField(b: Uint8Array): string {
  return toHex(b).replace(/^0+(?=\d)/, '');
}

/**
 * Codec 13 timestamp [U, ref §5.2]: Traccar reads 4 bytes of seconds; a historic wiki example had
 * 8 bytes of milliseconds. Take 8 bytes when they read as a time in 2010..2100, else 4.
 */
const MS_2010 = 1262304000000n;
const MS_2100 = 4102444800000n;
function codec13Time(r: ByteReader, size: number): number {
  if (size >= 8) {
    const v = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8).getBigUint64(0);
    if (v >= MS_2010 && v < MS_2100) {
      r.skip(8, 'timestamp');
      return Number(v) / 1000;
    }
  }
  return r.u32('timestamp');
}

/** Decodes `codec .. quantity 2` of a Codec 12/13/14/15 device frame; `r` ends after quantity 2. */
export function decodeGprs(r: ByteReader, ident: string, receivedAtS: number, warnings: DecodeWarning[]): GprsResult {
  const codec = r.u8('codec id');
  const q1 = r.u8('quantity 1');
  const typeAt = r.offset;
  const type = r.u8('type');
  const size = r.u32('size');
  if (size !== r.remaining - 1) throw new EdgeError('EDGE_DECODE_INVALID', `size field ${size} leaves ${r.remaining - 1 - size} byte(s) before quantity 2`, typeAt + 1);
  if (q1 !== 1) throw new EdgeError('EDGE_DECODE_INVALID', `quantity ${q1}: one command or response per frame is the only form published (ref §10.5)`, typeAt - 1);
  const bodyEnd = r.pos + size;
  const m: Message = { ident, timestamp: receivedAtS, 'gprs.codec.id': codec, 'gprs.message.type': type };
  const commandReplies: CommandReply[] = [];
  let messages: Message[] = [m];
  switch (codec) {
    case CODEC.c12:
      if (type !== GPRS_TYPE.response) throw unsupportedType(codec, type, typeAt);
      commandReplies.push({ replyKey: 'teltonika:12', executed: true, response: responseOf(r.bytes(size, 'response')) });
      messages = [];
      break;
    case CODEC.c13: {
      if (type !== GPRS_TYPE.command && type !== GPRS_TYPE.response) throw unsupportedType(codec, type, typeAt);
      if (size < 4) throw new EdgeError('EDGE_DECODE_TRUNCATED', `Codec 13 size ${size} leaves no room for the timestamp`, typeAt + 1);
      m.timestamp = codec13Time(r, size);
      serialData(m, r.bytes(bodyEnd - r.pos, 'serial data'));
      break;
    }
    case CODEC.c14: {
      if (type !== GPRS_TYPE.response && type !== GPRS_TYPE.imeiMismatch) throw unsupportedType(codec, type, typeAt);
      const imei = imeiField(r.bytes(8, 'IMEI field'));
      if (type === GPRS_TYPE.imeiMismatch) {
        if (r.pos !== bodyEnd) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${bodyEnd - r.pos} byte(s) after the nACK IMEI ignored` });
        r.pos = bodyEnd;
        commandReplies.push({ replyKey: 'teltonika:14', executed: false, response: `IMEI mismatch: ${imei} is not this device, the command was ignored` });
      } else {
        commandReplies.push({ replyKey: 'teltonika:14', executed: true, response: responseOf(r.bytes(bodyEnd - r.pos, 'response')) });
      }
      messages = [];
      break;
    }
    case CODEC.c15: {
      if (type !== GPRS_TYPE.serial) throw unsupportedType(codec, type, typeAt);
      m.timestamp = r.u32('timestamp');
      m['gprs.imei'] = imeiField(r.bytes(8, 'IMEI field'));
      serialData(m, r.bytes(bodyEnd - r.pos, 'serial data'));
      break;
    }
    default:
      throw new EdgeError('EDGE_DECODE_INVALID', `codec 0x${codec.toString(16)} is not a GPRS command codec`, typeAt - 2);
  }
  const q2 = r.u8('quantity 2');
  if (q2 !== q1) throw new EdgeError('EDGE_DECODE_INVALID', `quantity 2 (${q2}) differs from quantity 1 (${q1})`, r.offset - 1);
  return { messages, commandReplies };
}

/**
 * RS232 TCP-link data: text as `serial.data`, binary as `serial.data.hex`. A GTSL driver
 * registration line (`GTSL|…|<driver id>|…`, a tachograph/RFID reader format Traccar reads) also
 * gives `driver.id`, a parameter assets can match.
 */
function serialData(m: Message, b: Uint8Array): void {
  const t = payloadField(m, 'serial.data', b);
  if (typeof m['serial.data'] === 'string' && t.startsWith('GTSL|')) {
    const id = t.split('|')[4];
    if (id !== undefined && /^[\x21-\x7e]+$/.test(id)) m['driver.id'] = id;
  }
}

function unsupportedType(codec: number, type: number, at: number): EdgeError {
  return new EdgeError('EDGE_DECODE_INVALID', `codec 0x${codec.toString(16)} from a device does not carry type 0x${type.toString(16)}`, at);
}
