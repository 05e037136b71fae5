import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaCatalog, mediaId } from './media-catalog.js';
import { sidecarPath } from './media-store.js';

function put(dir: string, ident: string, name: string, meta: Record<string, unknown>, storedAtMs: number): void {
  const folder = join(dir, '1', ident);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, name), 'bytes');
  writeFileSync(sidecarPath(join(folder, name)), JSON.stringify({ key: name, kind: 'tacho', bytes: 5, sha256: 'a'.repeat(64), stored_at_ms: storedAtMs, meta }));
}

test('media catalogue: search by the command that asked for a file and by alarm; a file added later is seen (the folder changed); hostile ids name nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-catalog-'));
  try {
    put(dir, 'dev', 'tacho-20261205T100000Z-a.ddd', { 'command.id': 'cmd-1' }, 1_780_000_000_000);
    put(dir, 'dev', 'image-20261205T100100Z-b.jpg', { 'alarm.number': '0123', 'alarm.source': 'dsm' }, 1_780_000_060_000);
    const c = new MediaCatalog(dir);
    assert.deepEqual(
      (await c.list({ command: 'cmd-1' })).map((e) => e.name),
      ['tacho-20261205T100000Z-a.ddd'],
    );
    assert.deepEqual(
      (await c.list({ alarm: '0123' })).map((e) => e.name),
      ['image-20261205T100100Z-b.jpg'],
    );
    assert.deepEqual(await c.list({ command: 'cmd-2' }), []);
    assert.equal((await c.list({})).length, 2);
    // a third file: the folder's mtime moved, the cached listing is read again
    await new Promise((r) => setTimeout(r, 20));
    put(dir, 'dev', 'tacho-20261205T100200Z-c.ddd', { 'command.id': 'cmd-2' }, 1_780_000_120_000);
    assert.deepEqual(
      (await c.list({ command: 'cmd-2' })).map((e) => e.name),
      ['tacho-20261205T100200Z-c.ddd'],
    );
    const e = await c.get(mediaId('1', 'dev', 'tacho-20261205T100000Z-a.ddd'));
    assert.deepEqual(e.meta, { 'command.id': 'cmd-1' });
    for (const id of [Buffer.from('1/dev/../../x').toString('base64url'), Buffer.from(`1/dev/${'tacho-20261205T100000Z-a.ddd'}.meta.json`).toString('base64url'), 'x/y', '']) {
      await assert.rejects(c.get(id), (err: unknown) => (err as { code?: string }).code === 'EDGE_HTTP_NOT_FOUND', id);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
