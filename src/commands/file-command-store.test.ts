import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredCommand } from './command-store.js';
import { FileCommandStore } from './file-command-store.js';

const cmd = (id: string, extra: Partial<StoredCommand> = {}): StoredCommand => ({
  id,
  channelId: '1',
  ident: '13226005504143',
  name: 'text',
  properties: { text: `t-${id}` },
  meta: `{"id": "${id}"}`,
  queuedAtMs: 1000,
  expiresAtMs: 2000,
  timeoutMs: 15000,
  attempts: 0,
  ...extra,
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cmdstore-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reopen keeps the held commands in add order, with attempts, without the removed ones', () =>
  withDir(async (dir) => {
    const a = new FileCommandStore({ dir, fsync: true });
    assert.deepEqual(await a.load(), []);
    await Promise.all([a.add(cmd('c1')), a.add(cmd('c2')), a.add(cmd('c3')), a.add(cmd('c4'))]);
    await a.setAttempts('c2', 2);
    await a.remove('c3');
    await a.close();
    const b = new FileCommandStore({ dir, fsync: true });
    const got = await b.load();
    assert.deepEqual(got.map((c) => [c.id, c.attempts]), [['c1', 0], ['c2', 2], ['c4', 0]]);
    assert.deepEqual(got[0], cmd('c1'), 'every field round-trips, meta text included');
    await b.close();
  }));

test('a torn tail (crash mid-write) is dropped and reported; appends continue after the valid records', () =>
  withDir(async (dir) => {
    const a = new FileCommandStore({ dir, fsync: false });
    await a.load();
    for (const id of ['c1', 'c2', 'c3']) await a.add(cmd(id));
    await a.close();
    const log = join(dir, 'commands.log');
    const full = statSync(log).size;
    truncateSync(log, full - 7); // the last record loses its end
    const reports: string[] = [];
    const b = new FileCommandStore({ dir, fsync: false, onCorrupt: (i) => reports.push(`${i.code} ${i.reason}`) });
    assert.deepEqual((await b.load()).map((c) => c.id), ['c1', 'c2']);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /^EDGE_COMMAND_STORE_CORRUPT .*not valid records/);
    await b.add(cmd('c5'));
    await b.close();
    const c = new FileCommandStore({ dir, fsync: false, onCorrupt: () => assert.fail('the store was rewritten clean') });
    assert.deepEqual((await c.load()).map((x) => x.id), ['c1', 'c2', 'c5']);
    await c.close();
  }));

test('garbage in the middle is skipped; the records after it still count', () =>
  withDir(async (dir) => {
    const a = new FileCommandStore({ dir, fsync: false });
    await a.load();
    await a.add(cmd('c1'));
    await a.close();
    const log = join(dir, 'commands.log');
    appendFileSync(log, Buffer.from('not a record at all'));
    const b0 = new FileCommandStore({ dir, fsync: false, onCorrupt: () => {} });
    await b0.load(); // rewrites: the garbage is gone
    await b0.close();
    const bytes = readFileSync(log);
    writeFileSync(log, Buffer.concat([bytes, Buffer.from([0x45, 0x44, 0x53, 0x50, 1, 2, 3]), bytes]));
    let damaged = 0;
    const b = new FileCommandStore({ dir, fsync: false, onCorrupt: (i) => (damaged += i.ranges.length) });
    assert.deepEqual((await b.load()).map((c) => c.id), ['c1']);
    assert.equal(damaged, 1);
    await b.close();
  }));

test('compaction keeps the file near the size of the live commands', () =>
  withDir(async (dir) => {
    const s = new FileCommandStore({ dir, fsync: false });
    await s.load();
    await s.add(cmd('keep'));
    for (let i = 0; i < 1500; i++) {
      await s.add(cmd(`tmp-${i}`, { properties: { text: 'x'.repeat(100) } }));
      await s.setAttempts(`tmp-${i}`, 1);
      await s.remove(`tmp-${i}`);
    }
    assert.ok(s.bytes < 300 * 1024, `log is ${s.bytes} bytes`);
    await s.compact();
    assert.ok(s.bytes < 1024, `after an explicit compaction: ${s.bytes} bytes`);
    await s.add(cmd('after'));
    await s.close();
    const r = new FileCommandStore({ dir, fsync: false });
    assert.deepEqual((await r.load()).map((c) => c.id), ['keep', 'after']);
    await r.close();
  }));

test('one process per directory: a second open fails, a stale lock of a dead process is taken over', () =>
  withDir(async (dir) => {
    const a = new FileCommandStore({ dir, fsync: false });
    await a.load();
    await assert.rejects(new FileCommandStore({ dir, fsync: false }).load(), /EDGE_COMMAND_STORE_FAILED: .*already open in this process/);
    await a.close();
    writeFileSync(join(dir, 'lock'), '2147483646'); // no such pid
    const b = new FileCommandStore({ dir, fsync: false });
    await b.load();
    await b.close();
  }));
