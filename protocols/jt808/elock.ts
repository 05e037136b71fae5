/**
 * Vendor e-lock location reports 0x5501 (live) and 0x5502 (stored while out of coverage), sent
 * over the JT/T 808 link by JT701-style electronic locks with an 11-byte header (1-byte serial,
 * frame.ts). The body is the JT600 binary location followed by lock fields and a list of items.
 * Layout as read by Traccar's Jt808ProtocolDecoder (decodeLocation2 with Jt600's binary location),
 * cross-checked on its seven test rows (protocols/jt808/fixtures, dec-33…35, 45, 66, 69, 70):
 *
 *   time BCD DDMMYYhhmmss (UTC) | latitude BCD 8 digits DDMM.MMMM | longitude BCD 9 digits DDDMM.MMMM,
 *   its last nibble shared with the flags nibble (bit 0 fix valid, bit 1 north, bit 2 east) |
 *   speed BCD 2 digits | course u8 ×2 ° | rssi u8 | satellites u8 | odometer u32 km |
 *   battery u8 (0-100 %, 0xAA/0xAB charging) | cell id u32 | lac u16 | product u8 | status u16 |
 *   alarm u16 | items (id u8, length u8, value)
 *
 * Items whose meaning the rows show: 0x02 altitude (i16, m), 0x0B lock command (its last byte is
 * the unlock result Traccar asserts as unlockResult), 0x0C tilt (3 × i16, Traccar's "tilt"),
 * 0x10 wake-up source. Others stay raw (`item.<id>`). The speed unit is not documented in the
 * public sources [G: km/h]. The list ends tolerantly like 0x0200's (location.ts).
 */
import { EdgeError } from '../../src/errors.js';
import type { DecodeWarning, Message } from '../../src/protocol/types.js';
import { utcSeconds } from '../../src/codec/time.js';
import { i16, itemValueAt, raw, u16, u32 } from './location.js';

export const ELOCK_BASE_BYTES = 35;

export function decodeElockLocation(f: Uint8Array, at: number, end: number, ident: string, blind: boolean, warnings: DecodeWarning[]): Message {
  if (end - at < ELOCK_BASE_BYTES) throw new EdgeError('EDGE_DECODE_TRUNCATED', `an e-lock location needs ${ELOCK_BASE_BYTES} bytes, the body has ${end - at}`, at);
  const d = (i: number) => (f[at + i]! >> 4) * 10 + (f[at + i]! & 0x0f);
  const ts = utcSeconds(2000 + d(2), d(1), d(0), d(3), d(4), d(5));
  const digits = (from: number, n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const b = f[at + from + (i >> 1)]!;
      v = v * 10 + (i % 2 === 0 ? b >> 4 : b & 0x0f);
    }
    return v;
  };
  const coord = (raw: number) => Math.floor(raw / 1_000_000) + (raw % 1_000_000) / 10_000 / 60;
  const flags = f[at + 14]! & 0x0f;
  const lat = coord(digits(6, 8));
  const lon = coord(digits(10, 9));
  const m: Message = { ident, timestamp: ts, 'message.type': 'elock_location' };
  m['position.latitude'] = round6(flags & 2 ? lat : -lat);
  m['position.longitude'] = round6(flags & 4 ? lon : -lon);
  m['position.valid'] = (flags & 1) === 1;
  m['position.speed'] = d(15);
  m['position.direction'] = f[at + 16]! * 2;
  m['gsm.signal.level'] = f[at + 17]!;
  m['position.satellites'] = f[at + 18]!;
  m['vehicle.mileage'] = u32(f, at + 19);
  const battery = f[at + 23]!;
  if (battery <= 100) m['battery.level'] = battery;
  else if (battery === 0xaa || battery === 0xab) m['battery.charging.status'] = true;
  else m['elock.battery.raw'] = battery;
  m['gsm.cellid'] = u32(f, at + 24);
  m['gsm.lac'] = u16(f, at + 28);
  m['elock.product.id'] = f[at + 30]!;
  m['elock.status.flags'] = u16(f, at + 31);
  m['elock.alarm.flags'] = u16(f, at + 33);
  m['message.buffered.status'] = blind;
  let p = at + ELOCK_BASE_BYTES;
  while (p < end) {
    const v = itemValueAt(f, p, end, { warnings }, m);
    if (v < 0) break;
    const id = f[p]!;
    const len = f[p + 1]!;
    p = v + len;
    if (id === 0x02 && len === 2) m['position.altitude'] = i16(f, v);
    else if (id === 0x10 && len === 1) m['elock.wake.source'] = f[v]!;
    else if (id === 0x0c && len === 6) {
      m['elock.tilt.x'] = i16(f, v);
      m['elock.tilt.y'] = i16(f, v + 2);
      m['elock.tilt.z'] = i16(f, v + 4);
    } else {
      raw(f, id, v, len, m);
      if (id === 0x0b && len === 8) m['elock.unlock.result'] = f[v + 7]!;
    }
  }
  return m;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
