/**
 * JT/T 808 frame layer shared by the decoder (device frames), parseCommand (server frames) and the
 * simulators: escaping, the XOR check byte, the 2013/2019 header, and the server-frame builder.
 *
 * ```
 *  7E | header (12 or 17 [+4]) | body (attr bits 0-9 bytes) | XOR | 7E
 *  2013 header: msgId u16 | attr u16 | phone BCD[6]                  | serial u16 [| total u16 | index u16]
 *  2019 header: msgId u16 | attr u16 | version u8 | phone BCD[10]    | serial u16 [| total u16 | index u16]
 *  attr: bits 0-9 body length, 10-12 encryption, 13 sub-packaged, 14 2019 header
 * ```
 *
 * On the wire 7E and 7D inside the frame travel as 7D 02 and 7D 01; escaping is applied after the
 * check byte is computed and covers header, body and check byte. XOR = every byte from msgId to the
 * end of the body. (Traccar Jt808FrameDecoder/Jt808FrameEncoder; Traccar frame tests fdec-2/3,
 * fenc-1/2.) Error offsets count bytes of the *un-escaped* frame, opening 7E included, because that
 * is what the header and body fields are laid out in.
 */
import { toHex } from '../../src/codec/hex.js';
import { xor8 } from '../../src/codec/crc.js';
import { EdgeError } from '../../src/errors.js';
import {
  ATTR_BODY_LEN_MASK,
  ATTR_ENCRYPTION_MASK,
  ATTR_SUBPACKAGED,
  ATTR_VERSION_2019,
  DELIM,
  ESC,
  HEADER_2013,
  HEADER_2019,
  SUBPACKAGE_FIELDS,
} from './constants.js';

/**
 * The frame with escapes removed, delimiters kept (same indices as the wire when nothing was
 * escaped: the common case returns the input itself, no copy).
 */
export function unescapeFrame(wire: Uint8Array): Uint8Array {
  if (wire.length === 0 || wire[0] !== DELIM) throw new EdgeError('EDGE_DECODE_INVALID', 'a JT/T 808 frame starts with 7E', 0);
  if (wire.length < 2 || wire[wire.length - 1] !== DELIM) throw new EdgeError('EDGE_DECODE_TRUNCATED', 'the frame has no closing 7E', wire.length);
  const last = wire.length - 1;
  let i = 1;
  while (i < last && wire[i] !== ESC) i++;
  if (i >= last) return wire;
  const out = new Uint8Array(wire.length);
  out.set(wire.subarray(0, i));
  let o = i;
  for (; i < last; i++) {
    const b = wire[i]!;
    if (b !== ESC) {
      out[o++] = b;
      continue;
    }
    const n = wire[i + 1];
    if (i + 1 >= last || (n !== 0x01 && n !== 0x02)) {
      throw new EdgeError('EDGE_DECODE_INVALID', `escape byte 7D followed by ${i + 1 >= last ? 'the closing 7E' : n!.toString(16).padStart(2, '0')}; only 7D 01 and 7D 02 exist`, o);
    }
    out[o++] = n === 0x02 ? DELIM : ESC;
    i++;
  }
  out[o++] = wire[last]!;
  return out.subarray(0, o);
}

/** 7E + escaped interior + 7E. `inner` is header + body + check byte, without delimiters. */
export function escapeInner(inner: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < inner.length; i++) if (inner[i] === DELIM || inner[i] === ESC) extra++;
  const out = new Uint8Array(inner.length + extra + 2);
  out[0] = DELIM;
  let o = 1;
  for (let i = 0; i < inner.length; i++) {
    const b = inner[i]!;
    if (b === DELIM || b === ESC) {
      out[o++] = ESC;
      out[o++] = b === DELIM ? 0x02 : 0x01;
    } else out[o++] = b;
  }
  out[o] = DELIM;
  return out;
}

export interface Header {
  msgId: number;
  attr: number;
  bodyLength: number;
  /** 2019 when attr bit 14 is set (17-byte header with a protocol-version byte and a 10-byte phone). */
  version: 2013 | 2019;
  /** The phone field as raw bytes (echoed into replies) and as lower-case hex (BCD digits). */
  phone: Uint8Array;
  phoneHex: string;
  serial: number;
  /** Sub-package fields, or null when the message is complete in this frame. */
  subpackage: { total: number; index: number } | null;
  encrypted: boolean;
  /** Vendor e-lock 0x5501/0x5502: an 11-byte header whose serial is one byte (elock.ts). */
  shortSerial: boolean;
  /** Index of the first body byte in the un-escaped frame. */
  bodyStart: number;
}

/**
 * Checks delimiters, length and check byte of an un-escaped frame and reads its header.
 * Returns the check-byte mismatch (wire, computed) instead of throwing it when `lenient`.
 */
export function readHeader(f: Uint8Array, lenient: boolean): { header: Header; checkMismatch: [number, number] | null } {
  if (f.length === 0 || f[0] !== DELIM) throw new EdgeError('EDGE_DECODE_INVALID', 'a JT/T 808 frame starts with 7E', 0);
  if (f.length < 2 || f[f.length - 1] !== DELIM) throw new EdgeError('EDGE_DECODE_TRUNCATED', 'the frame has no closing 7E', f.length);
  const checkAt = f.length - 2;
  if (f.length < 2 + HEADER_2013 + 1) throw new EdgeError('EDGE_DECODE_TRUNCATED', `${f.length - 2} byte(s) between the delimiters, a message needs at least ${HEADER_2013 + 1}`, 1);
  const msgId = (f[1]! << 8) | f[2]!;
  const attr = (f[3]! << 8) | f[4]!;
  if (msgId === 0x5501 || msgId === 0x5502) return readShortSerialHeader(f, msgId, attr, checkAt, lenient);
  const version = attr & ATTR_VERSION_2019 ? 2019 : 2013;
  const sub = (attr & ATTR_SUBPACKAGED) !== 0;
  const phoneAt = version === 2019 ? 6 : 5;
  const phoneLen = version === 2019 ? 10 : 6;
  const headerLen = (version === 2019 ? HEADER_2019 : HEADER_2013) + (sub ? SUBPACKAGE_FIELDS : 0);
  const bodyLength = attr & ATTR_BODY_LEN_MASK;
  if (1 + headerLen > checkAt) throw new EdgeError('EDGE_DECODE_TRUNCATED', `the ${headerLen}-byte header runs past the frame end`, 1);
  if (1 + headerLen + bodyLength !== checkAt) {
    throw new EdgeError('EDGE_DECODE_INVALID', `body length field ${bodyLength}, but ${checkAt - 1 - headerLen} body byte(s) lie between header and check byte`, 3);
  }
  const checkMismatch = checkXor(f, checkAt, lenient);
  const phone = f.subarray(phoneAt, phoneAt + phoneLen);
  const serialAt = phoneAt + phoneLen;
  const serial = (f[serialAt]! << 8) | f[serialAt + 1]!;
  const subpackage = sub ? { total: (f[serialAt + 2]! << 8) | f[serialAt + 3]!, index: (f[serialAt + 4]! << 8) | f[serialAt + 5]! } : null;
  return {
    header: { msgId, attr, bodyLength, version, phone, phoneHex: toHex(phone), serial, subpackage, encrypted: (attr & ATTR_ENCRYPTION_MASK) !== 0, shortSerial: false, bodyStart: 1 + headerLen },
    checkMismatch,
  };
}

/**
 * A vendor quirk known by its message id: e-lock location reports 0x5501/0x5502 (JT701-style locks,
 * Traccar's decoder test rows) carry a 1-byte serial, so the header is 11 bytes; only the body
 * length bits of the attributes are meaningful there (their upper bits are set by these devices and
 * mean neither encryption nor sub-packaging). Every other disagreement stays an error.
 */
function readShortSerialHeader(f: Uint8Array, msgId: number, attr: number, checkAt: number, lenient: boolean): { header: Header; checkMismatch: [number, number] | null } {
  const headerLen = 11;
  const bodyLength = attr & ATTR_BODY_LEN_MASK;
  if (1 + headerLen + bodyLength !== checkAt) {
    throw new EdgeError('EDGE_DECODE_INVALID', `body length field ${bodyLength}, but ${checkAt - 1 - headerLen} body byte(s) lie between the 11-byte e-lock header and the check byte`, 3);
  }
  const checkMismatch = checkXor(f, checkAt, lenient);
  const phone = f.subarray(5, 11);
  return { header: { msgId, attr, bodyLength, version: 2013, phone, phoneHex: toHex(phone), serial: f[11]!, subpackage: null, encrypted: false, shortSerial: true, bodyStart: 12 }, checkMismatch };
}

/** The XOR check byte: null when it matches; with `lenient`, [wire, computed] instead of the error. */
function checkXor(f: Uint8Array, checkAt: number, lenient: boolean): [number, number] | null {
  const computed = xor8(f, 1, checkAt);
  const wire = f[checkAt]!;
  if (computed === wire) return null;
  if (!lenient) throw new EdgeError('EDGE_DECODE_CHECKSUM', `XOR check byte ${hex2(wire)} on the wire, ${hex2(computed)} computed`, checkAt);
  return [wire, computed];
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}

/**
 * The ident of a terminal: its phone field as hex digits (BCD, so normally the phone number) without
 * leading zeros, so the 6-byte (2013) and 10-byte (2019) forms of one number give one ident.
 */
export function identFromPhone(phoneHex: string): string {
  let i = 0;
  while (i < phoneHex.length - 1 && phoneHex.charCodeAt(i) === 0x30) i++;
  return phoneHex.slice(i);
}

/** The phone field for an ident: hex digits left-padded to 6 (2013) or 10 (2019) bytes; null if it does not fit. */
export function phoneFromIdent(ident: string, version: 2013 | 2019): Uint8Array | null {
  const width = version === 2019 ? 10 : 6;
  if (!/^[0-9a-f]+$/.test(ident) || ident.length > width * 2) return null;
  const digits = ident.padStart(width * 2, '0');
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A complete wire frame: header (no sub-package) + body + XOR, escaped and delimited. */
export function buildFrame(msgId: number, phone: Uint8Array, serial: number, body: Uint8Array, version: 2013 | 2019): Uint8Array {
  const headerLen = version === 2019 ? HEADER_2019 : HEADER_2013;
  const inner = new Uint8Array(headerLen + body.length + 1);
  inner[0] = msgId >>> 8;
  inner[1] = msgId & 0xff;
  const attr = (body.length & ATTR_BODY_LEN_MASK) | (version === 2019 ? ATTR_VERSION_2019 : 0);
  inner[2] = attr >>> 8;
  inner[3] = attr & 0xff;
  let p = 4;
  if (version === 2019) inner[p++] = 1; // protocol version byte: 1 for JT/T 808-2019
  inner.set(phone, p);
  p += phone.length;
  inner[p++] = (serial >>> 8) & 0xff;
  inner[p++] = serial & 0xff;
  inner.set(body, p);
  p += body.length;
  inner[p] = xor8(inner, 0, p);
  return escapeInner(inner);
}

/**
 * The header of a message joined from sub-packages by the runtime (`reassemble` effects): the
 * joined bytes are the first part's header (from msgId, sub-package fields included, no 7E) followed
 * by every part's body in order. `bodyStart` points at the joined body; `serial` is the first part's.
 */
export function readJoinedHeader(j: Uint8Array): Header {
  if (j.length < HEADER_2013 + SUBPACKAGE_FIELDS) throw new EdgeError('EDGE_DECODE_TRUNCATED', `a joined message of ${j.length} bytes has no room for its header`, 0);
  const msgId = (j[0]! << 8) | j[1]!;
  const attr = (j[2]! << 8) | j[3]!;
  const version = attr & ATTR_VERSION_2019 ? 2019 : 2013;
  const phoneAt = version === 2019 ? 5 : 4;
  const phoneLen = version === 2019 ? 10 : 6;
  const serialAt = phoneAt + phoneLen;
  const headerLen = (version === 2019 ? HEADER_2019 : HEADER_2013) + SUBPACKAGE_FIELDS;
  if (j.length < headerLen) throw new EdgeError('EDGE_DECODE_TRUNCATED', `the ${headerLen}-byte header runs past the joined message`, 0);
  const phone = j.subarray(phoneAt, phoneAt + phoneLen);
  return {
    msgId,
    attr,
    bodyLength: j.length - headerLen,
    version,
    phone,
    phoneHex: toHex(phone),
    serial: (j[serialAt]! << 8) | j[serialAt + 1]!,
    subpackage: { total: (j[serialAt + 2]! << 8) | j[serialAt + 3]!, index: 1 },
    encrypted: (attr & ATTR_ENCRYPTION_MASK) !== 0,
    shortSerial: false,
    bodyStart: headerLen,
  };
}
