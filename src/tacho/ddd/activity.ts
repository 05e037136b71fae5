/**
 * ActivityChangeInfo (Appendix 1 §2.1): one 16-bit word `s c p aa ttttttttttt` per change, and the
 * intervals it implies. The same word means slightly different things on a card and in a VU:
 * on a card, c is the driving status only while the card is inserted (p = 0); with p = 1 it says
 * whether the following activity was entered manually ("known"). In a VU, c is always single/crew
 * and p says whether a card was in that slot.
 */
import { isoSeconds } from './primitives.js';

export type Activity = 'break_rest' | 'availability' | 'work' | 'driving';
export type Slot = 'driver' | 'co-driver';
const ACTIVITIES: readonly Activity[] = ['break_rest', 'availability', 'work', 'driving'];

export interface ActivityInterval {
  slot: Slot;
  /** 'single' | 'crew' when the card was inserted (VU: always); null on a card with no card inserted. */
  drivingStatus: 'single' | 'crew' | null;
  cardInserted: boolean;
  /** Card records with the card withdrawn: true when the activity was entered manually (c = 1), else null. */
  manualEntry: boolean | null;
  activity: Activity;
  /** Minutes after 00:00 UTC of the day, as stored; `toMinute` is the next change's minute (1440 for the last). */
  fromMinute: number;
  toMinute: number;
  begin: string;
  end: string;
  /** The stored word, so nothing the interpretation drops is lost. */
  word: number;
}

export interface DecodedWord {
  slot: Slot;
  c: boolean;
  cardInserted: boolean;
  activity: Activity;
  minute: number;
}

export function decodeWord(w: number): DecodedWord {
  return { slot: w & 0x8000 ? 'co-driver' : 'driver', c: (w & 0x4000) !== 0, cardInserted: (w & 0x2000) === 0, activity: ACTIVITIES[(w >> 11) & 3]!, minute: w & 0x7ff };
}

/** `THH:MM:00Z` for every minute of a day: built once, so a day's intervals are string concatenations. */
const MINUTES = Array.from({ length: 1440 }, (_, m) => `T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00Z`);

/** Time formatter for one day: the fast path for days starting at 00:00 UTC (all real records). */
function dayClock(dayStartS: number): (minute: number) => string {
  if (dayStartS % 86400 !== 0) return (m) => isoSeconds(dayStartS + m * 60);
  const date = isoSeconds(dayStartS).slice(0, 10);
  const next = isoSeconds(dayStartS + 86400);
  return (m) => (m < 1440 ? date + MINUTES[m]! : next);
}

/** Minutes per activity. */
export type ActivityMinutes = Record<Activity, number>;

export interface DayTotals {
  /** Recorded with a card inserted (card: this card; VU: a card in that slot). */
  recorded: ActivityMinutes;
  /** Card records only: periods without the card that the driver entered manually (c = 1). */
  manual: ActivityMinutes;
}

export interface IntervalsResult {
  intervals: ActivityInterval[];
  /** Words whose minute is past 23:59 (e.g. 0xFFFF): reported, not turned into intervals. */
  invalidWords: number[];
  /** False when a minute goes backwards (the anonymised sample cards do this). */
  monotonic: boolean;
}

/**
 * Intervals of one day. `source` picks the meaning of c; `perSlot` (VU) ends an interval at the
 * next change of the same slot, because a VU day interleaves both slots' changes in one list,
 * whereas a card day holds only the changes of its own card.
 */
export function dayIntervals(words: readonly number[], dayStartS: number, source: 'card' | 'vu'): IntervalsResult {
  const valid: DecodedWord[] = [];
  const raw: number[] = [];
  const invalidWords: number[] = [];
  for (const w of words) {
    const d = decodeWord(w);
    if (d.minute >= 1440) invalidWords.push(w);
    else {
      valid.push(d);
      raw.push(w);
    }
  }
  let monotonic = true;
  const lastMinute = new Map<Slot, number>();
  for (const d of valid) {
    const key = source === 'vu' ? d.slot : 'driver';
    if (d.minute < (lastMinute.get(key) ?? 0)) monotonic = false;
    lastMinute.set(key, d.minute);
  }
  const intervals: ActivityInterval[] = [];
  const at = dayClock(dayStartS);
  for (let i = 0; i < valid.length; i++) {
    const d = valid[i]!;
    let to = 1440;
    for (let j = i + 1; j < valid.length; j++) {
      if (source === 'card' || valid[j]!.slot === d.slot) {
        to = valid[j]!.minute;
        break;
      }
    }
    const cardRecordWithdrawn = source === 'card' && !d.cardInserted;
    intervals.push({
      slot: d.slot,
      drivingStatus: cardRecordWithdrawn ? null : d.c ? 'crew' : 'single',
      cardInserted: d.cardInserted,
      manualEntry: cardRecordWithdrawn ? d.c : null,
      activity: d.activity,
      fromMinute: d.minute,
      toMinute: to,
      begin: at(d.minute),
      end: at(to),
      word: raw[i]!,
    });
  }
  return { intervals, invalidWords, monotonic };
}

const zero = (): ActivityMinutes => ({ break_rest: 0, availability: 0, work: 0, driving: 0 });

/**
 * Per-day sums (Appendix 1 / the reference: recorded activity is what happened with the card in;
 * manually entered periods are reported apart, and withdrawn periods without an entry are unknown,
 * counted in neither). Intervals whose minutes go backwards count 0. For a VU day, call it per slot.
 */
export function dayTotals(intervals: readonly ActivityInterval[]): DayTotals {
  const t: DayTotals = { recorded: zero(), manual: zero() };
  for (const i of intervals) {
    const m = Math.max(0, i.toMinute - i.fromMinute);
    if (i.cardInserted) t.recorded[i.activity] += m;
    else if (i.manualEntry) t.manual[i.activity] += m;
  }
  return t;
}
