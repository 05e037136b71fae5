import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileAssetStore } from '../src/assets/file-asset-store.js';
import { KILL_ASSETS, KILL_T0 } from './support/assets-kill-child.js';
import { killChildWhen } from './support/kill-child.js';

test('SIGKILL while intervals are being written: every change reported durable survives, no file is torn', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-assetkill-'));
  try {
    let acked = -1;
    await killChildWhen(
      'assets-kill-child.js',
      [dir],
      (l) => (acked = Number(l)),
      () => acked >= 150,
      () => `only ${acked + 1} changes in 30 s`,
    );
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
