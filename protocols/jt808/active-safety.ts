/**
 * Subiao (T/JSATL12-2017, Jiangsu variant) active-safety items inside 0x0200: 0x64 ADAS, 0x65 DSM,
 * 0x66 TPMS, 0x67 BSD and 0x70 harsh driving. Layouts per the SmallChi/JT808 SuBiao extension and
 * go-jt808, which agree byte for byte; Traccar decoder test dec-108 (0x64) is the worked example.
 *
 * ```
 *  0x64 (47) alarmId u32 | flag u8 | type u8 | level u8 | frontSpeed u8 | headway u8 (0.1 s) | departure u8 | signType u8 | signValue u8 | tail
 *  0x65 (47) alarmId u32 | flag u8 | type u8 | level u8 | fatigue u8 | reserved[4]                                            | tail
 *  0x66 (41+9n) alarmId u32 | flag u8 | tail | n u8 | n × (position u8 | alarm u16 | kPa u16 | °C u16 | battery % u16)
 *  0x67 (41) alarmId u32 | flag u8 | type u8 | tail
 *  0x70 (47) alarmId u32 | flag u8 | type u8 | timeThreshold u16 | threshold1 u16 | threshold2 u16 | tail
 *  tail (35): speed u8 km/h | altitude u16 | lat u32 1e-6° | lon u32 | time BCD[6] | vehicle status u16
 *             | identification[16]: terminal id ASCII[7] | time BCD[6] | sequence u8 | attachments u8 | reserved u8
 * ```
 *
 * With option `alarm_identification_bytes` ≠ 16 (regional variants, attachments/variants.ts) the
 * identification, and so every item, is longer by the difference.
 *
 * Other vendors reuse these ids (e-lock devices send 0x66 of 11 or 29 bytes and 0x67 of 8, Traccar
 * dec-36/37/41/42), so an item is decoded only when the channel's `device_profile` is
 * `active_safety` and its length is exactly what the layout needs; otherwise it stays raw.
 */
import bp from 'binary-parser/dist/binary_parser.js';
import { toHex } from '../../src/codec/hex.js';
import { cleanText } from '../../src/protocol/message.js';
import type { Message } from '../../src/protocol/types.js';
import { identificationLayout, type IdentificationBytes } from './attachments/variants.js';
import { bcdTimeOf } from './bcd-time.js';

/** Tail before the identification: speed u8 | altitude u16 | lat u32 | lon u32 | time BCD[6] | vehicle status u16. */
const TAIL_BASIC_BYTES = 19;

const tail = new bp.Parser()
  .uint8('speed')
  .uint16be('altitude')
  .uint32be('lat')
  .uint32be('lon')
  .uint8('yy')
  .uint8('mo')
  .uint8('dd')
  .uint8('hh')
  .uint8('mi')
  .uint8('ss')
  .uint16be('vehicleStatus');

interface Tail {
  speed: number;
  altitude: number;
  lat: number;
  lon: number;
  yy: number;
  mo: number;
  dd: number;
  hh: number;
  mi: number;
  ss: number;
  vehicleStatus: number;
}

const adas = new bp.Parser()
  .uint32be('alarmId')
  .uint8('flag')
  .uint8('type')
  .uint8('level')
  .uint8('frontSpeed')
  .uint8('headway')
  .uint8('departure')
  .uint8('signType')
  .uint8('signValue')
  .nest('tail', { type: tail });
const dsm = new bp.Parser().uint32be('alarmId').uint8('flag').uint8('type').uint8('level').uint8('fatigue').skip(4).nest('tail', { type: tail });
const tpmsHead = new bp.Parser().uint32be('alarmId').uint8('flag').nest('tail', { type: tail });
const tyre = new bp.Parser().uint8('position').uint16be('alarm').uint16be('pressure').uint16be('temperature').uint16be('battery');
const bsd = new bp.Parser().uint32be('alarmId').uint8('flag').uint8('type').nest('tail', { type: tail });
const harsh = new bp.Parser()
  .uint32be('alarmId')
  .uint8('flag')
  .uint8('type')
  .uint16be('timeThreshold')
  .uint16be('threshold1')
  .uint16be('threshold2')
  .nest('tail', { type: tail });

interface Head {
  alarmId: number;
  flag: number;
  tail: Tail;
}

/** Parameter prefix per item id. */
export const ACTIVE_SAFETY_PREFIX: Readonly<Record<number, string>> = { 0x64: 'adas', 0x65: 'dsm', 0x66: 'tpms', 0x67: 'bsd', 0x70: 'harsh' };

/**
 * Whether `len` is exactly the item's layout with an identification of `idBytes` (16 in the Jiangsu
 * layouts above; the regional variants make every item longer by the difference). 0x66: 41 + 9 ×
 * count, count read from the item.
 */
export function activeSafetyFits(id: number, f: Uint8Array, at: number, len: number, idBytes: IdentificationBytes = 16): boolean {
  const extra = idBytes - 16;
  switch (id) {
    case 0x64:
    case 0x65:
    case 0x70:
      return len === 47 + extra;
    case 0x67:
      return len === 41 + extra;
    case 0x66:
      return len >= 41 + extra && len === 41 + extra + 9 * f[at + 40 + extra]!;
    default:
      return false;
  }
}

/** What the attachment upload needs from an active-safety item (alarm-server-frames.ts). */
export interface SafetyAlarm {
  /** Parameter prefix: adas, dsm, tpms, bsd, harsh. */
  source: string;
  alarmId: number;
  /** Alarm type byte (0x66 has none: null). */
  type: number | null;
  flag: number;
  /** The identification bytes verbatim (0x9208 echoes them). */
  identification: Uint8Array;
  attachments: number;
}

/**
 * Writes the item's parameters into `m`. Caller has checked activeSafetyFits. `at` is the item
 * value's offset in the un-escaped frame (for error offsets in the times).
 */
export function decodeActiveSafety(id: number, f: Uint8Array, at: number, len: number, tzOffsetMin: number, m: Message, idBytes: IdentificationBytes = 16): SafetyAlarm {
  const v = f.subarray(at, at + len);
  let type: number | null = null;
  const p = ACTIVE_SAFETY_PREFIX[id]!;
  let head: Head;
  let tailAt: number;
  switch (id) {
    case 0x64: {
      const a = adas.parse(v) as Head & { type: number; level: number; frontSpeed: number; headway: number; departure: number; signType: number; signValue: number };
      m['adas.alarm.type.enum'] = a.type;
      m['adas.alarm.level.enum'] = a.level;
      m['adas.front.vehicle.speed'] = a.frontSpeed;
      m['adas.headway.time'] = a.headway / 10;
      m['adas.lane.departure.type.enum'] = a.departure;
      m['adas.road.sign.type.enum'] = a.signType;
      m['adas.road.sign.value'] = a.signValue;
      head = a;
      type = a.type;
      tailAt = 12;
      break;
    }
    case 0x65: {
      const d = dsm.parse(v) as Head & { type: number; level: number; fatigue: number };
      m['dsm.alarm.type.enum'] = d.type;
      m['dsm.alarm.level.enum'] = d.level;
      m['dsm.fatigue.level'] = d.fatigue;
      head = d;
      type = d.type;
      tailAt = 12;
      break;
    }
    case 0x66: {
      const t = tpmsHead.parse(v) as Head;
      const tyres = 5 + TAIL_BASIC_BYTES + idBytes;
      const count = v[tyres]!;
      m['tpms.tyres.count'] = count;
      for (let i = 0; i < count; i++) {
        const y = tyre.parse(v.subarray(tyres + 1 + 9 * i, tyres + 10 + 9 * i)) as { position: number; alarm: number; pressure: number; temperature: number; battery: number };
        const q = `tpms.tyre.${i + 1}`;
        m[`${q}.position`] = y.position;
        m[`${q}.alarm.flags`] = y.alarm;
        m[`${q}.pressure`] = y.pressure;
        m[`${q}.temperature`] = y.temperature;
        m[`${q}.battery.level`] = y.battery;
      }
      head = t;
      tailAt = 5;
      break;
    }
    case 0x67: {
      const b = bsd.parse(v) as Head & { type: number };
      m['bsd.alarm.type.enum'] = b.type;
      head = b;
      type = b.type;
      tailAt = 6;
      break;
    }
    default: {
      const h = harsh.parse(v) as Head & { type: number; timeThreshold: number; threshold1: number; threshold2: number };
      m['harsh.alarm.type.enum'] = h.type;
      m['harsh.time.threshold'] = h.timeThreshold;
      m['harsh.threshold.1'] = h.threshold1;
      m['harsh.threshold.2'] = h.threshold2;
      head = h;
      type = h.type;
      tailAt = 12;
    }
  }
  m[`${p}.alarm.id`] = head.alarmId;
  m[`${p}.alarm.flag.enum`] = head.flag;
  m[`${p}.alarm.start`] = head.flag === 1;
  m[`${p}.alarm.end`] = head.flag === 2;
  const t = head.tail;
  const tAt = at + tailAt;
  m[`${p}.alarm.speed`] = t.speed;
  m[`${p}.alarm.altitude`] = t.altitude;
  m[`${p}.alarm.latitude`] = t.lat / 1e6;
  m[`${p}.alarm.longitude`] = t.lon / 1e6;
  const ts = bcdTimeOf(t.yy, t.mo, t.dd, t.hh, t.mi, t.ss, tzOffsetMin, tAt + 11);
  if (ts !== null) m[`${p}.alarm.timestamp`] = ts;
  m[`${p}.alarm.vehicle.status.flags`] = t.vehicleStatus;
  const idAt = tAt + TAIL_BASIC_BYTES;
  const identification = f.slice(idAt, idAt + idBytes);
  const layout = identificationLayout(idBytes);
  const tid = identification.subarray(0, layout.terminalIdBytes);
  m[`${p}.alarm.terminal.id`] = cleanText(String.fromCharCode(...tid));
  const i = layout.timeAt;
  const its = bcdTimeOf(identification[i]!, identification[i + 1]!, identification[i + 2]!, identification[i + 3]!, identification[i + 4]!, identification[i + 5]!, tzOffsetMin, idAt + i);
  if (its !== null) m[`${p}.alarm.identification.timestamp`] = its;
  m[`${p}.alarm.sequence`] = identification[i + 6]!;
  const attachments = identification[i + 7]!;
  m[`${p}.alarm.attachments.count`] = attachments;
  // The identification bytes verbatim: the key that 0x9208 (attachment upload) sends back.
  m[`${p}.alarm.label`] = toHex(identification);
  return { source: p, alarmId: head.alarmId, type, flag: head.flag, identification, attachments };
}
