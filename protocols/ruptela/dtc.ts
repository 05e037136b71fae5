/**
 * DTC records, cmd 9 (ref §7.1), answered with 109. One message per DTC record.
 *
 * ```
 * payload: count u8 | record × count
 * record (19 B): source u8 | ts u32 | lon i32 | lat i32 | status u8 | code 5 B
 *   source: 0xFF OBD (code is ASCII, e.g. "P0010"), 0x01 J1939, 0x02 J1708 (code layout [U]: hex)
 *   status: 1 current, 2 history
 * ```
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { toHex } from '../../src/codec/hex.js';
import type { DecodeWarning, Message } from '../../src/protocol/types.js';
import { textOrHex } from './identification.js';

const SOURCE_OBD = 0xff;
const NO_COORD = -0x80000000;

export function decodeDtc(r: ByteReader, ident: string, warnings: DecodeWarning[]): Message[] {
  const count = r.u8('DTC count');
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    const source = r.u8('DTC source');
    const ts = r.u32('DTC timestamp');
    const lon = r.i32('DTC longitude');
    const lat = r.i32('DTC latitude');
    const status = r.u8('DTC status');
    const code = r.bytes(5, 'DTC code');
    const msg: Message = { ident, timestamp: ts };
    if (lat !== NO_COORD && lon !== NO_COORD) {
      msg['position.latitude'] = lat / 1e7;
      msg['position.longitude'] = lon / 1e7;
    }
    msg['dtc.code'] = source === SOURCE_OBD ? textOrHex(code) : toHex(code);
    msg['dtc.source.enum'] = source;
    msg['dtc.status.enum'] = status;
    out.push(msg);
  }
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after ${count} DTC record(s) ignored` });
  return out;
}
