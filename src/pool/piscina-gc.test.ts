import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { adaptPiscina, piscinaAdapted } from './piscina-gc.js';

/**
 * The installed Piscina still has the shape piscina-gc.ts relies on; with it, the balancer gets one
 * interface object per worker across tasks whose getters read live state, and results and errors still
 * reach their callers. (If an upgrade breaks the shape, the pool still works; this test says so.)
 */
test('one interface object per worker with live values, and finished tasks drop their callback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-piscina-'));
  const worker = join(dir, 'echo.mjs');
  writeFileSync(worker, "export default async (x) => { await new Promise((r) => setTimeout(r, 20)); if (x === 'fail') throw new Error('as asked'); return x; };\n");
  const seen: { obj: object; usage: number }[][] = [];
  const piscina = new Piscina({
    filename: pathToFileURL(worker).href,
    minThreads: 1,
    maxThreads: 1,
    loadBalancer: (_task, workers) => {
      seen.push(workers.map((w) => ({ obj: w as object, usage: w.currentUsage })));
      return workers.find((w) => w.currentUsage === 0) ?? null;
    },
  });
  try {
    let created: unknown = null;
    piscina.on('workerCreate', (iface: unknown) => (created = iface));
    adaptPiscina(piscina);
    assert.equal(await piscina.run(1), 1);
    while (created === null) await new Promise((r) => setTimeout(r, 5));
    seen.length = 0;
    // three at once on one thread: the later ones are balanced while the first runs
    const running = Promise.all([piscina.run(2), piscina.run(3), piscina.run(4)]);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(piscinaAdapted(created), { interfaceCached: true, doneReleases: true }, 'the installed Piscina no longer has what piscina-gc.ts wraps');
    assert.deepEqual(await running, [2, 3, 4]);
    await assert.rejects(piscina.run('fail'), /as asked/);
    const objects = new Set(seen.flat().map((s) => s.obj));
    assert.equal(objects.size, 1, 'one interface object for the one worker');
    assert.ok(
      seen.some((ws) => ws.some((w) => w.usage > 0)),
      'the cached interface still reports the current usage (a busy worker)',
    );
    assert.ok(seen.some((ws) => ws.some((w) => w.usage === 0)));
  } finally {
    await piscina.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('anything that is not a Piscina worker interface is left alone', () => {
  const none = { interfaceCached: false, doneReleases: false };
  assert.deepEqual(piscinaAdapted(null), none);
  assert.deepEqual(piscinaAdapted({}), none);
  assert.deepEqual(piscinaAdapted({ [Symbol('Piscina.kWorkerData')]: 5 }), none);
});
