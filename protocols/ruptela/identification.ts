/**
 * Identification frames, answered with 115 (ref §7.2, §7.3). Both produce one message stamped with
 * the server receive time (the payload carries no device time).
 *
 * ```
 * cmd 15, 37 bytes:
 *   type 4 ASCII | firmware 11 ASCII | IMSI u64 | operator u32 | distance coef u32
 *   | time coef u32 | angle coef u16
 * cmd 18: version u8 | count u8 | { id u8 | len u8 | value[len] } × count   (trust the wire len, V#3)
 * ```
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { toHex } from '../../src/codec/hex.js';
import { cleanText, u64Value } from '../../src/protocol/message.js';
import type { DecodeWarning, Message, MessageValue } from '../../src/protocol/types.js';

/** Text when the bytes are printable ASCII (trailing NULs ignored), else hex (e.g. V#3's type byte 0x00). */
export function textOrHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  const t = cleanText(s);
  return t.length > 0 && /^[\x20-\x7e]+$/.test(t) ? t : toHex(b);
}

function unsigned(b: Uint8Array): MessageValue {
  if (b.length > 8) return toHex(b);
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  return u64Value(v);
}

function decimal(b: Uint8Array): string {
  if (b.length > 8) return toHex(b);
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  return v.toString();
}

export function decodeIdentification(r: ByteReader, ident: string, timestamp: number, warnings: DecodeWarning[]): Message {
  const msg: Message = {
    ident,
    timestamp,
    'device.type.code': textOrHex(r.bytes(4, 'device type')),
    'firmware.version': textOrHex(r.bytes(11, 'firmware version')),
    'gsm.imsi': r.u64('IMSI').toString(),
    'gsm.operator.code': r.u32('GSM operator'),
    'config.distance.coefficient': r.u32('distance coefficient'),
    'config.time.coefficient': r.u32('time coefficient'),
    'config.angle.coefficient': r.u16('angle coefficient'),
  };
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after the 37-byte identification ignored` });
  return msg;
}

/** Dynamic identification parameter ids (ref §7.3) → name and value form. Others: `identification.<id>` hex. */
const DYNAMIC_PARAMS: ReadonlyMap<number, { name: string; form: 'text' | 'number' | 'decimal' }> = new Map([
  [1, { name: 'device.type.code', form: 'text' }],
  [2, { name: 'firmware.version', form: 'text' }],
  [3, { name: 'gsm.imsi', form: 'decimal' }],
  [4, { name: 'gsm.operator.code', form: 'number' }],
  [5, { name: 'config.distance.coefficient', form: 'number' }],
  [6, { name: 'config.time.coefficient', form: 'number' }],
  [7, { name: 'config.angle.coefficient', form: 'number' }],
  [9, { name: 'bootloader.version', form: 'text' }],
  [10, { name: 'hardware.version', form: 'text' }],
] as const);

export function decodeDynamicIdentification(r: ByteReader, ident: string, timestamp: number, warnings: DecodeWarning[]): Message {
  const msg: Message = { ident, timestamp, 'identification.version': r.u8('identification version') };
  const count = r.u8('parameter count');
  for (let i = 0; i < count; i++) {
    const id = r.u8('parameter id');
    const len = r.u8('parameter length');
    const value = r.bytes(len, `parameter ${id} value`);
    const p = DYNAMIC_PARAMS.get(id);
    if (p === undefined) msg[`identification.${id}`] = toHex(value);
    else msg[p.name] = p.form === 'text' ? textOrHex(value) : p.form === 'decimal' ? decimal(value) : unsigned(value);
  }
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after ${count} identification parameter(s) ignored` });
  return msg;
}
