import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodePool, type PoolFrame } from './decode-pool.js';
import { getProtocol } from '../protocol/registry.js';
import { fromHex } from '../codec/hex.js';

const HEARTBEAT = fromHex('0009000310f56174900710bd93');

function frame(conn: number, order: number[]): PoolFrame {
  return { bytes: HEARTBEAT, conn, peer: `p${conn}`, transport: 'tcp', receivedAtMs: 0, session: {}, done: () => order.push(conn) };
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
      const mk = (conn: number, i: number): PoolFrame => ({
        bytes: HEARTBEAT, conn, peer: 'p', transport: 'tcp', receivedAtMs: 0, session: {},
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
