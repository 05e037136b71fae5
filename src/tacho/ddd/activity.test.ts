import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayIntervals, dayTotals } from './activity.js';

const DAY = 1158883200; // 2006-09-22 00:00 UTC

test('card day from the reference worked example: withdrawn rest, then work, driving, work; totals count only recorded minutes', () => {
  // 2000: no card, rest from 00:00 (not entered) · 112A: inserted, single, work 04:58 · 193E: driving 05:18 · 114E: work 05:34
  const r = dayIntervals([0x2000, 0x112a, 0x193e, 0x114e], DAY, 'card');
  assert.equal(r.monotonic, true);
  assert.deepEqual(
    r.intervals.map((i) => [i.activity, i.cardInserted, i.drivingStatus, i.manualEntry, i.begin, i.end]),
    [
      ['break_rest', false, null, false, '2006-09-22T00:00:00Z', '2006-09-22T04:58:00Z'],
      ['work', true, 'single', null, '2006-09-22T04:58:00Z', '2006-09-22T05:18:00Z'],
      ['driving', true, 'single', null, '2006-09-22T05:18:00Z', '2006-09-22T05:34:00Z'],
      ['work', true, 'single', null, '2006-09-22T05:34:00Z', '2006-09-23T00:00:00Z'],
    ],
  );
  assert.deepEqual(dayTotals(r.intervals), { recorded: { break_rest: 0, availability: 0, work: 20 + 1106, driving: 16 }, manual: { break_rest: 0, availability: 0, work: 0, driving: 0 } });
  // 6158: withdrawn, activity known (entered manually), rest from 05:44
  const m = dayIntervals([0x112a, 0x6158], DAY, 'card');
  assert.deepEqual(m.intervals[1]!.manualEntry, true);
  assert.deepEqual(dayTotals(m.intervals).manual.break_rest, 1440 - 344);
  // 0xFFFF is no time of day: kept apart, no interval; a minute going backwards is flagged
  const odd = dayIntervals([0x0000, 0x101e, 0xffff, 0x1000], DAY, 'card');
  assert.deepEqual([odd.invalidWords, odd.monotonic, odd.intervals.length], [[0xffff], false, 3]);
  assert.equal(dayTotals(odd.intervals).recorded.work, 1440, 'the backwards interval counts 0, the last one runs to 24:00');
});

test('VU day: both slots in one list; each interval ends at the next change of its own slot; crew status from c', () => {
  // driver inserted rest 00:00 · co-driver no card rest 00:00 · co-driver (still no card) work 01:00 · driver crew driving 02:00
  const r = dayIntervals([0x0000, 0xa000, 0xb03c, 0x5878], DAY, 'vu');
  assert.deepEqual(
    r.intervals.map((i) => [i.slot, i.activity, i.cardInserted, i.drivingStatus, i.fromMinute, i.toMinute]),
    [
      ['driver', 'break_rest', true, 'single', 0, 120],
      ['co-driver', 'break_rest', false, 'single', 0, 60],
      ['co-driver', 'work', false, 'single', 60, 1440],
      ['driver', 'driving', true, 'crew', 120, 1440],
    ],
  );
  assert.deepEqual(dayTotals(r.intervals.filter((i) => i.slot === 'driver')).recorded, { break_rest: 120, availability: 0, work: 0, driving: 1320 });
  assert.deepEqual(dayTotals(r.intervals.filter((i) => i.slot === 'co-driver')).recorded, { break_rest: 0, availability: 0, work: 0, driving: 0 });
});
