/**
 * BLE lists carried as NX elements of Codec 8E (ref §6.5), flattened into `<prefix>.<n>.<field>`
 * (n from 1). Both readers return null when the bytes do not follow the layout; the caller then
 * publishes the element raw (`io.<id>` hex), so a firmware variant is never misread silently.
 */
import { toHex } from '../../src/codec/hex.js';
import type { Message } from '../../src/protocol/types.js';

const i8 = (b: number) => (b << 24) >> 24;
const i16 = (hi: number, lo: number) => (((hi << 8) | lo) << 16) >> 16;

/**
 * IO 385, "simple" beacon mode [V]: a data-part byte, then per beacon a flags byte (bit 0 RSSI,
 * bit 1 battery voltage, bit 2 temperature present; bit 5 iBeacon, else Eddystone), the id (iBeacon:
 * UUID 16 + major 2 + minor 2; Eddystone: namespace 10 + instance 6) and the fields the flags enable.
 * Temperature: whole °C as a signed 16-bit value [U: the vendor table gives no unit].
 */
export function readSimpleBeacons(v: Uint8Array, prefix: string, out: Message): boolean {
  if (v.length < 1) return false;
  const fields: Message = {};
  let p = 1;
  let n = 0;
  while (p < v.length) {
    const flags = v[p++]!;
    const ibeacon = (flags & 0x20) !== 0;
    const idLen = ibeacon ? 20 : 16;
    const need = idLen + (flags & 1 ? 1 : 0) + (flags & 2 ? 2 : 0) + (flags & 4 ? 2 : 0);
    if (p + need > v.length) return false;
    const k = `${prefix}.${++n}`;
    fields[`${k}.id`] = toHex(v, p, p + 16);
    if (ibeacon) {
      fields[`${k}.major`] = (v[p + 16]! << 8) | v[p + 17]!;
      fields[`${k}.minor`] = (v[p + 18]! << 8) | v[p + 19]!;
    }
    p += idLen;
    if (flags & 1) fields[`${k}.rssi`] = i8(v[p++]!);
    if (flags & 2) {
      fields[`${k}.battery.voltage`] = ((v[p]! << 8) | v[p + 1]!) / 1000; // mV → V
      p += 2;
    }
    if (flags & 4) {
      fields[`${k}.temperature`] = i16(v[p]!, v[p + 1]!);
      p += 2;
    }
  }
  Object.assign(out, fields);
  return true;
}

/**
 * IO 548 (advanced beacons) and the EYE sensor lists 10828/10829/10831/11317 [S: Traccar; the vendor
 * pages were not read in full]: a header byte, then per beacon `u8 length` and TLV items
 * (`u8 id`, `u8 len`, value). Unknown TLV ids are kept as `tlv.<id>` hex.
 */
export function readTlvBeacons(v: Uint8Array, prefix: string, out: Message): boolean {
  if (v.length < 1) return false;
  const fields: Message = {};
  let p = 1;
  let n = 0;
  while (p < v.length) {
    const end = p + 1 + v[p]!;
    if (end > v.length) return false;
    const k = `${prefix}.${++n}`;
    p++;
    while (p < end) {
      if (p + 2 > end) return false;
      const id = v[p]!;
      const len = v[p + 1]!;
      const at = p + 2;
      p = at + len;
      if (p > end) return false;
      if (!tlvField(v, at, len, id, k, fields)) fields[`${k}.tlv.${id}`] = toHex(v, at, at + len);
    }
  }
  Object.assign(out, fields);
  return true;
}

/** One known TLV item into `fields`; false when the id is unknown or the length is not its own. */
function tlvField(v: Uint8Array, at: number, len: number, id: number, k: string, fields: Message): boolean {
  const u8 = v[at]!;
  const u16 = len === 2 ? (v[at]! << 8) | v[at + 1]! : 0;
  switch (id) {
    case 0:
      if (len !== 1) return false;
      fields[`${k}.rssi`] = i8(u8);
      return true;
    case 1:
      fields[`${k}.id`] = toHex(v, at, at + len);
      return true;
    case 2:
      // flags byte, then the battery voltage as (mV − 2000) / 10 (Traccar's EYE reading: 0x6d → 3090 mV)
      if (len !== 2) return false;
      fields[`${k}.flags`] = u8;
      fields[`${k}.battery.voltage`] = (2000 + 10 * v[at + 1]!) / 1000;
      return true;
    case 5:
      fields[`${k}.name`] = new TextDecoder().decode(v.subarray(at, at + len));
      return true;
    case 6:
      if (len !== 2) return false;
      fields[`${k}.temperature`] = i16(v[at]!, v[at + 1]!) / 100;
      return true;
    case 7:
      if (len !== 1) return false;
      fields[`${k}.humidity`] = u8;
      return true;
    case 8:
    case 9:
    case 13:
      if (len !== 1 || u8 > 1) return false;
      fields[`${k}.${id === 8 ? 'magnet' : id === 9 ? 'movement' : 'battery.low'}.status`] = u8 === 1;
      return true;
    case 10:
      if (len !== 2) return false;
      fields[`${k}.movement.count`] = u16;
      return true;
    case 11:
      if (len !== 1) return false;
      fields[`${k}.pitch`] = i8(u8);
      return true;
    case 12:
      if (len !== 2) return false;
      fields[`${k}.roll`] = i16(v[at]!, v[at + 1]!);
      return true;
    case 14:
      if (len !== 2) return false;
      fields[`${k}.battery.voltage`] = u16 / 1000;
      return true;
    case 15:
      fields[`${k}.mac`] = toHex(v, at, at + len);
      return true;
    default:
      return false;
  }
}
