import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DownloadScheduler } from './download-scheduler.js';
import { ScheduleStore } from './schedule-store.js';
import type { ScheduleSettings } from './schedule-rules.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

function rig(settings: ScheduleSettings | null = { enabled: true, driverCardDays: 28, vehicleUnitDays: 90 }) {
  const dir = mkdtempSync(join(tmpdir(), 'tacho-sched-'));
  const store = new ScheduleStore(dir, false);
  store.load();
  let now = T0;
  const requests: { ch: string; ident: string; body: Record<string, unknown> }[] = [];
  const held = new Map<string, { id: string; name: string }[]>();
  const states: { ident: string; v: Record<string, unknown> }[] = [];
  const s = new DownloadScheduler({
    store,
    settings: () => settings,
    atr: '3b9a96c01031fe5d0064057b01023180900076',
    timeoutS: 600,
    retryS: 3600,
    log: pino({ level: 'silent' }),
    now: () => now,
    ports: {
      request: (ch, ident, body) => requests.push({ ch, ident, body: JSON.parse(body) as Record<string, unknown> }),
      held: (ch, ident) => held.get(`${ch}/${ident}`) ?? [],
      state: (_ch, ident, payload) => states.push({ ident, v: JSON.parse(payload) as Record<string, unknown> }),
    },
  });
  return { s, store, dir, requests, held, states, advance: (ms: number) => (now += ms), now: () => now, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('schedule with a fake clock: a VU never downloaded is due when the device comes online; after its download the next one is due 90 days later, not before', async () => {
  const r = rig();
  try {
    r.s.online('1', 'dev-a');
    assert.equal(r.requests.length, 1);
    const b = r.requests[0]!.body;
    assert.equal(b.name, 'request_tachograph_file');
    assert.match(String(b.id), /^tacho-sched-vehicle_unit-\d+$/);
    assert.deepEqual((b.properties as Record<string, unknown>).source, 'vehicle_unit');
    assert.deepEqual(b.meta, { scheduled: true, schedule: 'vehicle_unit', card: null, last_download: null });
    // the first request covers the legal period back from now
    assert.equal((b.properties as { from: number }).from, (T0 - 90 * DAY) / 1000);
    // while it is held, no second one; once it ended without a file, again only after retry_s
    r.held.set('1/dev-a', [{ id: String(b.id), name: 'request_tachograph_file' }]);
    r.advance(2 * 3600_000);
    r.s.tick();
    assert.equal(r.requests.length, 1, 'a held scheduled command blocks the next');
    r.held.clear();
    r.s.tick();
    assert.equal(r.requests.length, 2, 'ended without a file: asked again (retry_s passed)');
    r.s.tick();
    assert.equal(r.requests.length, 2, 'not twice within retry_s');
    // the file arrives: counted, and the state says when the next is due
    await r.s.downloaded('1', 'dev-a', 'vehicle_unit', null, r.now());
    const last = r.now();
    const st = r.states.at(-1)!.v as { vehicle_unit: { last: number; next: number; due: boolean } };
    assert.deepEqual(st.vehicle_unit, { last: last / 1000, next: (last + 90 * DAY) / 1000, due: false, every_days: 90 });
    r.advance(90 * DAY - 60_000);
    r.s.tick();
    assert.equal(r.requests.length, 2, 'one minute before due: nothing');
    r.advance(60_000);
    r.s.tick();
    assert.equal(r.requests.length, 3, 'due: requested');
    assert.equal(((r.requests[2]!.body.properties as { from: number }).from), last / 1000, 'from the last download on');
    // the state survives a restart (a new store on the same dir)
    const again = new ScheduleStore(r.dir, false);
    again.load();
    assert.equal(again.lastVu('1', 'dev-a'), last);
  } finally {
    r.done();
  }
});

test('schedule: a driver card reported in a slot is downloaded when due, keyed by card (14 characters) across vehicles; offline devices wait', async () => {
  const r = rig({ enabled: true, driverCardDays: 7, vehicleUnitDays: 90 });
  try {
    await r.s.downloaded('1', 'truck-1', 'vehicle_unit', null, T0);
    r.s.online('1', 'truck-1');
    assert.equal(r.requests.length, 0, 'VU not due');
    r.s.observed('1', 'truck-1', 'DRIVER0000000100', '');
    assert.equal(r.requests.length, 1);
    assert.equal((r.requests[0]!.body.properties as { source: string }).source, 'driver_1');
    assert.equal((r.requests[0]!.body.meta as { card: string }).card, 'DRIVER00000001');
    // the card's file arrives (its 16-character number): the same card in another truck is not due
    await r.s.downloaded('1', 'truck-1', 'driver_card', 'DRIVER0000000100', r.now());
    r.s.online('1', 'truck-2');
    r.s.observed('1', 'truck-2', undefined, 'DRIVER0000000111');
    assert.equal(r.requests.length, 2, 'truck-2: its VU (never downloaded) only, the card was read 0 days ago');
    assert.equal((r.requests[1]!.body.properties as { source: string }).source, 'vehicle_unit');
    r.s.offline('1', 'truck-2');
    r.advance(7 * DAY);
    r.s.tick();
    assert.deepEqual(r.requests.slice(2).map((q) => [q.ident, (q.body.properties as { source: string }).source]), [['truck-1', 'driver_1']], 'due again after 7 days, for the online truck only');
    const v = r.s.view('1', 'truck-1')!;
    assert.equal(v.driver_cards[0]!.card, 'DRIVER00000001');
    assert.equal(v.driver_cards[0]!.due, true);
  } finally {
    r.done();
  }
});

test('schedule: off for the device = no requests but a view; no settings = no view; a damaged state file is an error, not a reset', () => {
  const off = rig({ enabled: false, driverCardDays: 28, vehicleUnitDays: 90 });
  try {
    off.s.online('1', 'x');
    assert.equal(off.requests.length, 0);
    assert.equal(off.s.view('1', 'x')!.vehicle_unit.due, false);
  } finally {
    off.done();
  }
  const none = rig(null);
  try {
    none.s.online('1', 'x');
    assert.equal(none.s.view('1', 'x'), null);
    writeFileSync(join(none.dir, 'last-downloads.json'), '{"vu": 3');
    assert.throws(() => new ScheduleStore(none.dir, false).load(), (e: Error & { code?: string }) => e.code === 'EDGE_CONFIG_INVALID' && /move it away/.test(e.message));
    assert.equal(readFileSync(join(none.dir, 'last-downloads.json'), 'utf8'), '{"vu": 3', 'left as it was');
  } finally {
    none.done();
  }
});
