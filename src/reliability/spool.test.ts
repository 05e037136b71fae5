import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../util/log.js';
import { Spool, type SpoolOp, type SpoolOptions, type SpoolRecord } from './spool.js';
import { encodeRecord, parseRecords } from '../storage/record-format.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'edge-spool-'));
const opts = (dir: string, extra: Partial<SpoolOptions> = {}): SpoolOptions => ({ dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 1024 * 1024, fsync: true, ...extra });
const segFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();

function append(s: Spool, topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) => s.append(topic, payload, (e) => (e ? reject(e) : resolve())));
}

/** Reads `n` records in order (waiting for 'readable' when the read-ahead is empty). */
async function read(s: Spool, n: number, timeoutMs = 3000): Promise<SpoolRecord[]> {
  const out: SpoolRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const r = s.next();
    if (r) out.push(r);
    else {
      if (Date.now() > deadline) throw new Error(`read ${out.length} of ${n} records`);
      await new Promise((res) => setTimeout(res, 2));
    }
  }
  return out;
}

test('spool: record format round-trips and rejects damage', () => {
  const a = encodeRecord('edge/message/x/1', '{"a":1}', 1234.5);
  const b = encodeRecord('t', Buffer.from([0, 1, 2]), 99);
  const r = parseRecords(Buffer.concat([a, b]), 100, true);
  assert.equal(r.records.length, 2);
  assert.deepEqual([r.records[0]!.topic, r.records[0]!.payload.toString(), r.records[0]!.appendedAtMs, r.records[0]!.off, r.records[0]!.end], ['edge/message/x/1', '{"a":1}', 1234.5, 100, 100 + a.length]);
  assert.deepEqual([...r.records[1]!.payload], [0, 1, 2]);
  const bad = Buffer.from(a);
  bad[bad.length - 1]! ^= 1;
  const d = parseRecords(Buffer.concat([bad, b]), 0, true);
  assert.equal(d.records.length, 1, 'CRC mismatch is skipped, the next record found by its magic');
  assert.deepEqual(d.damaged, [[0, a.length]]);
  const torn = parseRecords(Buffer.concat([a, b.subarray(0, 7)]), 0, false);
  assert.equal(torn.records.length, 1);
  assert.equal(torn.consumed, a.length, 'an incomplete tail waits for more bytes');
});

test('spool: append (group commit) → read in order → ack advances the cursor and deletes segments', async () => {
  const dir = tmp();
  try {
    const s = await Spool.open(opts(dir, { segmentBytes: 4096 }));
    const n = 500;
    await Promise.all(Array.from({ length: n }, (_, i) => append(s, `edge/message/gw/channels/1/dev${i % 7}`, JSON.stringify({ i }))));
    assert.equal(s.records, n);
    assert.ok(s.stats.writeBatches < n / 5, `group commit: ${s.stats.writeBatches} syncs for ${n} appends`);
    assert.ok(segFiles(dir).length > 3, 'rotated into several segments');
    assert.equal(s.bytes, segFiles(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0));
    const recs = await read(s, n);
    assert.deepEqual(recs.map((r) => JSON.parse(r.payload.toString()).i), Array.from({ length: n }, (_, i) => i));
    assert.equal(recs[3]!.topic, 'edge/message/gw/channels/1/dev3');
    // out-of-order acks: the prefix advances only over contiguous confirmed records
    s.ack(recs[1]!);
    assert.equal(s.records, n);
    s.ack(recs[0]!);
    assert.equal(s.records, n - 2);
    for (const r of recs.slice(2)) s.ack(r);
    assert.equal(s.records, 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(segFiles(dir), [], 'fully confirmed segments are deleted');
    assert.equal(s.bytes, 0);
    assert.ok(s.isEmpty);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool: restart resumes at the durable cursor; unconfirmed records come back in order', async () => {
  const dir = tmp();
  try {
    const s = await Spool.open(opts(dir, { segmentBytes: 2048 }));
    for (let i = 0; i < 60; i++) await append(s, 't/' + i, `p${i}`);
    const first = await read(s, 25);
    for (const r of first.slice(0, 20)) s.ack(r); // 20 confirmed, 5 in flight (lost with the process)
    await s.close();
    const s2 = await Spool.open(opts(dir, { segmentBytes: 2048 }));
    assert.equal(s2.records, 40);
    const rest = await read(s2, 40);
    assert.deepEqual(rest.map((r) => r.payload.toString()), Array.from({ length: 40 }, (_, i) => `p${i + 20}`));
    await append(s2, 't/new', 'pnew');
    const more = await read(s2, 1);
    assert.equal(more[0]!.payload.toString(), 'pnew');
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool: recovery truncates a torn tail and skips a damaged record', async () => {
  const dir = tmp();
  try {
    const s = await Spool.open(opts(dir));
    for (let i = 0; i < 10; i++) await append(s, 't', `rec${i}`);
    await s.close();
    const [seg] = segFiles(dir);
    const path = join(dir, seg!);
    const good = statSync(path).size;
    // a crash in the middle of a write: half a record at the tail
    appendFileSync(path, encodeRecord('t', 'torn-record-payload', 1).subarray(0, 20));
    // and a flipped bit inside record 3's payload
    const bytes = readFileSync(path);
    const third = bytes.indexOf('rec3');
    bytes[third]! ^= 0x20;
    writeFileSync(path, bytes);
    const s2 = await Spool.open(opts(dir));
    assert.equal(statSync(path).size, good, 'torn tail truncated');
    assert.equal(s2.records, 9);
    assert.ok(s2.stats.damagedBytes > 20);
    const recs = await read(s2, 9);
    assert.deepEqual(recs.map((r) => r.payload.toString()), ['rec0', 'rec1', 'rec2', 'rec4', 'rec5', 'rec6', 'rec7', 'rec8', 'rec9']);
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool: at the size cap appends wait (full), nothing is dropped, and drain follows once records are confirmed', async () => {
  const dir = tmp();
  try {
    const s = await Spool.open(opts(dir, { maxBytes: 16 * 1024, segmentBytes: 2048 }));
    const events: string[] = [];
    s.on('full', () => events.push('full'));
    s.on('drain', () => events.push('drain'));
    const payload = 'x'.repeat(200);
    const done: number[] = [];
    const failed: unknown[] = [];
    const total = 150; // ~35 KB: twice the cap
    for (let i = 0; i < total; i++) s.append('t', `${i}:${payload}`, (e) => (e ? failed.push(e) : done.push(i)));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(events, ['full']);
    assert.ok(done.length < total && done.length > 40, `${done.length} written before the cap`);
    assert.ok(s.bytes <= 16 * 1024);
    // confirm records as a drain would; the waiting appends get room
    const seen: number[] = [];
    const deadline = Date.now() + 5000;
    while (seen.length < total && Date.now() < deadline) {
      const r = s.next();
      if (!r) {
        await new Promise((res) => setTimeout(res, 2));
        continue;
      }
      seen.push(Number(r.payload.toString().split(':')[0]));
      s.ack(r);
    }
    assert.deepEqual(failed, []);
    assert.equal(done.length, total);
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i), 'every record, in order');
    assert.ok(events.includes('drain'));
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool: disk errors fail the batch with EDGE_SPOOL_WRITE_FAILED, then writes recover', async () => {
  const dir = tmp();
  try {
    let fault: string | null = null;
    const s = await Spool.open(opts(dir, { failFastMs: 100, faultHook: (op) => (op === fault ? Object.assign(new Error('injected I/O error'), { code: 'EIO' }) : null) }));
    await append(s, 't', 'before');
    fault = 'sync';
    await assert.rejects(append(s, 't', 'lost-sync'), (e: Error & { code?: string }) => e.code === 'EDGE_SPOOL_WRITE_FAILED' && /EIO/.test(e.message));
    assert.ok(s.isFailed);
    fault = null;
    await assert.rejects(append(s, 't', 'fail-fast'), (e: Error & { code?: string }) => e.code === 'EDGE_SPOOL_WRITE_FAILED', 'fails fast right after an error');
    await new Promise((r) => setTimeout(r, 120));
    fault = 'write';
    await assert.rejects(append(s, 't', 'lost-write'));
    fault = null;
    await new Promise((r) => setTimeout(r, 120));
    await append(s, 't', 'after');
    assert.equal(s.isFailed, false);
    // only acknowledged appends count; the failed sync's bytes are not trusted
    assert.equal(s.records, 2);
    const recs = await read(s, 2);
    assert.deepEqual(recs.map((r) => r.payload.toString()), ['before', 'after']);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool: a file where the directory should be, and a second owner, give clear errors', async () => {
  const dir = tmp();
  try {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const s = await Spool.open(opts(file));
    assert.ok(s.isFailed);
    await assert.rejects(append(s, 't', 'p'), (e: Error & { code?: string }) => e.code === 'EDGE_SPOOL_WRITE_FAILED' && /not-a-dir/.test(e.message));
    await s.close();
    const a = await Spool.open(opts(join(dir, 'spool')));
    const b = await Spool.open(opts(join(dir, 'spool')));
    await assert.rejects(append(b, 't', 'p'), (e: Error & { code?: string }) => e.code === 'EDGE_SPOOL_LOCKED');
    await append(a, 't', 'p');
    await b.close();
    await a.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool: after a disk error the error clears once the disk is healthy, with no append needed; repeats are logged once per interval', async () => {
  const dir = tmp();
  try {
    let t = 1_000_000;
    const lines: { level: number; msg: string; failures?: number }[] = [];
    const log = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as (typeof lines)[number]), cb()) }));
    let fault: SpoolOp | null = 'sync';
    const s = await Spool.open(opts(dir, { now: () => t, failFastMs: 1000, logIntervalMs: 60_000, log, faultHook: (op) => (op === fault ? Object.assign(new Error('injected I/O error'), { code: 'EIO' }) : null) }));
    const events: string[] = [];
    s.on('failed', () => events.push('failed'));
    s.on('recovered', () => events.push('recovered'));
    await assert.rejects(append(s, 't', 'a'));
    for (let i = 0; i < 200; i++) await assert.rejects(append(s, 't', `fail-fast ${i}`));
    assert.equal(s.stats.refused, 201, 'every refused append is counted');
    s.retryDisk(); // within the fail-fast pause: no probe
    assert.equal(s.stats.writeErrors, 1);
    // the disk stays broken for 100 s: one probe per second, each fails
    for (let i = 1; i <= 100; i++) {
      t += 1000;
      s.retryDisk();
      await waitUntil(() => s.stats.writeErrors === i + 1);
    }
    assert.ok(s.isFailed);
    const errors = lines.filter((l) => l.level === 50);
    const summaries = lines.filter((l) => l.level === 40 && /still failing/.test(l.msg));
    assert.equal(errors.length, 1, `one error line for 101 failures, got ${JSON.stringify(errors)}`);
    assert.equal(summaries.length, 1, 'one summary line per 60 s interval');
    assert.equal(summaries[0]!.failures, 61);
    assert.deepEqual(events, ['failed'], "'failed' once, not once per failure");
    // the disk is healthy again; nothing is appended (live traffic goes direct), a probe finds out
    fault = null;
    t += 1000;
    s.retryDisk();
    await waitUntil(() => !s.isFailed);
    assert.equal(s.error, null);
    assert.deepEqual(events, ['failed', 'recovered']);
    const rec = lines.find((l) => /succeed again/.test(l.msg));
    assert.equal(rec?.failures, 101, 'the recovery line carries the total');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('probe')), [], 'the probe file is removed');
    await append(s, 't', 'after');
    assert.equal(s.records, 1);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
