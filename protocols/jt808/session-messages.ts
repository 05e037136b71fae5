/**
 * Terminal registration 0x0100 and authentication 0x0102 (JT/T 808-2013 §8.5/§8.7, 2019 widths).
 *
 * ```
 *  0x0100 2011: province u16 | city u16 | maker[5]  | model[8]  | terminal id[7]  | plate colour u8 | plate (GBK, rest)
 *  0x0100 2013: province u16 | city u16 | maker[5]  | model[20] | terminal id[7]  | plate colour u8 | plate (GBK, rest)
 *  0x0100 2019: province u16 | city u16 | maker[11] | model[30] | terminal id[30] | plate colour u8 | plate (GBK, rest)
 *  0x0102 2013: auth code (rest)
 *  0x0102 2019: code length u8 | auth code | IMEI[15] | software version[20]
 * ```
 *
 * A 12-byte-header registration shorter than 37 bytes cannot hold the 2013 widths: it is the 2011
 * layout (model[8]), which devices still send (Traccar decoder tests dec-55, dec-89).
 *
 * The auth code (option `auth_code`, README "Session and replies"):
 *   - `issued` (default): the code in 0x8100 is the connection's random nonce (DecodeContext.nonce,
 *     drawn by the runtime: the decoder stays free of randomness), handed to the runtime with a
 *     `credential-issue` effect, which stores it per terminal durably before 0x8100 is written. A
 *     0x0102 becomes a `credential-check` effect: the runtime compares the code with the stored one
 *     and writes 0x8001 result 0 (match) or 1 (failure: no code stored, or another one).
 *   - `derived`: the code is a hash of the ident (authCodeFor), the same on every server and run, and
 *     every 0x0102 is acknowledged with result 0: recorded sessions replay byte for byte.
 */
import { toHex } from '../../src/codec/hex.js';
import type { Message, SessionState } from '../../src/protocol/types.js';
import { ByteReader } from '../../src/codec/byte-reader.js';

/** The serial of the platform's next frame (session `platformSerial`, 0 when absent or damaged). */
export function platformSerialOf(s: Readonly<SessionState>): number {
  const v = s.platformSerial;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : 0;
}

/** The code 0x8100 gives in `issued` mode: the connection's nonce; without a runtime (CLI), the derived one. */
export function issuedAuthCode(nonce: string | undefined, ident: string): string {
  return nonce !== undefined && /^[0-9a-f]{8,64}$/.test(nonce) ? nonce : authCodeFor(ident);
}

/** 0x8100 body: reply serial u16 | result u8 (0 ok) | auth code (ASCII, the rest). */
export function registrationAnswer(serial: number, code: string): Uint8Array {
  const body = new Uint8Array(3 + code.length);
  body[0] = serial >>> 8;
  body[1] = serial & 0xff;
  body[2] = 0;
  for (let i = 0; i < code.length; i++) body[3 + i] = code.charCodeAt(i) & 0x7f;
  return body;
}

/**
 * The `derived` auth code: "ec" + FNV-1a-32 of "jt808:" + ident, as 8 hex digits. Stable per
 * terminal, and no secret (JT/T 808 sends codes in clear text; any code only guards against a device
 * that skipped registration, not against an attacker).
 */
export function authCodeFor(ident: string): string {
  let h = 0x811c9dc5;
  const s = 'jt808:' + ident;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 'ec' + h.toString(16).padStart(8, '0');
}

/** Printable ASCII text (trailing NUL/space removed) under `name`, or the raw bytes as hex under `name.raw`. */
export function text(r: ByteReader, n: number, what: string, name: string, m: Message): void {
  const b = r.bytes(n, what);
  let e = b.length;
  while (e > 0 && (b[e - 1] === 0 || b[e - 1] === 0x20)) e--;
  let s = 0;
  while (s < e && (b[s] === 0 || b[s] === 0x20)) s++;
  let printable = true;
  for (let i = s; i < e; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) printable = false;
  if (printable) m[name] = String.fromCharCode(...b.subarray(s, e));
  else m[`${name}.raw`] = toHex(b, 0, e);
}

/** Smallest 2013-layout registration body (empty plate). */
const MIN_2013_REGISTRATION = 37;

export function decodeRegistration(r: ByteReader, version: 2013 | 2019, m: Message): void {
  const wide = version === 2019;
  const modelLen = wide ? 30 : r.remaining < MIN_2013_REGISTRATION ? 8 : 20;
  m['message.type'] = 'registration';
  m['vehicle.province.id'] = r.u16('province');
  m['vehicle.city.id'] = r.u16('city');
  text(r, wide ? 11 : 5, 'manufacturer id', 'device.manufacturer.id', m);
  text(r, modelLen, 'terminal model', 'device.model', m);
  text(r, wide ? 30 : 7, 'terminal id', 'device.terminal.id', m);
  m['vehicle.plate.color.enum'] = r.u8('plate colour');
  text(r, r.remaining, 'plate', 'vehicle.plate', m);
}

/** Reads 0x0102 into `m` and returns the code it presents. */
export function decodeAuthentication(r: ByteReader, version: 2013 | 2019, m: Message): string {
  m['message.type'] = 'authentication';
  let code: string;
  if (version === 2019) {
    const n = r.u8('auth code length');
    code = r.ascii(n, 'auth code');
    text(r, 15, 'IMEI', 'device.imei', m);
    text(r, 20, 'software version', 'device.firmware.version', m);
  } else code = r.ascii(r.remaining, 'auth code');
  return code;
}
