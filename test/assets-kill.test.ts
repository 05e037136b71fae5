import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { FileAssetStore } from '../src/assets/file-asset-store.js';
import { KILL_ASSETS, KILL_T0 } from './support/assets-kill-child.js';

test('SIGKILL while intervals are being written: every change reported durable survives, no file is torn', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-assetkill-'));
  try {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist/test/support/assets-kill-child.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${acked + 1} changes in 30 s`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) acked = Number(l);
        if (acked >= 150 && !child.killed) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => {
        if (!child.killed) reject(new Error(`child exited by itself (${code})`));
      });
    });
    await new Promise((r) => child.once('close', r));
    const corrupt: string[] = [];
    const store = new FileAssetStore({ dir, fsync: true, onCorrupt: (i) => corrupt.push(i.file) });
    const records = new Map((await store.load()).map((r) => [r.asset.id, r]));
    await store.close();
    assert.deepEqual(corrupt, []);
    for (let i = 0; i <= acked; i++) {
      const r = records.get(`a${i % KILL_ASSETS}`);
      assert.ok(r, `asset a${i % KILL_ASSETS}`);
      const iv = r.intervals.find((x) => x.ident === `dev${i}`);
      assert.ok(iv, `message ${i} was reported durable: its interval must be there`);
      assert.equal(iv.begin, KILL_T0 + i);
      // the next move of that asset, if durable, closed it where the next one began
      const next = r.intervals.find((x) => x.ident === `dev${i + KILL_ASSETS}`);
      assert.equal(iv.end, next ? KILL_T0 + i + KILL_ASSETS : 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
