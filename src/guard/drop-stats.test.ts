import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDropStats } from './drop-stats.js';

test('nothing dropped: snapshot is null and the interval still moves on', () => {
  let t = 1_000;
  const s = createDropStats({ now: () => t });
  t = 2_000;
  assert.equal(s.snapshot(), null);
  s.count('rate', '1.1.1.1', 'udp');
  t = 3_000;
  const snap = s.snapshot();
  assert.equal(snap?.since_ms, 2_000);
  assert.equal(snap?.until_ms, 3_000);
});

test('aggregates by reason, transport and source, then resets', () => {
  let t = 0;
  const s = createDropStats({ now: () => t });
  for (let i = 0; i < 5; i++) s.count('blacklist', '10.0.0.1', 'tcp');
  for (let i = 0; i < 30; i++) s.count('rate', `10.0.1.${i % 3}`, 'udp');
  s.count('rate_ip', '10.0.1.0', 'udp');
  s.count('whitelist', '2001:db8::1', 'tcp');
  t = 60_000;
  const snap = s.snapshot();
  assert.deepEqual(snap, {
    since_ms: 0,
    until_ms: 60_000,
    total: 37,
    by_reason: { whitelist: 1, blacklist: 5, rate: 30, rate_ip: 1, proxy: 0 },
    by_transport: { tcp: 6, udp: 31 },
    top_sources: [
      { ip: '10.0.1.0', count: 11 },
      { ip: '10.0.1.1', count: 10 },
      { ip: '10.0.1.2', count: 10 },
      { ip: '10.0.0.1', count: 5 },
      { ip: '2001:db8::1', count: 1 },
    ],
    distinct_sources: 5,
    other_sources_drops: 0,
  });
  // Plain data: survives a JSON round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  assert.equal(s.snapshot(), null);
});

test('top sources are the 10 largest, most first', () => {
  const s = createDropStats();
  for (let ip = 0; ip < 50; ip++) for (let n = 0; n <= ip; n++) s.count('rate', `192.0.2.${ip}`, 'udp');
  const snap = s.snapshot();
  assert.ok(snap);
  assert.equal(snap.top_sources.length, 10);
  assert.deepEqual(
    snap.top_sources.map((x) => x.count),
    [50, 49, 48, 47, 46, 45, 44, 43, 42, 41],
  );
  assert.equal(snap.top_sources[0]?.ip, '192.0.2.49');
});

test('distinct sources are bounded; the overflow is counted as other', () => {
  const s = createDropStats({ maxSources: 100 });
  for (let i = 0; i < 1_000; i++) s.count('rate', `ip-${i}`, 'udp');
  s.count('rate', 'ip-5', 'udp'); // tracked source keeps counting
  s.count('rate', 'ip-999', 'udp'); // untracked source stays in "other"
  const snap = s.snapshot();
  assert.ok(snap);
  assert.equal(snap.total, 1_002);
  assert.equal(snap.distinct_sources, 100);
  assert.equal(snap.other_sources_drops, 901);
  assert.deepEqual(snap.top_sources[0], { ip: 'ip-5', count: 2 });
  // The next interval tracks afresh.
  s.count('blacklist', 'ip-999', 'tcp');
  assert.deepEqual(s.snapshot()?.top_sources, [{ ip: 'ip-999', count: 1 }]);
});
