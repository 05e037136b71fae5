/**
 * The broker leg alone: a bare MQTT.js client publishing the payloads the channel publishes, at QoS 1,
 * paced every millisecond at a given rate, to the same broker and subscriber. Its publish → PUBACK
 * latency is what the broker allows at that rate on this machine; the channel's ACK latency waits for
 * exactly this leg (ACK after PUBACK), so issue #31 states the latency targets relative to it.
 * Also the payloads themselves (`channelPayloads`), shared with the e2e ceiling and bare channel.
 */
// first, as in the runtime's entry points: mqtt-packet's loggers are created when mqtt loads
import '../../src/mqtt/quiet-packet-debug.js';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import { getProtocol } from '../../src/protocol/registry.js';
import { decodeFrames } from '../../src/pool/decode-frames.js';
import { ContextCache } from '../../src/pool/context-cache.js';
import { makeTopics } from '../../src/mqtt/topics.js';
import { buildDecodeTask } from './decode-task.js';
import { IMEI, deviceRecordsFrame } from './ruptela-frames.js';
import { summarize, type LatencySummary } from './stats.js';

export interface TopicPayload {
  topic: string;
  payload: string;
}

const payloadCache = new Map<string, TopicPayload[]>();

/**
 * The payloads the channel publishes for the e2e devices' first record (same decode, same envelope),
 * one per device from IMEI.load on; cached per devices/channel/root/record shape.
 */
export async function channelPayloads(devices: number, channelId: string, root: string, ioCount: number, extended: boolean): Promise<TopicPayload[]> {
  const key = `${devices}/${channelId}/${root}/${ioCount}/${extended}`;
  const cached = payloadCache.get(key);
  if (cached) return cached;
  const proto = await getProtocol('ruptela');
  const topics = makeTopics(root);
  const out: TopicPayload[] = [];
  for (let d = 0; d < devices; d++) {
    const frame = deviceRecordsFrame(IMEI.load + d, 0, 1, ioCount, extended);
    const buffer = new ArrayBuffer(frame.length);
    new Uint8Array(buffer).set(frame);
    const task = buildDecodeTask('ruptela', channelId, {}, buffer, [{ offset: 0, length: frame.length, conn: d, peer: `127.0.0.1:${40000 + (d % 20000)}`, transport: 'tcp', receivedAtMs: Date.now(), session: {} }]);
    const o = decodeFrames(proto, task, new ContextCache())[0]!;
    o.payloads.forEach((p, i) => out.push({ topic: topics.message(channelId, o.idents[i]!), payload: p }));
  }
  payloadCache.set(key, out);
  return out;
}

/** Publishes `msgs` round-robin at `rate` messages/s for warm-up + window; the PUBACK latency of the window's publishes. */
export async function brokerLeg(url: string, msgs: TopicPayload[], rate: number, warmupMs: number, durationMs: number): Promise<LatencySummary> {
  const client: MqttClient = await connectAsync(url, { clientId: `bench-floor-${process.pid}-${Math.floor(Math.random() * 1e6)}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  (client.stream as unknown as Socket).setNoDelay?.(true);
  const lat: number[] = [];
  let sent = 0;
  const t0 = performance.now();
  const end = t0 + warmupMs + durationMs;
  const warmEnd = t0 + warmupMs;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const measuring = now >= warmEnd;
      const due = Math.floor(((now - t0) / 1000) * rate);
      while (sent < due) {
        const m = msgs[sent++ % msgs.length]!;
        const at = performance.now();
        client.publish(m.topic, m.payload, { qos: 1 }, () => {
          if (measuring) lat.push(performance.now() - at);
        });
      }
      if (now >= end) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await new Promise((r) => setTimeout(r, 500));
  await client.endAsync();
  return summarize(lat);
}
