import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { connectAsync } from 'mqtt';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { startBareChannel } from '../bench/lib/bare-channel.js';
import { IMEI, RECORDS_ACK, deviceRecordsFrame } from '../bench/lib/ruptela-frames.js';
import { waitFor } from './support/harness.js';

/**
 * The e2e bench's yardstick (bench/lib/bare-channel.ts) keeps the project's contract: one QoS 1
 * message per record, the frame's ACK only after every PUBACK, frames of a connection acknowledged
 * in order whatever the TCP cut, and a frame it cannot place is never acknowledged. If it did less,
 * the project ÷ bare ratio of issue #31 would flatter the bare channel.
 */
test('bare channel: one message per record, ACK per frame after its PUBACKs, any TCP cut, unknown frames unanswered', { timeout: 30_000 }, async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const root = `bare${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const seen: string[] = [];
  const sub = await connectAsync(broker.url, { clientId: `sub-${root}` });
  await sub.subscribeAsync(`${root}/#`, { qos: 1 });
  sub.on('message', (topic) => seen.push(topic));
  const base = BigInt(IMEI.load);
  const bare = await startBareChannel(broker.url, (imei) => (imei - base >= 0n && imei - base < 2n ? { topic: `${root}/${imei}`, payload: Buffer.from('{"x":1}') } : null));
  const sock = connect({ host: '127.0.0.1', port: bare.port });
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let acks = 0;
    let extra = 0;
    const ack = Buffer.from(RECORDS_ACK);
    let pending = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= ack.length) {
        if (pending.subarray(0, ack.length).equals(ack)) acks++;
        else extra++;
        pending = pending.subarray(ack.length);
      }
    });
    const a = Buffer.from(deviceRecordsFrame(IMEI.load, 0, 3)); // 3 records
    const b = Buffer.from(deviceRecordsFrame(IMEI.load + 1, 0, 1)); // 1 record
    const unknown = Buffer.from(deviceRecordsFrame(IMEI.load + 7, 0, 2));
    // two frames in one write, then one cut in three pieces across writes
    sock.write(Buffer.concat([a, b]));
    await waitFor('the ACKs of two frames written together', () => acks === 2, 5_000);
    sock.write(b.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(b.subarray(3, 20));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(b.subarray(20));
    await waitFor('the ACK of a frame cut across three writes', () => acks === 3, 5_000);
    sock.write(unknown);
    await waitFor('the unknown device frame counted', () => bare.unknownFrames === 1, 5_000);
    await waitFor('every record on the broker', () => seen.length === 5, 5_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(acks, 3, 'the unknown frame is not acknowledged');
    assert.equal(extra, 0, 'nothing but ACKs comes back');
    assert.deepEqual(seen.sort(), [...Array(3).fill(`${root}/${IMEI.load}`), `${root}/${IMEI.load + 1}`, `${root}/${IMEI.load + 1}`].sort());
  } finally {
    sock.destroy();
    await bare.stop();
    await sub.endAsync();
    await broker.close();
  }
});
