/**
 * Synthetic Ruptela traffic for the load benches: one IMEI per simulated device, frames of R
 * typical records (12 IO elements, the size of a common tracker configuration) with distinct,
 * increasing timestamps so every record can be counted on the subscriber side.
 */
import { recordsFrame, typicalRecord, type SimRecord } from '../../protocols/ruptela/device-frames.js';
import { fromHex } from '../../src/codec/hex.js';

/** The records ACK the server writes after PUBACK (cmd 100, ref V#27). */
export const RECORDS_ACK: Uint8Array = fromHex('0002640113bc');

/** Base timestamp of generated records (2025-01-01T00:00:00Z). */
export const TS_BASE = 1_735_689_600;

export const IMEI = {
  /** e2e / connections devices. */
  load: 350_000_000_000_000,
  /** after-load storm devices. */
  storm: 360_000_000_000_000,
  /** after-load live devices. */
  live: 370_000_000_000_000,
} as const;

/**
 * Frame `k` of device `imei`: records k*R .. k*R+R-1, timestamps TS_BASE + index.
 * ioCount <= 24 (typicalRecord repeats ids beyond that).
 */
export function deviceRecordsFrame(imei: number, k: number, recordsPerFrame: number, ioCount = 12, extended = false): Uint8Array {
  return recordsRangeFrame(imei, k * recordsPerFrame, recordsPerFrame, ioCount, extended);
}

/** A frame of records first .. first+n-1 of device `imei`. */
export function recordsRangeFrame(imei: number, first: number, n: number, ioCount = 12, extended = false): Uint8Array {
  const recs: SimRecord[] = [];
  for (let idx = first; idx < first + n; idx++) recs.push(typicalRecord(TS_BASE + idx, idx, ioCount));
  return recordsFrame(BigInt(imei), recs, extended);
}

/** A record with 40 distinct IO ids (typicalRecord repeats ids past 24): 16×1 B, 10×2 B, 8×4 B, 6×8 B. */
export function fortyIoRecord(timestamp: number, i: number): SimRecord {
  const base = typicalRecord(timestamp, i, 24);
  const extra = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
  return {
    ...base,
    io1: [...(base.io1 ?? []).slice(0, 12), ...extra(700, 4).map((id, k): [number, number] => [id, (i + k) & 0xff])],
    io2: [...(base.io2 ?? []).slice(0, 6), ...extra(720, 4).map((id, k): [number, number] => [id, (i * 31 + k) & 0xffff])],
    io4: [...(base.io4 ?? []).slice(0, 6), ...extra(740, 2).map((id, k): [number, number] => [id, 1_000_000 + i + k])],
    io8: [...(base.io8 ?? []).slice(0, 3), ...extra(760, 3).map((id, k): [number, bigint] => [id, 0x1122334455667700n + BigInt(k)])],
  };
}
