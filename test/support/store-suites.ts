import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AssetStore } from '../../src/assets/asset-store.js';
import type { AssetRecord, Interval } from '../../src/assets/types.js';
import type { CommandStore, StoredCommand } from '../../src/commands/command-store.js';

/**
 * The contracts every store backend must keep, written once and run against each backend (file and
 * Redis), in the manner of aedes' persistence test suites. A backend is a factory: `open()` gives a
 * store over the same durable state (a second instance after a restart, or a second instance of the
 * deployment), `cleanup()` removes that state. `skip`: the reason the backend cannot run here.
 */
export interface Backend<S> {
  name: string;
  skip: string | false;
  open(): Promise<S>;
  cleanup(): Promise<void>;
}

const cmd = (id: string, over: Partial<StoredCommand> = {}): StoredCommand => ({
  id,
  channelId: '1',
  ident: '860000000000001',
  name: 'text',
  properties: { text: `ü ${id}`, n: 1.5 },
  // meta is kept byte for byte: spacing and number forms are the sender's
  meta: '{"ticket": "OPS-1", "n": [1, 2.50]}',
  queuedAtMs: 1_700_000_000_000,
  expiresAtMs: Date.now() + 3_600_000,
  timeoutMs: 15_000,
  attempts: 0,
  ...over,
});

/** A test of a contract on a fresh backend (its state removed afterwards), named with the backend. */
function runner<S>(contract: string, backend: () => Backend<S>) {
  return (name: string, body: (b: Backend<S>) => Promise<void>) => {
    const b = backend();
    test(`${contract} contract: ${name} (${b.name})`, { skip: b.skip }, async () => {
      try {
        await body(b);
      } finally {
        await b.cleanup();
      }
    });
  };
}

/** Registers the command store contract for one backend. */
export function commandStoreSuite(backend: () => Backend<CommandStore>): void {
  const run = runner('command store', backend);

  run('an empty store loads nothing', async (b) => {
    const s = await b.open();
    try {
      assert.deepEqual(await s.load(), []);
    } finally {
      await s.close();
    }
  });

  run('what was added, counted and removed is what the next instance loads, in add order, every field as written', async (b) => {
    const s = await b.open();
    await s.load();
    const [c1, c2, c3] = [cmd('c1'), cmd('c2', { ident: 'a b/c', meta: null }), cmd('c3', { properties: {} })];
    await s.add(c1);
    await s.add(c2);
    await s.add(c3);
    await s.setAttempts('c2', 2);
    await s.remove('c1');
    await s.close();
    const again = await b.open();
    try {
      const loaded = await again.load();
      assert.deepEqual(
        loaded.map((c) => c.id),
        ['c2', 'c3'],
      );
      assert.deepEqual(loaded[0], { ...c2, attempts: 2 });
      assert.deepEqual(loaded[1], c3);
    } finally {
      await again.close();
    }
  });

  run('removing an id that is not there changes nothing and does not fail', async (b) => {
    const s = await b.open();
    try {
      await s.load();
      await s.add(cmd('k1'));
      await s.remove('nope');
      assert.deepEqual(
        (await s.load()).map((c) => c.id),
        ['k1'],
      );
    } finally {
      await s.close();
    }
  });

  run('many concurrent adds are all durable (group commit or pipelining must not lose one)', async (b) => {
    const s = await b.open();
    await s.load();
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.add(cmd(`m${String(i).padStart(3, '0')}`))));
    await s.close();
    const again = await b.open();
    try {
      const ids = (await again.load()).map((c) => c.id);
      assert.equal(ids.length, 200);
      assert.deepEqual([...ids].sort(), Array.from({ length: 200 }, (_, i) => `m${String(i).padStart(3, '0')}`));
    } finally {
      await again.close();
    }
  });
}

const iv = (id: number, begin: number, end: number): Interval => ({ id, begin, end, ident: '860000000000001', channel_id: 1, meta: end ? null : { 'card.slot': 1 }, source: 'auto' });
const rec = (id: string, rev: number, intervals: Interval[] = []): AssetRecord => ({ asset: { id, name: `Name ${id}`, type: 'driver', match: { parameter: 'p', value: id } }, rev, next_interval_id: intervals.length + 1, intervals });

/** Registers the asset store contract for one backend. */
export function assetStoreSuite(backend: () => Backend<AssetStore>): void {
  const run = runner('asset store', backend);

  run('a put is read back by get and load, by this instance and the next, exactly as written', async (b) => {
    const s = await b.open();
    const r = rec('d1', 1, [iv(1, 100, 200), iv(2, 300, 0)]);
    try {
      assert.deepEqual(await s.load(), []);
      assert.equal(await s.get('d1'), null);
      assert.equal(await s.put(r, 0), true);
      assert.deepEqual(await s.get('d1'), r);
    } finally {
      await s.close();
    }
    const again = await b.open();
    try {
      assert.deepEqual(await again.load(), [r]);
    } finally {
      await again.close();
    }
  });

  run('writes are conditional on the stored revision: a stale writer gets false and changes nothing', async (b) => {
    const s = await b.open();
    try {
      assert.equal(await s.put(rec('d2', 1), 0), true);
      assert.equal(await s.put(rec('d2', 1), 0), false, 'expected 0 (must not exist) but it does');
      assert.equal(await s.put(rec('d2', 2, [iv(1, 5, 0)]), 1), true);
      assert.equal(await s.put(rec('d2', 2), 1), false, 'a writer that saw rev 1 lost to the one that wrote rev 2');
      assert.deepEqual(await s.get('d2'), rec('d2', 2, [iv(1, 5, 0)]));
      assert.equal(await s.delete('d2', 1), false, 'a stale delete is refused');
      assert.equal(await s.delete('d2', 2), true);
      assert.equal(await s.get('d2'), null);
      assert.equal(await s.put(rec('d2', 1), 0), true, 'a deleted asset can be created again');
    } finally {
      await s.close();
    }
  });

  run('load returns every asset once, whatever the order of writes', async (b) => {
    const s = await b.open();
    try {
      for (const id of ['z', 'a', 'm']) assert.equal(await s.put(rec(id, 1), 0), true);
      assert.equal(await s.put(rec('a', 2), 1), true);
      const all = await s.load();
      assert.deepEqual(all.map((r) => r.asset.id).sort(), ['a', 'm', 'z']);
      assert.equal(all.find((r) => r.asset.id === 'a')?.rev, 2);
    } finally {
      await s.close();
    }
  });
}
