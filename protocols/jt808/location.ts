/**
 * 0x0200 location report body (also each 0x0704 item, and the location inside 0x0801):
 *
 * ```
 *  basic block (28, basic-block.ts) | item* : id u8 | len u8 | value[len]
 * ```
 *
 * The basic block gives position (status bit 2 = south, bit 3 = west), alarm and status bits and
 * the BCD time. Items are read by their own length, never by an assumed size: a known id whose
 * length is not its layout's is published raw with a warning. Names are listed in README.md.
 */
import { toHex } from '../../src/codec/hex.js';
import type { DecodeWarning, Message } from '../../src/protocol/types.js';
import { activeSafetyFits, decodeActiveSafety, type SafetyAlarm } from './active-safety.js';
import { BASIC_BLOCK_BYTES, readBasicByHand, type BasicBlockReader } from './basic-block.js';
import { bcdTimeOf } from './bcd-time.js';
import { ABNORMAL_DRIVING_BITS, VIDEO_ALARM_BITS } from './bit-names.js';
import type { Jt808Options } from './constants.js';

export interface LocationContext {
  ident: string;
  receivedAtS: number;
  options: Jt808Options;
  warnings: DecodeWarning[];
  /** When set, the active-safety alarms of the body are collected here (attachment upload, alarm-server-frames.ts). */
  alarms?: SafetyAlarm[];
  /** Which basic-block reader to use (the bench swaps it; see basic-block.ts). */
  readBasic?: BasicBlockReader;
}

/** Reader used by the decoder; README.md "binary-parser" gives the bench figure behind the choice. */
const DEFAULT_READER = readBasicByHand;

/**
 * Basic block + timestamp into a new message. One object literal with every name written out
 * (bit meanings: JT/T 808-2013 alarm and status tables, README "Message names"): V8 builds it from
 * one boilerplate with a stable shape, where adding ~55 keys one by one from a table profiled as
 * most of the decode and left a dictionary-mode object that JSON.stringify walked slowly.
 * Reserved bits (alarm 15–17, status 6–7, 22–31) stay visible in the raw words only.
 */
export function decodeBasic(f: Uint8Array, at: number, end: number, c: LocationContext): Message {
  const b = (c.readBasic ?? DEFAULT_READER)(f, at, end);
  const ts = bcdTimeOf(b.yy, b.mo, b.dd, b.hh, b.mi, b.ss, c.options.timezone_offset_minutes, at + 22);
  const a = b.alarm;
  const s = b.status;
  return {
    ident: c.ident,
    timestamp: ts ?? c.receivedAtS,
    'position.latitude': s & 0x4 ? -(b.lat / 1e6) : b.lat / 1e6,
    'position.longitude': s & 0x8 ? -(b.lon / 1e6) : b.lon / 1e6,
    'position.altitude': b.altitude,
    'position.speed': b.speed / 10,
    'position.direction': b.course,
    'alarm.flags': a,
    'status.flags': s,
    'alarm.emergency.status': (a & 0x1) !== 0,
    'alarm.overspeed.status': (a & 0x2) !== 0,
    'alarm.fatigue.status': (a & 0x4) !== 0,
    'alarm.danger.warning.status': (a & 0x8) !== 0,
    'alarm.gnss.fault.status': (a & 0x10) !== 0,
    'alarm.gnss.antenna.disconnected.status': (a & 0x20) !== 0,
    'alarm.gnss.antenna.short.status': (a & 0x40) !== 0,
    'alarm.power.low.status': (a & 0x80) !== 0,
    'alarm.power.off.status': (a & 0x100) !== 0,
    'alarm.display.fault.status': (a & 0x200) !== 0,
    'alarm.tts.fault.status': (a & 0x400) !== 0,
    'alarm.camera.fault.status': (a & 0x800) !== 0,
    'alarm.ic.card.fault.status': (a & 0x1000) !== 0,
    'alarm.overspeed.warning.status': (a & 0x2000) !== 0,
    'alarm.fatigue.warning.status': (a & 0x4000) !== 0,
    'alarm.driving.time.exceeded.status': (a & 0x40000) !== 0,
    'alarm.parking.overtime.status': (a & 0x80000) !== 0,
    'alarm.geofence.area.status': (a & 0x100000) !== 0,
    'alarm.geofence.route.status': (a & 0x200000) !== 0,
    'alarm.route.time.status': (a & 0x400000) !== 0,
    'alarm.route.deviation.status': (a & 0x800000) !== 0,
    'alarm.vss.fault.status': (a & 0x1000000) !== 0,
    'alarm.fuel.abnormal.status': (a & 0x2000000) !== 0,
    'alarm.theft.status': (a & 0x4000000) !== 0,
    'alarm.ignition.illegal.status': (a & 0x8000000) !== 0,
    'alarm.movement.illegal.status': (a & 0x10000000) !== 0,
    'alarm.collision.status': (a & 0x20000000) !== 0,
    'alarm.rollover.status': (a & 0x40000000) !== 0,
    'alarm.door.illegal.status': (a & 0x80000000) !== 0,
    'engine.ignition.status': (s & 0x1) !== 0,
    'position.valid': (s & 0x2) !== 0,
    'vehicle.out_of_service.status': (s & 0x10) !== 0,
    'position.encrypted.status': (s & 0x20) !== 0,
    'fuel.circuit.cut.status': (s & 0x400) !== 0,
    'electric.circuit.cut.status': (s & 0x800) !== 0,
    'door.locked.status': (s & 0x1000) !== 0,
    'door.1.open.status': (s & 0x2000) !== 0,
    'door.2.open.status': (s & 0x4000) !== 0,
    'door.3.open.status': (s & 0x8000) !== 0,
    'door.4.open.status': (s & 0x10000) !== 0,
    'door.5.open.status': (s & 0x20000) !== 0,
    'gnss.gps.status': (s & 0x40000) !== 0,
    'gnss.beidou.status': (s & 0x80000) !== 0,
    'gnss.glonass.status': (s & 0x100000) !== 0,
    'gnss.galileo.status': (s & 0x200000) !== 0,
    'vehicle.load.enum': (s >>> 8) & 3,
  };
}

/** A whole location body (basic block + items) between `at` and `end`. */
export function decodeLocation(f: Uint8Array, at: number, end: number, c: LocationContext): Message {
  const m = decodeBasic(f, at, end, c);
  decodeItems(f, at + BASIC_BLOCK_BYTES, end, c, m);
  return m;
}

export const u16 = (f: Uint8Array, p: number) => (f[p]! << 8) | f[p + 1]!;
export const i16 = (f: Uint8Array, p: number) => (u16(f, p) << 16) >> 16;
export const u32 = (f: Uint8Array, p: number) => ((f[p]! << 24) | (f[p + 1]! << 16) | (f[p + 2]! << 8) | f[p + 3]!) >>> 0;

/** Fixed lengths of the standard and JT/T 1078 items this module names (0x11 is 1 or 5). */
const ITEM_LENGTH: Readonly<Record<number, number>> = {
  0x01: 4,
  0x02: 2,
  0x03: 2,
  0x04: 2,
  0x12: 6,
  0x13: 7,
  0x14: 4,
  0x15: 4,
  0x16: 4,
  0x17: 2,
  0x18: 3,
  0x25: 4,
  0x2a: 2,
  0x2b: 4,
  0x30: 1,
  0x31: 1,
};

export function raw(f: Uint8Array, id: number, p: number, len: number, m: Message): void {
  m[`item.${id.toString(16).padStart(2, '0')}`] = toHex(f, p, p + len);
}

export function decodeItems(f: Uint8Array, at: number, end: number, c: LocationContext, m: Message): void {
  let p = at;
  while (p < end) {
    if (f[p] === 0 && zeroTo(f, p, end)) {
      // Zero padding after the last item (Traccar dec-64): no item has id 0, so nothing is lost.
      c.warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${end - p} zero byte(s) of padding after the additional items ignored` });
      return;
    }
    const v = itemValueAt(f, p, end, c, m);
    if (v < 0) return;
    const id = f[p]!;
    const len = f[p + 1]!;
    p = v + len;
    if (id >= 0x64 && id <= 0x70 && (id <= 0x67 || id === 0x70)) {
      const idBytes = c.options.alarm_identification_bytes;
      if (c.options.device_profile === 'active_safety' && activeSafetyFits(id, f, v, len, idBytes)) {
        const alarm = decodeActiveSafety(id, f, v, len, c.options.timezone_offset_minutes, m, idBytes);
        c.alarms?.push(alarm);
      } else raw(f, id, v, len, m);
      continue;
    }
    if (id === 0x11) {
      if (len !== 1 && len !== 5) {
        lengthWarning(id, len, '1 or 5', c);
        raw(f, id, v, len, m);
        continue;
      }
      m['overspeed.location.type.enum'] = f[v]!;
      if (len === 5) m['overspeed.area.id'] = u32(f, v + 1);
      continue;
    }
    const want = ITEM_LENGTH[id];
    if (want === undefined) {
      raw(f, id, v, len, m);
      continue;
    }
    if (len !== want) {
      lengthWarning(id, len, String(want), c);
      raw(f, id, v, len, m);
      continue;
    }
    switch (id) {
      case 0x01:
        m['vehicle.mileage'] = u32(f, v) / 10;
        break;
      case 0x02:
        m['fuel.volume'] = u16(f, v) / 10;
        break;
      case 0x03:
        m['tachograph.speed'] = u16(f, v) / 10;
        break;
      case 0x04:
        m['alarm.confirm.event.id'] = u16(f, v);
        break;
      case 0x12:
        m['geofence.location.type.enum'] = f[v]!;
        m['geofence.id'] = u32(f, v + 1);
        m['geofence.exit.status'] = f[v + 5] === 1;
        break;
      case 0x13:
        m['route.segment.id'] = u32(f, v);
        m['route.segment.time'] = u16(f, v + 4);
        m['route.segment.time.excess.status'] = f[v + 6] === 1;
        break;
      case 0x14: {
        const a = u32(f, v);
        m['video.alarm.flags'] = a;
        for (const [bit, name] of VIDEO_ALARM_BITS) m[name] = ((a >>> bit) & 1) === 1;
        break;
      }
      case 0x15:
        m['video.signal.loss.channels'] = u32(f, v);
        break;
      case 0x16:
        m['video.occlusion.channels'] = u32(f, v);
        break;
      case 0x17:
        m['video.storage.fault.flags'] = u16(f, v);
        break;
      case 0x18: {
        const t = u16(f, v);
        m['driver.abnormal.flags'] = t;
        for (const [bit, name] of ABNORMAL_DRIVING_BITS) m[name] = ((t >>> bit) & 1) === 1;
        m['driver.fatigue.level'] = f[v + 2]!;
        break;
      }
      case 0x25:
        m['vehicle.signal.flags'] = u32(f, v);
        break;
      case 0x2a:
        m['io.status.flags'] = u16(f, v);
        break;
      case 0x2b:
        m['ain.0'] = u16(f, v + 2);
        m['ain.1'] = u16(f, v);
        break;
      case 0x30:
        m['gsm.signal.level'] = f[v]!;
        break;
      default: // 0x31
        m['position.satellites'] = f[v]!;
    }
  }
}

/**
 * Strict framing, tolerant items: the frame already passed its XOR and length checks, so a list of
 * optional items that ends badly (a stray byte, an item overrunning the body) must not cost the base
 * block and the items before it. A refused location is worse than a missing field: the terminal gets
 * no general response, resends it forever and its black-box backlog stops behind it. The bytes are
 * kept as `jt808.unparsed.hex` (with their frame offset) and a warning says where they began.
 */
function unparsedTail(f: Uint8Array, p: number, end: number, why: string, c: { warnings: DecodeWarning[] }, m: Message): void {
  m['jt808.unparsed.hex'] = toHex(f, p, end);
  m['jt808.unparsed.offset'] = p;
  c.warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${end - p} byte(s) of additional items not parsed from frame offset ${p} (${why}): kept as jt808.unparsed.hex` });
}

/**
 * Where the value of the additional item at `p` (id u8, length u8 = f[p], f[p + 1]) starts, or -1
 * when the list ends badly there: then the rest is recorded by unparsedTail and the caller stops.
 * One walk for every item list (0x0200, 0x0704 entries, the e-lock items of elock.ts); a number,
 * not an object, because it runs for every item of every location.
 */
export function itemValueAt(f: Uint8Array, p: number, end: number, c: { warnings: DecodeWarning[] }, m: Message): number {
  if (p + 2 > end) {
    unparsedTail(f, p, end, 'a stray byte where an item header needs 2', c, m);
    return -1;
  }
  const v = p + 2;
  if (v + f[p + 1]! > end) {
    unparsedTail(f, p, end, `item 0x${f[p]!.toString(16).padStart(2, '0')} announces ${f[p + 1]!} bytes, ${end - v} left`, c, m);
    return -1;
  }
  return v;
}

function zeroTo(f: Uint8Array, p: number, end: number): boolean {
  for (let i = p; i < end; i++) if (f[i] !== 0) return false;
  return true;
}

function lengthWarning(id: number, len: number, want: string, c: LocationContext): void {
  c.warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `additional item 0x${id.toString(16).padStart(2, '0')} has ${len} byte(s), its layout has ${want}: published raw` });
}
