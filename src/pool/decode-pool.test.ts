import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodePool, type PoolConnection, type PoolFrame } from './decode-pool.js';
import { getProtocol } from '../protocol/registry.js';
import { fromHex } from '../codec/hex.js';

const HEARTBEAT = fromHex('0009000310f56174900710bd93');

function connection(num: number, session: Record<string, unknown> = {}): PoolConnection {
  const c: PoolConnection = { num, contextVersion: 1, contextSent: 0, context: () => ({ conn: num, version: c.contextVersion, peer: `p${num}`, transport: 'tcp', session }) };
  return c;
}

function frame(conn: number, order: number[]): PoolFrame {
  return { bytes: HEARTBEAT, connection: connection(conn), receivedAtMs: 0, done: () => order.push(conn) };
}

test('frames queued in one tick are decoded lowest priority value first (least attained service), FIFO on ties', async () => {
  const proto = await getProtocol('ruptela');
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 1, maxPending: 1000 });
  const order: number[] = [];
  pool.submit(proto, '1', {}, [frame(1, order)], 5000); // a device flushing its black box
  pool.submit(proto, '1', {}, [frame(2, order)], 70); // a live device
  pool.submit(proto, '1', {}, [frame(3, order)], 5000);
  pool.submit(proto, '1', {}, [frame(4, order)], 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [4, 2, 1, 3]);
});

test('a worker pool decodes and keeps one connection\'s frames together and in order', async () => {
  const proto = await getProtocol('ruptela');
  const pool = new DecodePool({ threads: 1, maxBatchFrames: 2, maxPending: 1000 });
  try {
    const done: string[] = [];
    const all = new Promise<void>((resolve) => {
      const conns = new Map([1, 2, 3].map((n) => [n, connection(n)]));
      const mk = (conn: number, i: number): PoolFrame => ({
        bytes: HEARTBEAT, connection: conns.get(conn)!, receivedAtMs: 0,
        done: (o) => {
          assert.equal(o.error, undefined);
          assert.equal(Buffer.from(o.replies[0]!).toString('hex'), '00027401862d');
          done.push(`${conn}.${i}`);
          if (done.length === 7) resolve();
        },
      });
      pool.submit(proto, '1', {}, [mk(1, 0), mk(1, 1), mk(1, 2)]);
      pool.submit(proto, '1', {}, [mk(2, 0), mk(2, 1)]);
      pool.submit(proto, '1', {}, [mk(3, 0), mk(3, 1)]);
    });
    await all;
    for (const c of [1, 2, 3]) {
      const mine = done.filter((d) => d.startsWith(`${c}.`));
      assert.deepEqual(mine, [...mine].sort(), `connection ${c} in order`);
    }
    assert.equal(pool.pendingFrames, 0);
  } finally {
    await pool.close();
  }
});

test('a connection context travels once; a worker lacking its version reports a miss and those frames are decoded again, in order', async () => {
  const proto = await getProtocol('ruptela');
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 16, maxPending: 1000 });
  const c = connection(7);
  const peers: string[] = [];
  const run = (n: number) =>
    new Promise<void>((resolve) => {
      let left = n;
      pool.submit(proto, '1', {}, Array.from({ length: n }, (_, i) => ({
        bytes: HEARTBEAT, connection: c, receivedAtMs: i,
        done: (o) => {
          assert.equal(o.error, undefined);
          assert.equal(o.contextMiss, undefined, 'a miss never reaches the caller');
          peers.push(`${c.contextVersion}.${i}`);
          if (--left === 0) resolve();
        },
      })));
    });
  await run(3);
  await run(3);
  assert.equal(c.contextSent, 1);
  assert.equal(pool.contextMisses, 0, 'the context was sent with the first task and then cached');
  // A new version that went to another worker (contextSent says sent, this cache has the old one):
  c.contextVersion = 2;
  c.contextSent = 2;
  await run(3);
  assert.equal(pool.contextMisses, 3, 'all three frames missed and were decoded again');
  assert.deepEqual(peers, ['1.0', '1.1', '1.2', '1.0', '1.1', '1.2', '2.0', '2.1', '2.2']);
  assert.equal(pool.pendingFrames, 0);
});

test('batch_wait_ms: frames wait for company up to the set time, and go at once when a full task is there', async () => {
  const proto = await getProtocol('ruptela');
  const tick = () => new Promise((r) => setImmediate(r));
  const order: number[] = [];
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 3, maxPending: 1000, batchWaitMs: 40 });
  pool.submit(proto, '1', {}, [frame(1, order)]);
  await tick();
  await tick();
  assert.deepEqual(order, [], 'a lone frame waits');
  pool.submit(proto, '1', {}, [frame(2, order)]);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(order, [1, 2], 'both went out together once the wait was over');
  const t0 = performance.now();
  pool.submit(proto, '1', {}, [frame(3, order)]);
  pool.submit(proto, '1', {}, [frame(4, order)]);
  pool.submit(proto, '1', {}, [frame(5, order)]);
  await tick();
  assert.deepEqual(order, [1, 2, 3, 4, 5], 'a full task does not wait');
  assert.ok(performance.now() - t0 < 40);
  pool.submit(proto, '1', {}, [frame(6, order)]);
  await pool.close();
  assert.deepEqual(order, [1, 2, 3, 4, 5, 6], 'close sends the frames still waiting');
  const none = new DecodePool({ threads: 'inline', maxBatchFrames: 3, maxPending: 1000 });
  none.submit(proto, '1', {}, [frame(7, order)]);
  await tick();
  assert.deepEqual(order.at(-1), 7, 'without batch_wait_ms a frame goes in the same turn');
});

test('a task ends where priorities jump and at max_batch_bytes, never inside one connection\'s frames', async () => {
  const proto = await getProtocol('ruptela');
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 64, maxBatchBytes: HEARTBEAT.length * 3, maxPending: 1000 });
  const tasks: number[][] = [];
  const inner = pool as unknown as { runBatch(q: unknown, batch: PoolFrame[], resend: boolean): void };
  const runBatch = inner.runBatch.bind(pool);
  inner.runBatch = (q, batch, resend) => {
    tasks.push(batch.map((f) => f.connection.num));
    runBatch(q, batch, resend);
  };
  const order: number[] = [];
  // devices flushing a black box (about 3 KB attained each), and two live devices (about 300 bytes)
  for (let c = 10; c < 17; c++) pool.submit(proto, '1', {}, [frame(c, order)], 3000 + c);
  pool.submit(proto, '1', {}, [frame(2, order)], 300);
  pool.submit(proto, '1', {}, [frame(3, order)], 400);
  // one connection's five frames: over the byte cap, but they stay in one task
  const c20 = connection(20);
  pool.submit(proto, '1', {}, Array.from({ length: 5 }, () => ({ bytes: HEARTBEAT, connection: c20, receivedAtMs: 0, done: () => order.push(20) })), 5000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(tasks, [[2, 3], [10, 11, 12], [13, 14, 15], [16, 20, 20, 20, 20, 20]]);
  assert.equal(order.length, 14);
});

test('a closed gate (admit) holds frames undecoded until resume(), but lets urgent ones through', async () => {
  const proto = await getProtocol('ruptela');
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 64, maxPending: 1000 });
  let open = false;
  pool.admit = () => open;
  const order: number[] = [];
  const tick = () => new Promise((r) => setImmediate(r));
  for (let c = 10; c < 20; c++) pool.submit(proto, '1', {}, [frame(c, order)], 3000);
  await tick();
  assert.deepEqual(order, [], 'held while the gate is closed');
  assert.equal(pool.pendingFrames, 10);
  // on another channel (its queue comes after the held one's)
  pool.submit(proto, '2', {}, [frame(2, order)], 300);
  await tick();
  assert.deepEqual(order, [2], 'a frame far below the usual priority goes through');
  open = true;
  pool.resume();
  await tick();
  assert.deepEqual(order, [2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal(pool.pendingFrames, 0);
});
