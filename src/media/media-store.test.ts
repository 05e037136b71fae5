import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMediaStore } from './media-store.js';

test('sweepStaleParts removes only .part files untouched for the given age, never complete files or fresh uploads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-media-sweep-'));
  try {
    const now = Date.UTC(2026, 10, 29, 12, 0, 0);
    const folder = join(dir, '1', '868204004248349');
    mkdirSync(folder, { recursive: true });
    const old = join(folder, 'ddd-1-2900.part');
    const fresh = join(folder, 'ddd-2-2900.part');
    const done = join(folder, 'tacho-20261101T000000Z-ddd-0-2900.ddd');
    for (const f of [old, fresh, done]) writeFileSync(f, 'x');
    const twoDaysAgo = (now - 2 * 86_400_000) / 1000;
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    utimesSync(done, twoDaysAgo, twoDaysAgo);
    const anHourAgo = (now - 3_600_000) / 1000;
    utimesSync(fresh, anHourAgo, anHourAgo);
    writeFileSync(join(dir, 'stray-file-at-the-top'), 'x'); // not a channel folder: skipped, no error

    const store = new FileMediaStore(dir, { now: () => now });
    assert.equal(await store.sweepStaleParts(86_400_000), 1);
    assert.deepEqual(readdirSync(folder).sort(), ['ddd-2-2900.part', 'tacho-20261101T000000Z-ddd-0-2900.ddd']);
    assert.equal(await store.sweepStaleParts(86_400_000), 0);
    // a missing media folder (nothing uploaded yet) is not an error
    assert.equal(await new FileMediaStore(join(dir, 'none')).sweepStaleParts(1), 0);
    assert.ok(existsSync(done));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
