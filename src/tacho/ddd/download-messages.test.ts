import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../util/paths.js';
import { activityMessages, downloadFields, downloadOutcome } from './download-messages.js';
import { parseDdd } from './parse.js';
import { summarize } from './summary.js';

const file = (n: string) => new Uint8Array(readFileSync(join(projectRoot(), 'fixtures', 'tacho', n)));

test('tacho.download fields of the Gen1 card sample: the values its expected summary states, times as Unix seconds', () => {
  const doc = parseDdd(file('card-g1-anon-wp000.ddd'));
  const f = downloadFields(summarize(doc));
  assert.equal(f['tacho.download.kind'], 'driver_card');
  assert.equal(f['tacho.download.driver'], 'Doe, John');
  assert.equal(f['tacho.download.card.number'], 'DRIVER0000000100');
  assert.equal(f['tacho.download.card.nation'], 18);
  assert.equal(f['tacho.download.card.expiry'], Date.UTC(2024, 11, 31, 23, 59, 59) / 1000);
  assert.equal(f['tacho.download.days.covered'], 189);
  assert.equal(f['tacho.download.first.day'], '2020-01-01');
  assert.equal(f['tacho.download.last.day'], '2020-07-07');
  assert.equal(f['tacho.download.first.activity'], Date.UTC(2020, 0, 1) / 1000);
  assert.equal(f['tacho.download.activity.intervals'], 5714);
  assert.equal(f['tacho.signature.verified'], false);
  assert.equal(f['tacho.signature.reason'], 'the file carries no signatures');
});

test('activity messages: one per interval, day by day, timestamp = begin, end - begin = duration; the first day as the expected summary lists it', () => {
  const doc = parseDdd(file('card-g1-anon-wp000.ddd'));
  const s = summarize(doc);
  const msgs = activityMessages(doc, s);
  assert.equal(msgs.length, s.activityIntervals);
  const day0 = Date.UTC(2020, 0, 1) / 1000;
  assert.deepEqual(msgs.slice(0, 3).map((m) => [m.timestamp, m['tacho.activity.type'], m['tacho.activity.duration'], m['tacho.activity.card.inserted']]), [
    [day0, 'break_rest', 1800, false],
    [day0 + 1800, 'work', 1800, true],
    [day0 + 3600, 'driving', 1800, true],
  ]);
  for (let i = 1; i < msgs.length; i++) assert.ok(String(msgs[i]!['tacho.activity.day']) >= String(msgs[i - 1]!['tacho.activity.day']), `message ${i} is of a day before the one before`);
  // the sample's synthetic activity restarts its minutes within some days: those days say so (82 of them)
  assert.equal(new Set(msgs.filter((m) => m['tacho.activity.day.monotonic'] === false).map((m) => m['tacho.activity.day'])).size, 82);
  for (const m of msgs) {
    assert.equal(m['tacho.activity.end'] as number, (m['tacho.activity.begin'] as number) + (m['tacho.activity.duration'] as number));
    assert.equal(m['tacho.activity.card.number'], 'DRIVER0000000100');
  }
});

test('a Gen2 card: a day both sections hold is sent once; a VU file attributes intervals to the card in the slot', () => {
  const g2 = parseDdd(file('card-g2v1-anon-wp003.ddd'));
  const s2 = summarize(g2);
  const m2 = activityMessages(g2, s2);
  const days = new Set(m2.map((m) => new Date((m.timestamp as number) * 1000).toISOString().slice(0, 10)));
  assert.equal(days.size, s2.daysCovered, 'every covered day, none twice');
  const vu = parseDdd(file('vu-g1-anon-wp000.ddd'));
  const sv = summarize(vu);
  const mv = activityMessages(vu, sv);
  assert.equal(mv.length, sv.activityIntervals);
  assert.ok(mv.every((m) => m['tacho.activity.source'] === 'vehicle_unit' && m['tacho.activity.vin'] === sv.vin));
  // without asking, no activity messages (the default config)
  assert.deepEqual(downloadOutcome(vu, sv, false).activities, []);
  assert.equal(JSON.parse(downloadOutcome(vu, sv, false).json).kind, 'vehicle_unit');
});
