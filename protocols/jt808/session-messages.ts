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
 * The auth code a terminal receives in 0x8100 is derived from its ident (see authCodeFor), so the
 * decoder stays pure and the code survives restarts and reconnects without a store.
 */
import { toHex } from '../../src/codec/hex.js';
import type { Message } from '../../src/protocol/types.js';
import { ByteReader } from '../../src/codec/byte-reader.js';

/**
 * The auth code for a terminal: "ec" + FNV-1a-32 of "jt808:" + ident, as 8 hex digits. Stable per
 * terminal, and no secret: JT/T 808 sends the code in clear text, so it only guards against a
 * device that skipped registration, not against an attacker.
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
function text(r: ByteReader, n: number, what: string, name: string, m: Message): void {
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

export function decodeAuthentication(r: ByteReader, version: 2013 | 2019, ident: string, m: Message): void {
  m['message.type'] = 'authentication';
  let code: string;
  if (version === 2019) {
    const n = r.u8('auth code length');
    code = r.ascii(n, 'auth code');
    text(r, 15, 'IMEI', 'device.imei', m);
    text(r, 20, 'software version', 'device.firmware.version', m);
  } else code = r.ascii(r.remaining, 'auth code');
  m['auth.code.valid'] = code === authCodeFor(ident);
}
