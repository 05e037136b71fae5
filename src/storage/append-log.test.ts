import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendLog, type AppendLogOptions } from './append-log.js';
import { encodeRecord, parseRecords } from './record-format.js';

/** A log whose live state is a map key → value (the last record of a key wins), as the stores keep theirs. */
function kv(dir: string, extra: Partial<AppendLogOptions> = {}) {
  const live = new Map<string, string>();
  let syncs = 0;
  const o: AppendLogOptions = {
    path: join(dir, 'x.log'),
    fsync: true,
    code: 'EDGE_COMMAND_STORE_FAILED',
    snapshot: () => Buffer.concat([...live].map(([k, v]) => encodeRecord(k, v, 1))),
    liveBytes: () => [...live].reduce((n, [k, v]) => n + 22 + k.length + v.length, 0),
    compactMinBytes: 1 << 30,
    compactRatio: 4,
    onSync: () => syncs++,
    ...extra,
  };
  return {
    live,
    o,
    syncs: () => syncs,
    set: (log: AppendLog, k: string, v: string) => {
      live.set(k, v);
      return log.append(encodeRecord(k, v, 1));
    },
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'edge-alog-'));

test('append log: appends made while a batch syncs go out together (fewer syncs than appends), each resolved once synced, all read back in order', async () => {
  const dir = tmp();
  try {
    const s = kv(dir);
    const { log } = await AppendLog.open(s.o);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.set(log, `k${i}`, `v${i}`)));
    assert.ok(s.syncs() >= 1 && s.syncs() < 50, `${s.syncs()} syncs for 50 appends`);
    await log.close();
    const again = await AppendLog.open(s.o);
    assert.deepEqual(
      again.records.map((r) => r.topic),
      Array.from({ length: 50 }, (_, i) => `k${i}`),
    );
    assert.equal(again.damage, null);
    await again.log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('append log: a torn last record is dropped and reported on open; after a compaction appends continue after valid records', async () => {
  const dir = tmp();
  try {
    const s = kv(dir);
    const { log } = await AppendLog.open(s.o);
    await s.set(log, 'a', '1');
    await s.set(log, 'b', '2');
    await log.close();
    const whole = encodeRecord('c', '3', 1);
    appendFileSync(s.o.path, whole.subarray(0, whole.length - 3)); // a crash mid-write
    const o = await AppendLog.open(s.o);
    assert.deepEqual(
      o.records.map((r) => r.topic),
      ['a', 'b'],
    );
    assert.equal(o.damaged.length, 1);
    assert.match(o.damage ?? '', /not valid records/);
    await o.log.compact();
    await s.set(o.log, 'd', '4');
    await o.log.close();
    const p = parseRecords(readFileSync(s.o.path), 0, true);
    assert.deepEqual(p.damaged, []);
    assert.deepEqual(
      p.records.map((r) => r.topic),
      ['a', 'b', 'd'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('append log: the file is compacted to the live state once it outgrows it, and a leftover .tmp of a crashed compaction is removed on open', async () => {
  const dir = tmp();
  try {
    const s = kv(dir, { compactMinBytes: 2048 });
    writeFileSync(`${s.o.path}.tmp`, 'half a compaction');
    const { log } = await AppendLog.open(s.o);
    assert.equal(existsSync(`${s.o.path}.tmp`), false);
    for (let i = 0; i < 200; i++) await s.set(log, 'same', `value ${i}`);
    assert.ok(log.bytes < 2048 + 100, `compacted: ${log.bytes} bytes`);
    assert.equal(statSync(s.o.path).size, log.bytes);
    await log.close();
    const again = await AppendLog.open(s.o);
    assert.equal(again.records.at(-1)?.payload.toString(), 'value 199');
    await again.log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("append log: after close an append is refused with the owner's error code", async () => {
  const dir = tmp();
  try {
    const s = kv(dir);
    const { log } = await AppendLog.open(s.o);
    await log.close();
    await assert.rejects(log.append(encodeRecord('k', 'v', 1)), (e: unknown) => (e as { code?: string }).code === 'EDGE_COMMAND_STORE_FAILED');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
