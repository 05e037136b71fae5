import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { DirLock } from './dir-lock.js';

// Short heartbeat so the tests do not wait seconds; the logic is the same at the defaults.
const FAST = { refreshMs: 50, staleMs: 400 };
const isLocked = (e: unknown) => (e as { code?: string }).code === 'EDGE_SPOOL_LOCKED';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'edge-lock-'));
}

test('directory lock: a second owner is refused while the first beats; release lets it in', async () => {
  const dir = tmp();
  try {
    const a = await DirLock.acquire(dir, { instanceId: 'a', ...FAST });
    const held = JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { instance: string; pid: number; token: string };
    assert.equal(held.instance, 'a');
    assert.equal(held.token, a.token);
    await assert.rejects(DirLock.acquire(dir, { instanceId: 'b', ...FAST }), (e: unknown) => isLocked(e) && /instance a/.test((e as Error).message));
    a.release();
    assert.equal(existsSync(join(dir, 'lock')), false);
    const b = await DirLock.acquire(dir, { instanceId: 'b', ...FAST });
    b.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('directory lock: a lock left by a dead owner with our own pid (a container restart) is taken over', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'lock');
    const left = JSON.stringify({ instance: 'same', pid: process.pid, host: 'h', token: 'old', since: '' });
    // crashed just now (fresh mtime, no heartbeat any more): taken once the heartbeat is stale
    writeFileSync(path, left);
    const l1 = await DirLock.acquire(dir, { instanceId: 'same', ...FAST });
    assert.notEqual(JSON.parse(readFileSync(path, 'utf8')).token, 'old');
    l1.release();
    // crashed long ago: taken at once
    writeFileSync(path, left);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const l2 = await DirLock.acquire(dir, { instanceId: 'same', ...FAST });
    l2.release();
    // torn by a crash mid-write (empty file)
    writeFileSync(path, '');
    const l3 = await DirLock.acquire(dir, { instanceId: 'same', ...FAST });
    l3.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('directory lock: a crashed earlier run of this instance on this host (pid gone) is taken over without waiting for its heartbeat', { timeout: 20_000 }, async () => {
  const dir = tmp();
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(gone, 'exit');
  try {
    writeFileSync(join(dir, 'lock'), JSON.stringify({ instance: 'me', pid: gone.pid, host: hostname(), token: 'old', since: '' }));
    // a stale window far beyond the test timeout: only the fast path can pass
    const l = await DirLock.acquire(dir, { instanceId: 'me', refreshMs: 50, staleMs: 120_000 });
    l.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('directory lock: a live owner in another process keeps it; after it is killed the lock is taken', { timeout: 30_000 }, async () => {
  const dir = tmp();
  const lockModule = new URL('./dir-lock.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { DirLock } = await import(${JSON.stringify(lockModule)});
    await DirLock.acquire(${JSON.stringify(dir)}, { instanceId: 'other', refreshMs: 50, staleMs: 400 });
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    assert.match(chunk.toString(), /locked/);
    await assert.rejects(DirLock.acquire(dir, { instanceId: 'me', ...FAST }), (e: unknown) => isLocked(e) && /instance other/.test((e as Error).message));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const mine = await DirLock.acquire(dir, { instanceId: 'me', ...FAST });
    assert.equal(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).instance, 'me');
    mine.release();
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('directory lock: a bare-pid lock of an earlier version is honoured while that pid lives', async () => {
  const dir = tmp();
  const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, 'lock'), String(sleeper.pid));
    await assert.rejects(DirLock.acquire(dir, { instanceId: 'me', ...FAST }), (e: unknown) => isLocked(e) && new RegExp(`process ${sleeper.pid}`).test((e as Error).message));
    sleeper.kill('SIGKILL');
    await once(sleeper, 'exit');
    const l = await DirLock.acquire(dir, { instanceId: 'me', ...FAST });
    l.release();
  } finally {
    sleeper.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('directory lock: an owner whose lock was replaced notices on its next beat and leaves the new lock alone', async () => {
  const dir = tmp();
  // the heartbeat timer is unref'd (it must not keep a stopping process alive): hold the loop open
  const keepAlive = setInterval(() => {}, 1000);
  try {
    let onLost: (h: string) => void = () => {};
    const lost = new Promise<string>((resolve) => (onLost = resolve));
    const a = await DirLock.acquire(dir, { instanceId: 'a', ...FAST, onLost });
    writeFileSync(join(dir, 'lock'), JSON.stringify({ instance: 'thief', token: 'x' }));
    assert.match(await lost, /thief/);
    a.release();
    assert.match(readFileSync(join(dir, 'lock'), 'utf8'), /thief/, 'release must not delete a lock that is not ours');
  } finally {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory this process already holds is refused at once, for any store, with the store named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-lock-'));
  const a = await DirLock.acquire(dir, { instanceId: 'a', ...FAST });
  try {
    const t0 = Date.now();
    await assert.rejects(DirLock.acquire(dir, { instanceId: 'a', ...FAST, what: 'command store', code: 'EDGE_COMMAND_STORE_FAILED' }), (e: unknown) => (e as { code?: string }).code === 'EDGE_COMMAND_STORE_FAILED' && /command store .* already open in this process/.test((e as Error).message));
    assert.ok(Date.now() - t0 < 100, 'no wait for a heartbeat that is our own');
  } finally {
    a.release();
    rmSync(dir, { recursive: true, force: true });
  }
});
