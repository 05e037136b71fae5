/**
 * EF_Driver_Activity_Data (Annex IC Appendix 1 §2.17 CardDriverActivity): two pointers and a
 * cyclic buffer of CardActivityDailyRecords. The card continues writing at offset 0 when it reaches
 * the end, even inside a record's header, so every byte is read modulo the ring length. Hand code,
 * not binary-parser: a declarative layout cannot express reads that wrap around.
 */
import { EdgeError } from '../../errors.js';
import { dayIntervals, dayTotals, type ActivityInterval, type DayTotals } from './activity.js';
import { bcd, isoTime } from './primitives.js';
import type { DddReader } from './reader.js';

const HEADER = 12;

export interface CardActivityDay {
  date: string | null;
  /** Offset of the record in the ring (not in the file). */
  offset: number;
  previousRecordLength: number;
  recordLength: number;
  presenceCounter: string;
  distanceKm: number;
  changeWords: number;
  /** False when a change minute goes backwards (seen only in the anonymised sample cards). */
  monotonic: boolean;
  /** Stored words with a minute past 1439 (e.g. 0xFFFF), kept but not turned into intervals. */
  invalidWords: number[];
  /** Minutes per activity: recorded with the card inserted, and entered manually while it was out. */
  totals: DayTotals;
  intervals: ActivityInterval[];
}

export interface CardActivity {
  pointerOldest: number;
  pointerNewest: number;
  /** From the TLV length (the anonymised samples trim the ring below the declared length). */
  ringLength: number;
  /** Ring length EF_Application_Identification declares, when it differs (a warning is raised too). */
  declaredLength?: number;
  days: CardActivityDay[];
}

export function cardActivity(r: DddReader, declaredLength: number | undefined, warn: (reason: string, at: number) => void): CardActivity {
  const efStart = r.pos;
  const oldest = r.u16('activity pointer to the oldest day');
  const newest = r.u16('activity pointer to the newest record');
  const ringStart = r.pos;
  const L = r.remaining;
  const ring = r.bytes(L, 'activity ring');
  const out: CardActivity = { pointerOldest: oldest, pointerNewest: newest, ringLength: L, days: [] };
  if (declaredLength !== undefined && declaredLength !== L) {
    out.declaredLength = declaredLength;
    warn(`activity ring is ${L} bytes, EF_Application_Identification declares ${declaredLength}`, efStart);
  }
  if (L === 0) return out;
  const bad = (reason: string, ringOffset: number): never => {
    throw new EdgeError('EDGE_DDD_INVALID', `activity ring: ${reason}`, ringStart + ringOffset);
  };
  if (oldest >= L) bad(`oldest-day pointer ${oldest} is outside the ${L}-byte ring`, 0);
  if (newest >= L) bad(`newest-record pointer ${newest} is outside the ${L}-byte ring`, 0);
  const byte = (p: number) => ring[p % L]!;
  const u16 = (p: number) => (byte(p) << 8) | byte(p + 1);
  // an unused card: the oldest record has length 0
  if (u16(oldest + 2) === 0) return out;
  const seen = new Set<number>();
  let p = oldest;
  let prevLength = -1;
  for (;;) {
    if (seen.has(p) || seen.size > L / HEADER) bad('the chain of day records loops', p);
    seen.add(p);
    const prevLen = u16(p);
    const len = u16(p + 2);
    if (len < HEADER || len > L || (len - HEADER) % 2 !== 0) bad(`day record length ${len} is impossible`, p);
    if (prevLength >= 0 && prevLen !== prevLength) bad(`day record says the previous one is ${prevLen} bytes, it was ${prevLength}`, p);
    const dateS = ((byte(p + 4) << 24) | (byte(p + 5) << 16) | (byte(p + 6) << 8) | byte(p + 7)) >>> 0;
    const words: number[] = [];
    for (let i = HEADER; i < len; i += 2) words.push(u16(p + i));
    const { intervals, invalidWords, monotonic } = dayIntervals(words, dateS, 'card');
    out.days.push({
      date: isoTime(dateS),
      offset: p,
      previousRecordLength: prevLen,
      recordLength: len,
      presenceCounter: bcd(Uint8Array.of(byte(p + 8), byte(p + 9))),
      distanceKm: u16(p + 10),
      changeWords: words.length,
      monotonic,
      invalidWords,
      totals: dayTotals(intervals),
      intervals,
    });
    if (p === newest) return out;
    prevLength = len;
    p = (p + len) % L;
  }
}
