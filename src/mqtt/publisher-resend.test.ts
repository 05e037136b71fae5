import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { Publisher } from './publisher.js';

/**
 * The publisher's outgoing store (inflight-store.ts) through MQTT.js itself: a publish the broker
 * never acknowledged is sent again after the reconnect (MQTT.js reads it back with createStream) and
 * its callback fires once, on the PUBACK of the resend.
 */

interface SeenPublish {
  conn: number;
  id: number;
  topic: string;
}

/** A broker that answers CONNECT, records PUBLISHes, and acknowledges them only from its second connection on. */
async function forgetfulBroker(): Promise<{ port: number; seen: SeenPublish[]; sockets: Socket[]; close(): Promise<void> }> {
  const seen: SeenPublish[] = [];
  const sockets: Socket[] = [];
  let conns = 0;
  const server = createServer((s) => {
    const conn = ++conns;
    sockets.push(s);
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length < 2) return;
        let len = 0;
        let mult = 1;
        let i = 1;
        for (; i < 5 && i < buf.length; i++) {
          len += (buf[i]! & 0x7f) * mult;
          mult *= 128;
          if ((buf[i]! & 0x80) === 0) break;
        }
        const start = i + 1;
        if (buf.length < start + len) return;
        const type = buf[0]! >> 4;
        const body = buf.subarray(start, start + len);
        if (type === 1) s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        else if (type === 3) {
          const tlen = body.readUInt16BE(0);
          const id = body.readUInt16BE(2 + tlen);
          seen.push({ conn, id, topic: body.subarray(2, 2 + tlen).toString() });
          if (conn > 1) s.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
        } else if (type === 12) s.write(Buffer.from([0xd0, 0x00]));
        buf = buf.subarray(start + len);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    seen,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test('a publish the broker did not acknowledge is resent after the reconnect, and confirmed once', async () => {
  const broker = await forgetfulBroker();
  const pub = new Publisher(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'resend-test', clean: true, reconnectPeriod: 50, keepalive: 0 }, 10, 100);
  try {
    await pub.waitConnected(5000);
    const confirmed: (Error | undefined)[][] = [[], []];
    pub.publish('a/1', 'one', false, (e) => confirmed[0]!.push(e));
    pub.publish('a/2', 'two', false, (e) => confirmed[1]!.push(e));
    while (broker.seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal(pub.inFlight, 2);
    // the connection breaks with both unacknowledged
    broker.sockets[0]!.destroy();
    const deadline = Date.now() + 5000;
    while (confirmed.some((c) => c.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(confirmed, [[undefined], [undefined]]);
    // resent in their order with their packet identifiers (MQTT.js does not set DUP on a resend)
    const first = broker.seen.filter((p) => p.conn === 1);
    const resent = broker.seen.filter((p) => p.conn > 1);
    assert.deepEqual(
      resent.map((p) => [p.topic, p.id]),
      first.map((p) => [p.topic, p.id]),
    );
    assert.deepEqual(
      resent.map((p) => p.topic),
      ['a/1', 'a/2'],
    );
    assert.equal(pub.inFlight, 0);
  } finally {
    // forced: a failed run must not wait for publishes the broker never acknowledged
    await new Promise<void>((r) => pub.client.end(true, {}, () => r()));
    await broker.close();
  }
});
