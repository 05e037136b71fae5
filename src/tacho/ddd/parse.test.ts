import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDdd, summarize, type DddDocument } from './index.js';
import type { CardSection } from './card-file.js';
import type { ActivityInterval } from './activity.js';
import { expected, golden, sample, sampleNames, type Json } from '../../../test/support/tacho/ddd-samples.js';
import { LAYOUTS } from './vu-gen2.js';

const CARDS = sampleNames().filter((f) => f.startsWith('card-'));
const docs = new Map<string, DddDocument>();
const doc = (f: string) => docs.get(f) ?? docs.set(f, parseDdd(sample(f))).get(f)!;

test('every sample file parses to a document of the right kind and generation', () => {
  assert.equal(sampleNames().length, 7);
  for (const f of sampleNames()) {
    const d = doc(f);
    const e = expected(f);
    assert.equal(d.bytes, e.size, f);
    assert.equal(d.kind, f.startsWith('card-') ? 'driver_card' : 'vehicle_unit', f);
    assert.equal(d.generation, f.includes('-g1-') ? 1 : 2, f);
    if (f.includes('g2v2')) assert.equal(d.gen2Version, 2, f);
    if (f.includes('g2v1')) assert.equal(d.gen2Version, 1, f);
    // round trip through JSON: the document is plain data
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  }
});

const vrn = (v: { nation: number; number: string }) => ({ nation: v.nation, number: v.number });
const interval = (i: ActivityInterval) => ({
  fromMinute: i.fromMinute,
  toMinute: i.toMinute,
  slot: i.slot === 'driver' ? 'DRIVER' : 'CO_DRIVER',
  crewOrKnown: i.cardInserted ? i.drivingStatus === 'crew' : i.manualEntry === true,
  cardInserted: i.cardInserted,
  activity: i.activity.toUpperCase(),
});

function checkSection(f: string, sec: 'g1' | 'g2', s: CardSection, e: Json): void {
  const at = `${f} ${sec}`;
  const id = s.identification!;
  assert.deepEqual(
    { nation: id.issuingNation, cardNumber: id.cardNumber, authority: id.issuingAuthority, issue: id.issueDate, validFrom: id.validityBegin, expiry: id.expiryDate, surname: id.holder.surname, firstNames: id.holder.firstNames, birth: id.holder.birthDate, lang: id.holder.preferredLanguage },
    e.identification,
    at,
  );
  if (e.lastCardDownload !== undefined) assert.equal(s.lastCardDownload, e.lastCardDownload, at);
  if (e.drivingLicence) assert.deepEqual({ authority: s.drivingLicence!.issuingAuthority, nation: s.drivingLicence!.issuingNation, number: s.drivingLicence!.number }, e.drivingLicence, at);
  if (e.currentUsage) assert.deepEqual({ open: s.currentUsage!.sessionOpenTime, vrn: vrn(s.currentUsage!.sessionOpenVehicle) }, e.currentUsage, at);
  assert.equal(s.controlActivity, e.control.time === null ? null : s.controlActivity, at);
  // activity ring: pointers, every day's header, word counts, and the example intervals
  const a = s.activity!;
  const ea = e.activity;
  assert.deepEqual([a.pointerOldest, a.pointerNewest, a.ringLength, a.days.length], [ea.pointerOldest, ea.pointerNewest, ea.ringLength, ea.days], at);
  assert.deepEqual([a.days[0]!.date, a.days.at(-1)!.date], [ea.firstDay, ea.lastDay], at);
  assert.deepEqual(
    a.days.map((d) => ({ date: d.date, offset: d.offset, prevLen: d.previousRecordLength, len: d.recordLength, presenceCounter: d.presenceCounter, distanceKm: d.distanceKm, changeWords: d.changeWords })),
    ea.perDay,
    at,
  );
  const words = a.days.flatMap((d) => d.intervals.map((i) => i.word).concat(d.invalidWords));
  assert.equal(words.length, ea.changeWordsTotal, at);
  assert.equal(words.filter((w) => w !== 0 && w !== 0xffff).length, ea.changeWordsExcluding0000FFFF, at);
  assert.equal(a.days.filter((d) => !d.monotonic).length, ea.daysWithNonMonotonicMinutes, at);
  for (const [day, list] of Object.entries(ea.exampleIntervals as Record<string, Json[]>)) {
    assert.deepEqual(a.days.find((d) => d.date === day)!.intervals.map(interval), list, `${at} ${day}`);
  }
  const ev = (x: { type: number; begin: string | null; end: string | null; vehicle: { nation: number; number: string } }) => ({ type: x.type, begin: x.begin, end: x.end, vrn: vrn(x.vehicle) });
  assert.deepEqual(s.events!.map(ev), e.events, at);
  assert.deepEqual(s.faults!.map(ev), e.faults, at);
  // rings: pointer, records in use, and the records in the first and last slot
  const bySlot = <T extends { slot: number }>(r: T[]) => [...r].sort((x, y) => x.slot - y.slot);
  const v = s.vehiclesUsed!;
  assert.deepEqual([v.newestIndex, v.records.length], [e.vehiclesUsed.newestIndex, e.vehiclesUsed.nonEmptyRecords], at);
  const veh = (x: (typeof v.records)[number]) => ({ odoBegin: x.odometerBegin, odoEnd: x.odometerEnd, first: x.firstUse, last: x.lastUse, vrn: vrn(x.vehicle), counter: x.vuDataBlockCounter, ...(x.vin === undefined ? {} : { vin: x.vin }) });
  assert.deepEqual([veh(bySlot(v.records)[0]!), veh(bySlot(v.records).at(-1)!)], [e.vehiclesUsed.first, e.vehiclesUsed.last], at);
  const p = s.places!;
  assert.deepEqual([p.newestIndex, p.records.length], [e.places.newestIndex, e.places.nonEmptyRecords], at);
  const pl = (x: (typeof p.records)[number]) => ({ time: x.time, type: x.entryType, country: x.country, region: x.region, odo: x.odometer, ...(x.gnss ? { gnss: { time: x.gnss.time, acc: x.gnss.accuracy, lat: x.gnss.latRaw, lon: x.gnss.lonRaw } } : {}) });
  assert.deepEqual([pl(bySlot(p.records)[0]!), pl(bySlot(p.records).at(-1)!)], [e.places.first, e.places.last], at);
  assert.deepEqual(s.specificConditions!.records.map((c) => ({ time: c.time, type: c.type })), e.specificConditions, at);
  if (e.vehicleUnitsUsed) {
    const u = s.vehicleUnitsUsed!;
    assert.deepEqual([u.newestIndex, u.records.length], [e.vehicleUnitsUsed.newestIndex, e.vehicleUnitsUsed.nonEmptyRecords], at);
    const vu = (x: (typeof u.records)[number]) => ({ time: x.time, manufacturer: x.manufacturerCode, deviceId: x.deviceId, sw: x.vuSoftwareVersion });
    assert.deepEqual([vu(bySlot(u.records)[0]!), vu(bySlot(u.records).at(-1)!)], [e.vehicleUnitsUsed.first, e.vehicleUnitsUsed.last], at);
  }
  if (e.gnssPlaces) {
    const g = s.gnssPlaces!;
    assert.deepEqual([g.newestIndex, g.records.length], [e.gnssPlaces.newestIndex, e.gnssPlaces.nonEmptyRecords], at);
    const gp = (x: (typeof g.records)[number]) => ({ time: x.time, odo: x.odometer });
    assert.deepEqual([gp(bySlot(g.records)[0]!), gp(bySlot(g.records).at(-1)!)], [e.gnssPlaces.first, e.gnssPlaces.last], at);
  }
}

test('card samples match the expected values: TLV list, application identification, every section', () => {
  for (const f of CARDS) {
    const d = doc(f);
    const e = expected(f);
    assert.deepEqual(
      d.card!.records.map((r) => ({ tag: r.fid, appendix: r.appendix, length: r.length })),
      e.tlvRecords,
      f,
    );
    for (const sec of ['g1', 'g2'] as const) {
      if (!e.applicationIdentification[sec]) {
        assert.equal(d.card![sec], undefined, f);
        continue;
      }
      const a = d.card![sec]!.applicationIdentification!;
      const want = e.applicationIdentification[sec];
      assert.deepEqual(
        { type: a.type, structureVersion: a.structureVersion, eventsPerType: a.eventsPerType, faultsPerType: a.faultsPerType, activityLength: a.activityLength, vehicleRecords: a.vehicleRecords, placeRecords: a.placeRecords, ...(sec === 'g2' ? { gnssAD: a.gnssADRecords, specificConditions: a.specificConditionRecords, vehicleUnits: a.vehicleUnitRecords } : {}) },
        want,
        f,
      );
      checkSection(f, sec, d.card![sec]!, e[sec]);
    }
  }
});

test('the wrapped ring (newest record and its header split over the end) gives the same days as the unwrapped one', () => {
  const plain = doc('card-g1-anon-wp000.ddd').card!.g1!.activity!;
  const wrapped = doc('card-g1-anon-wp000-wrapped.ddd').card!.g1!.activity!;
  assert.notEqual(wrapped.pointerOldest, 0);
  assert.ok(wrapped.days.at(-1)!.offset + wrapped.days.at(-1)!.recordLength > wrapped.ringLength, 'the newest record wraps');
  const strip = (a: typeof plain) => a.days.map(({ offset: _offset, ...rest }) => rest);
  assert.deepEqual(strip(wrapped), strip(plain));
});

test('card activity matches the way-platform golden output, word for word (without the 0x0000/0xFFFF words it drops)', () => {
  for (const f of CARDS.filter((x) => !x.includes('wrapped'))) {
    const g = golden(f).records as Json[];
    const d = doc(f);
    const activity = g.filter((r) => String(r.record).startsWith('EF_DRIVER_ACTIVITY_DATA'));
    assert.ok(activity.length >= 1, f);
    for (const r of activity) {
      const sec = String(r.record).includes('GENERATION_2') ? 'g2' : 'g1';
      const days = d.card![sec]!.activity!.days;
      const gd = r.golden.dailyRecords as Json[];
      assert.equal(days.length, gd.length, `${f} ${sec}`);
      days.forEach((day, i) => {
        const want = (gd[i].activityChangeInfo ?? []).map((c: Json) => ({ slot: c.slot === 'CO_DRIVER_SLOT' ? 'co-driver' : 'driver', c: c.crew === true, inserted: c.inserted === true, activity: String(c.activity).toLowerCase(), minute: c.timeOfChangeMinutes ?? 0 }));
        const got = day.intervals
          .filter((x) => x.word !== 0 && x.word !== 0xffff)
          .map((x) => ({ slot: x.slot, c: x.cardInserted ? x.drivingStatus === 'crew' : x.manualEntry === true, inserted: x.cardInserted, activity: x.activity, minute: x.fromMinute }));
        assert.deepEqual(got, want, `${f} ${sec} ${day.date}`);
        assert.equal(day.date, gd[i].activityRecordDate, `${f} ${sec} day ${i}`);
        assert.equal(day.distanceKm, gd[i].activityDayDistance ?? 0);
      });
    }
  }
});

test('Gen1 VU sample matches the expected transfers (overview, 6 days, events, speed, technical data)', () => {
  const f = 'vu-g1-anon-wp000.ddd';
  const d = doc(f);
  const e = expected(f).transfers as Json[];
  const vu = d.vu!;
  assert.deepEqual(
    vu.transfers.map((t) => [t.trep, t.offset, t.length]),
    e.map((t) => [t.trep, t.offset, t.valueLength]),
  );
  const o = vu.overview!;
  assert.deepEqual([o.companyLocks.length, o.controls.length, o.vin, o.currentDateTime, [o.downloadablePeriod.begin, o.downloadablePeriod.end], `0x${o.cardSlotsStatus.toString(16)}`], [e[0].locks, e[0].controls, e[0].vin, e[0].now, e[0].dl, e[0].slots]);
  const days = e.filter((t) => t.trep === '02');
  assert.deepEqual(
    vu.days.map((x) => ({ day: x.dateOfDay, odo: x.odometerMidnight, iw: x.cardInsertions.length, changes: x.changeWords, places: x.places.length, sc: x.specificConditions.length })),
    days.map((t) => ({ day: t.day, odo: t.odo, iw: t.iw, changes: t.changes, places: t.places, sc: t.sc })),
  );
  assert.deepEqual(vu.days.map((x) => x.day), ['2025-09-07', '2025-09-08', '2025-09-09', '2025-09-10', '2025-09-11', '2025-09-12']);
  const ef = e.find((t) => t.trep === '03');
  const x = vu.eventsAndFaults!;
  assert.deepEqual([x.faults.length, x.events.length, x.overSpeedingEvents.length, x.timeAdjustments.length], [ef.faults, ef.events, ef.overspeed, ef.timeadj]);
  assert.equal(vu.detailedSpeed!.blocks.length, e.find((t) => t.trep === '04').blocks);
  const tech = e.find((t) => t.trep === '05');
  assert.equal(vu.technicalData!.calibrations!.length, tech.calibrations);
  assert.equal(vu.technicalData!.vuIdentification!.manufacturerName, tech.manufacturer);
  assert.equal(vu.technicalData!.vuIdentification!.serialNumber.serialNumber, tech.serial);
  // cross-check with way-platform's golden: every VU activity word, event and speed block
  const g = golden(f).records as Json[];
  const gDays = g.filter((r) => r.record === 'ACTIVITIES_GEN1');
  vu.days.forEach((day, i) => {
    const want = (gDays[i].golden.activityChanges as Json[]).map((c) => [c.slot === 'CO_DRIVER_SLOT' ? 'co-driver' : 'driver', c.inserted === true, String(c.activity).toLowerCase(), c.timeOfChangeMinutes ?? 0]);
    assert.deepEqual(day.intervals.map((v) => [v.slot, v.cardInserted, v.activity, v.fromMinute]), want, day.day ?? '');
  });
  const gEvents = g.find((r) => r.record === 'EVENTS_AND_FAULTS_GEN1').golden.events as Json[];
  assert.deepEqual(x.events.map((v) => [v.begin, v.end]), gEvents.map((v) => [v.beginTime ?? null, v.endTime ?? null]));
  const gSpeed = g.find((r) => r.record === 'DETAILED_SPEED_GEN1').golden.speedBlocks as Json[];
  assert.deepEqual(vu.detailedSpeed!.blocks.map((b) => [b.begin, b.speeds]), gSpeed.map((b) => [b.beginDate, b.speedsKmh]));
});

test('Gen2 v2 VU samples match the expected record arrays, overview and days; the technical data is framed only', () => {
  for (const f of ['vu-g2v2-anon-wp004.ddd', 'vu-g2v2-anon-wp003.ddd']) {
    const d = doc(f);
    const e = expected(f).transfers as Json[];
    const vu = d.vu!;
    assert.deepEqual(
      vu.transfers.map((t) => ({ trep: `76${t.trep}`, recordArrays: t.recordArrays!.map((a) => ({ typeByte: a.type, recordSize: a.recordSize, noOfRecords: a.count })) })),
      e.map((t) => ({ trep: t.trep, recordArrays: t.recordArrays })),
      f,
    );
    const o = vu.overview!;
    assert.deepEqual([o.currentDateTime, [o.downloadablePeriod.begin, o.downloadablePeriod.end], `0x${o.cardSlotsStatus.toString(16)}`], [e[0].currentDateTime, e[0].downloadablePeriod, e[0].cardSlotsStatus], f);
    const days = e.filter((t) => t.trep === '7632');
    assert.deepEqual(
      vu.days.map((x) => ({ dateOfDayDownloaded: x.dateOfDay, odometerValueMidnight: x.odometerMidnight, vuCardIWRecords: x.cardInsertions.length, activityChangeInfos: x.changeWords })),
      days.map((t) => ({ dateOfDayDownloaded: t.dateOfDayDownloaded, odometerValueMidnight: t.odometerValueMidnight, vuCardIWRecords: t.vuCardIWRecords, activityChangeInfos: t.activityChangeInfos })),
      f,
    );
    assert.equal(vu.technicalData!.decoded, false);
    assert.ok(d.warnings.some((w) => /positions \(1, 2, 3/.test(w.reason)), 'positional record types are reported');
    assert.throws(() => parseDdd(sample(f), { strict: true }), (err: Json) => err.code === 'EDGE_DDD_INVALID' && err.offset === 2);
  }
  const f = 'vu-g2v2-anon-wp004.ddd';
  const g = golden(f).records as Json[];
  const vu = doc(f).vu!;
  const gEvents = g.find((r) => r.record === 'EVENTS_AND_FAULTS_GEN2_V2').golden.events as Json[];
  assert.equal(vu.eventsAndFaults!.events.length, 27);
  assert.deepEqual(vu.eventsAndFaults!.events.map((v) => [v.begin, v.end]), gEvents.map((v) => [v.beginTime ?? null, v.endTime ?? null]));
  g.filter((r) => r.record === 'ACTIVITIES_GEN2_V2').forEach((r, i) => {
    const want = (r.golden.activityChanges as Json[]).map((c) => [c.slot === 'CO_DRIVER_SLOT' ? 'co-driver' : 'driver', c.inserted === true, String(c.activity).toLowerCase(), c.timeOfChangeMinutes ?? 0]);
    // unlike its card decoder, way-platform's VU decoder keeps 0x0000 words
    const got = vu.days[i]!.intervals.map((v) => [v.slot, v.cardInserted, v.activity, v.fromMinute]);
    assert.deepEqual(got, want, `day ${i}`);
  });
});

test('summarize gives the tacho.download fields of a card and of a VU file', () => {
  const c = summarize(doc('card-g2v2-anon-wp004.ddd'));
  assert.equal(c.driver, 'Doe, John');
  assert.equal(c.cardNumber, 'DRIVER0000000100');
  assert.equal(c.cardNation, 0x26);
  // Gen1 section: 220 days to 2020-08-07, Gen2 section: 200 days to 2020-07-18 (both from 2020-01-01)
  assert.equal(c.firstDay, '2020-01-01');
  assert.equal(c.lastDay, '2020-08-07');
  assert.equal(c.daysCovered, 220);
  assert.equal(c.firstActivity, '2020-01-01T00:00:00Z');
  assert.deepEqual([c.events, c.faults, c.vehiclesUsed], [7, 2, 129]);
  assert.equal(c.lastCardDownload, '2026-01-03T15:23:43Z');
  assert.equal(c['signature.verified'], false);
  const g1 = summarize(doc('card-g1-anon-wp000.ddd'));
  assert.deepEqual([g1.daysCovered, g1.firstDay, g1.lastDay, g1.events, g1.vehiclesUsed, g1.places], [189, '2020-01-01', '2020-07-07', 1, 200, 112]);
  assert.equal(g1.lastActivity, '2020-07-08T00:00:00Z');
  const v = summarize(doc('vu-g1-anon-wp000.ddd'));
  assert.deepEqual([v.kind, v.daysCovered, v.firstDay, v.lastDay, v.events, v.faults, v.calibrations], ['vehicle_unit', 6, '2025-09-07', '2025-09-12', 38, 0, 8]);
  assert.equal(v.vin, '*****************');
});

test('Gen2 VU samples with their record-type bytes rewritten to the Appendix 1 codes parse in strict mode, without warnings about types', () => {
  const b = Uint8Array.from(sample('vu-g2v2-anon-wp004.ddd'));
  const lenient = parseDdd(b);
  for (const t of lenient.vu!.transfers) {
    const kind = parseInt(t.trep, 16) & 0x0f;
    const layout = LAYOUTS[kind === 1 ? 'overview2' : kind === 2 ? 'activities2' : kind === 3 ? 'events' : 'speed'];
    if (kind === 5) continue; // technical data: framed only, no layout to check against
    t.recordArrays!.forEach((a, i) => (b[a.offset] = layout![i]!));
  }
  const strict = parseDdd(b, { strict: true });
  assert.ok(!strict.warnings.some((w) => /record array|positions/.test(w.reason)), JSON.stringify(strict.warnings));
  assert.deepEqual(strict.vu!.days, lenient.vu!.days);
  assert.deepEqual(strict.vu!.eventsAndFaults, lenient.vu!.eventsAndFaults);
  // a wrong code in strict mode names the array
  b[lenient.vu!.transfers[1]!.recordArrays![3]!.offset] = 0x02;
  assert.throws(
    () => parseDdd(b, { strict: true }),
    (e: Json) => e.code === 'EDGE_DDD_INVALID' && e.offset === lenient.vu!.transfers[1]!.recordArrays![3]!.offset && /array 4 of TREP 32 has type 0x2, expected 0x1/.test(e.message),
  );
});
