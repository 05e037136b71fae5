/**
 * The simplest channel that keeps the project's contract, as the yardstick of the e2e bench
 * (issue #31): a TCP listener that cuts Ruptela frames by their length field, publishes one QoS 1
 * message per record with MQTT.js (a precomputed payload of the real size: the one the project
 * publishes for that device's record) and writes the records ACK once every PUBACK of the frame is
 * back, frames of one connection acknowledged in order. Nothing else: no CRC check, no decode, no
 * JSON, no workers, no guards, no spool, no window of its own (MQTT.js writes at once), no
 * backpressure. What the project does beyond this is what its ratio to the bare channel prices.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { RECORDS_ACK } from './ruptela-frames.js';

export interface BareChannel {
  readonly port: number;
  /** Frames cut that were not records frames, or whose IMEI has no payload: the bench counts them as errors. */
  readonly unknownFrames: number;
  stop(): Promise<void>;
}

/** `payloadFor(imei)`: the topic and payload of one record of that device, or null if it is not a bench device. */
export async function startBareChannel(mqttUrl: string, payloadFor: (imei: bigint) => { topic: string; payload: Buffer } | null): Promise<BareChannel> {
  const client: MqttClient = await connectAsync(mqttUrl, { clientId: `bench-bare-${process.pid}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  // As the project's publisher: Nagle off on the broker connection.
  (client.stream as unknown as Socket).setNoDelay(true);
  const ack = Buffer.from(RECORDS_ACK);
  let unknownFrames = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let rest: Buffer | null = null;
    /** PUBACKs still awaited per frame of this connection, oldest first. */
    const frames: { left: number }[] = [];
    const release = (): void => {
      while (frames.length > 0 && frames[0]!.left === 0) {
        frames.shift();
        if (!sock.destroyed) sock.write(ack);
      }
    };
    sock.on('data', (chunk: Buffer) => {
      const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      let at = 0;
      while (buf.length - at >= 2) {
        const total = buf.readUInt16BE(at) + 4;
        if (buf.length - at < total) break;
        // records frame: len(2) IMEI(8) command(1) records left(1) records in this frame(1)
        const p = total >= 13 ? payloadFor(buf.readBigUInt64BE(at + 2)) : null;
        const n = p ? buf[at + 12]! : 0;
        at += total;
        if (n === 0) {
          unknownFrames++; // never acknowledged: the device times out, the bench counts it
          continue;
        }
        const f = { left: n };
        frames.push(f);
        for (let i = 0; i < n; i++) {
          client.publish(p!.topic, p!.payload, { qos: 1 }, () => {
            if (--f.left === 0) release();
          });
        }
      }
      rest = at < buf.length ? buf.subarray(at) : null;
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get unknownFrames() {
      return unknownFrames;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.endAsync();
    },
  };
}
