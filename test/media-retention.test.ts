import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sidecarPath } from '../src/media/media-store.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { withTempDir } from './support/temp-dir.js';

/**
 * Retention of stored files over the whole server: the sweep at start applies media.retention and a
 * channel's override, protected files and uploads in progress are never touched, each deletion is a
 * `deleted` media event with its reason; a device's own size cap set over the API applies at once.
 */
const FULL = 'full-token-0123456789abcdef';
const DAY_MS = 86_400_000;

function put(dir: string, channel: string, ident: string, name: string, bytes: number, ageDays: number, prot = false): string {
  const folder = join(dir, channel, ident);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, name);
  writeFileSync(path, Buffer.alloc(bytes, 7));
  writeFileSync(sidecarPath(path), JSON.stringify({ key: name, kind: 'image', bytes, sha256: 'x'.repeat(64), stored_at_ms: Date.now() - ageDays * DAY_MS, ...(prot ? { protected: true } : {}) }));
  return path;
}

function deleted(h: Harness, channel: string, ident: string): { name: string; reason: string }[] {
  return h.received
    .filter((m) => m.topic === `${h.root}/log/gw/channels/${channel}/devices/${ident}/media`)
    .map((m) => JSON.parse(m.payload) as Record<string, unknown>)
    .filter((e) => e.event === 'deleted')
    .map((e) => ({ name: String(e['media.file.name']), reason: String(e.reason) }));
}

test('retention: age limit and a channel override at start, protected files and .part uploads untouched, one deleted event each; a device cap set over the API applies at once', { timeout: 60_000 }, async () => {
  let paths: Record<string, string> = {};
  await withTempDir(
    'edge-retention-',
    (dir) => {
      paths = {
        oldA: put(dir, '1', 'dev-a', 'image-old.jpg', 100, 40),
        newA: put(dir, '1', 'dev-a', 'image-new.jpg', 100, 1),
        protectedA: put(dir, '1', 'dev-a', 'image-kept.jpg', 100, 90, true),
        // channel 2 keeps files 100 days: the 40-day-old one stays
        oldB: put(dir, '2', 'dev-b', 'image-old.jpg', 100, 40),
      };
      writeFileSync(join(dir, '1', 'dev-a', 'upload-9.part'), 'half an upload');
      const ch = (id: number, extra: Record<string, unknown> = {}) => ({ id, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, ...extra });
      return startHarness({
        channels: [ch(1), ch(2, { media_retention: { ttl_days: 100 } })],
        extra: { media: { dir, retention: { ttl_days: 30 } }, http: { port: 0, tokens: `full:${FULL}` } },
      });
    },
    async (h, dir) => {
      await waitFor('the sweep at start', () => deleted(h, '1', 'dev-a').length === 1, 10_000);
      assert.deepEqual(deleted(h, '1', 'dev-a'), [{ name: 'image-old.jpg', reason: 'ttl' }]);
      assert.equal(existsSync(paths.oldA!), false);
      assert.equal(existsSync(sidecarPath(paths.oldA!)), false, 'its sidecar goes with it');
      assert.equal(existsSync(paths.protectedA!), true, 'protected files stay');
      assert.equal(existsSync(paths.newA!), true);
      assert.equal(existsSync(join(dir, '1', 'dev-a', 'upload-9.part')), true, 'an upload in progress is never touched');
      assert.equal(existsSync(paths.oldB!), true, "channel 2's own limit keeps it");
      assert.deepEqual(deleted(h, '2', 'dev-b'), []);

      // a device's own cap over the API: its oldest unprotected files go at once
      const base = `http://127.0.0.1:${h.app.http!.port}`;
      put(dir, '2', 'dev-b', 'image-mid.jpg', 100, 10);
      put(dir, '2', 'dev-b', 'image-last.jpg', 100, 2);
      const res = await fetch(`${base}/api/v1/retention/2/dev-b`, { method: 'PUT', headers: { authorization: `Bearer ${FULL}`, 'content-type': 'application/json' }, body: JSON.stringify({ rotate_bytes: 150 }) });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { own: Record<string, unknown>; effective: Record<string, unknown>; deleted: number };
      assert.deepEqual(body.own, { ttl_days: null, rotate_bytes: 150 });
      assert.deepEqual(body.effective, { ttl_days: 100, rotate_bytes: 150 });
      assert.equal(body.deleted, 2);
      await waitFor('rotate events', () => deleted(h, '2', 'dev-b').length === 2);
      assert.deepEqual(deleted(h, '2', 'dev-b'), [
        { name: 'image-old.jpg', reason: 'rotate' },
        { name: 'image-mid.jpg', reason: 'rotate' },
      ]);
      assert.equal(existsSync(join(dir, '2', 'dev-b', 'image-last.jpg')), true);
      const bad = await fetch(`${base}/api/v1/retention/2/dev-b`, { method: 'PUT', headers: { authorization: `Bearer ${FULL}`, 'content-type': 'application/json' }, body: JSON.stringify({ rotate_bytes: -1 }) });
      assert.equal(bad.status, 400);
      assert.equal((await fetch(`${base}/api/v1/retention/9/dev-b`, { headers: { authorization: `Bearer ${FULL}` } })).status, 404);
      // applying the same rule again finds nothing more: each file was reported once
      const again = (await (await fetch(`${base}/api/v1/retention/2/dev-b`, { method: 'PUT', headers: { authorization: `Bearer ${FULL}`, 'content-type': 'application/json' }, body: '{}' })).json()) as { deleted: number };
      assert.equal(again.deleted, 0);
      assert.equal(deleted(h, '2', 'dev-b').length, 2);
    },
  );
});
