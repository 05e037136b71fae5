import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmbeddedBroker } from './embedded-broker.js';
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

/**
 * The embedded broker, made forgetful: the PUBLISHes of the first connection are recorded and never
 * authorised (so never acknowledged), and that connection is cut once two have come; later ones are
 * acknowledged as usual.
 */
async function forgetfulBroker(): Promise<{ url: string; seen: SeenPublish[]; close(): Promise<void> }> {
  const seen: SeenPublish[] = [];
  let conn = 1;
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    authorizePublish: (client, packet, cb) => {
      seen.push({ conn, id: packet.messageId ?? 0, topic: packet.topic });
      if (conn > 1) return cb(null);
      if (seen.length === 2) {
        conn++;
        (client as unknown as { conn: { destroy(): void } }).conn.destroy();
      }
    },
  });
  return { url: broker.url, seen, close: () => broker.close() };
}

test('a publish the broker did not acknowledge is resent after the reconnect, and confirmed once', async () => {
  const broker = await forgetfulBroker();
  const pub = new Publisher(broker.url, { clientId: 'resend-test', clean: true, reconnectPeriod: 50, keepalive: 0 }, 10, 100);
  try {
    await pub.waitConnected(5000);
    const confirmed: (Error | undefined)[][] = [[], []];
    pub.publish('a/1', 'one', false, (e) => confirmed[0]!.push(e));
    pub.publish('a/2', 'two', false, (e) => confirmed[1]!.push(e));
    // the broker cuts the connection with both unacknowledged
    while (broker.seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal(pub.inFlight, 2);
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
