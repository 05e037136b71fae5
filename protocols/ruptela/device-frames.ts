/**
 * Builds device→server Ruptela frames from values (synthesised, for simulators, tests and
 * benchmarks — never for fixtures of captured data). Layout per the Ruptela protocol document (ref §2, §6):
 *
 *   len u16 | imei u64 | cmd u8 | recordsLeft u8 | count u8 | record × count | crc16Kermit u16
 *   record (cmd 1):  ts u32 | tsExt u8 | prio u8 | lon i32 | lat i32 | alt i16 | angle u16 |
 *                    sats u8 | speed u16 | hdop u8 | event u8 | 4 IO groups (1/2/4/8-byte values)
 *   record (cmd 68): ts u32 | tsExt u8 | recExt u8 | prio u8 | … | event u16 | IO ids u16
 */
import { ByteWriter } from '../../src/codec/byte-writer.js';
import { crc16Kermit } from '../../src/codec/crc.js';

export interface SimRecord {
  timestamp: number;
  tsExt?: number;
  recordExtension?: number;
  priority?: number;
  latitude: number;
  longitude: number;
  altitudeM?: number;
  directionDeg?: number;
  satellites?: number;
  speedKph?: number;
  hdop?: number;
  event?: number;
  io1?: [number, number][];
  io2?: [number, number][];
  io4?: [number, number][];
  io8?: [number, bigint][];
}

/** Wraps IMEI + command + payload into a frame with length and CRC. */
export function deviceFrame(imei: bigint, cmd: number, payload: Uint8Array): Uint8Array {
  const w = new ByteWriter(payload.length + 15).u16(0).u64(imei).u8(cmd).bytes(payload);
  w.patchU16(0, w.length - 2);
  const body = w.finish();
  return new ByteWriter(body.length + 2).bytes(body).u16(crc16Kermit(body, 2)).finish();
}

export function recordsFrame(imei: bigint, records: SimRecord[], extended = false, recordsLeft = 0): Uint8Array {
  const w = new ByteWriter(64 + records.length * 64).u8(recordsLeft).u8(records.length);
  for (const r of records) {
    w.u32(r.timestamp).u8(r.tsExt ?? 0);
    if (extended) w.u8(r.recordExtension ?? 0);
    w.u8(r.priority ?? 0)
      .i32(Math.round(r.longitude * 1e7))
      .i32(Math.round(r.latitude * 1e7))
      .u16((Math.round((r.altitudeM ?? 0) * 10) + 0x10000) & 0xffff)
      .u16(Math.round((r.directionDeg ?? 0) * 100))
      .u8(r.satellites ?? 0)
      .u16(r.speedKph ?? 0)
      .u8(Math.round((r.hdop ?? 0) * 10));
    if (extended) w.u16(r.event ?? 0);
    else w.u8(r.event ?? 0);
    const id = (n: number) => {
      if (!extended && n > 255) throw new RangeError(`IO id ${n} needs extended records (cmd 68)`);
      return extended ? w.u16(n) : w.u8(n);
    };
    w.u8(r.io1?.length ?? 0);
    for (const [k, v] of r.io1 ?? []) id(k).u8(v);
    w.u8(r.io2?.length ?? 0);
    for (const [k, v] of r.io2 ?? []) id(k).u16(v);
    w.u8(r.io4?.length ?? 0);
    for (const [k, v] of r.io4 ?? []) id(k).u32(v);
    w.u8(r.io8?.length ?? 0);
    for (const [k, v] of r.io8 ?? []) id(k).u64(v);
  }
  return deviceFrame(imei, extended ? 68 : 1, w.finish());
}

/** A typical tracker record: position plus `ioCount` IO elements (distinct ids, up to 60) spread over the four groups. */
export function typicalRecord(timestamp: number, i: number, ioCount = 12): SimRecord {
  const io1: [number, number][] = [];
  const io2: [number, number][] = [];
  const io4: [number, number][] = [];
  const io8: [number, bigint][] = [];
  const ids1 = [2, 3, 4, 5, 27, 28, 173, 251, 409, 522, 88, 13];
  const ids2 = [29, 30, 22, 23, 94, 100, 116, 165];
  const ids4 = [65, 114, 175, 203, 208, 150];
  const ids8 = [34, 155, 156];
  for (let k = 0; k < ioCount; k++) {
    const g = k % 4;
    if (g === 0 && io1.length < ids1.length) io1.push([ids1[io1.length]!, (i + k) & 1]);
    else if (g === 1 && io2.length < ids2.length) io2.push([ids2[io2.length]!, 12000 + ((i * 7 + k) % 2000)]);
    else if (g === 2 && io4.length < ids4.length) io4.push([ids4[io4.length]!, 100000 + i * 13 + k]);
    else if (io8.length < ids8.length) io8.push([ids8[io8.length]!, 0x3031323334353637n + BigInt(k)]);
    else io1.push([200 + io1.length, 1]); // distinct filler ids (raw io.<id>) once the named ones are used
  }
  return {
    timestamp, latitude: 54.6872 + (i % 100) * 1e-4, longitude: 25.2797 + (i % 50) * 1e-4, altitudeM: 112.5, directionDeg: (i * 10) % 360,
    satellites: 12, speedKph: 40 + (i % 60), hdop: 0.8, event: 7, io1, io2, io4, io8,
  };
}
