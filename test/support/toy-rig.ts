import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { connectAsync } from 'mqtt';
import { Channel, type ChannelDeps } from '../../src/channel/channel.js';
import { validateConfig } from '../../src/config/validate.js';
import { EdgeError } from '../../src/errors.js';
import { MessageSink } from '../../src/message/message-sink.js';
import { startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { Publisher, mqttClientOptions } from '../../src/mqtt/publisher.js';
import { makeTopics } from '../../src/mqtt/topics.js';
import { DecodePool } from '../../src/pool/decode-pool.js';
import { SPLIT_NEED_MORE, type ProtocolModule } from '../../src/protocol/types.js';
import { createLogger } from '../../src/util/log.js';

/**
 * What the seam tests share: a toy framing ([length u8 = whole frame][type u8][payload]), a protocol
 * module shell around a test's own decoder, a rig (embedded broker + Publisher + inline DecodePool +
 * one started Channel) and a device socket that records what the server wrote. The runtime seams are
 * protocol-agnostic, so each test file keeps only its own decoder and exercises the seam with it.
 */

/** Frames of [len][type][payload]; a length under 2 cannot hold the header, so it is invalid. */
export const toySplit = (buf: Uint8Array, start: number, end: number): number => (end - start < 1 ? SPLIT_NEED_MORE : buf[start]! < 2 ? -1 : end - start >= buf[start]! ? buf[start]! : SPLIT_NEED_MORE);

export const toyExplainInvalid = () => ({ code: 'EDGE_FRAME_LENGTH' as const, reason: 'never' });

/** One toy frame: the length byte counts itself and the type. */
export const toyFrame = (type: number, ...payload: number[]) => Buffer.from([payload.length + 2, type, ...payload]);

/** A TCP protocol module with the toy framing and no commands; the test gives id, title and decode. */
export function toyProtocol(own: Pick<ProtocolModule, 'id' | 'title' | 'decode'> & Partial<ProtocolModule>): ProtocolModule {
  return {
    transports: ['tcp'],
    defaultPorts: {},
    maxFrameBytes: 255,
    options: {},
    defaultOptions: {},
    split: toySplit,
    explainInvalid: toyExplainInvalid,
    commands: [],
    encode: () => {
      throw new EdgeError('EDGE_COMMAND_UNKNOWN', 'none');
    },
    parseCommand: () => {
      throw new EdgeError('EDGE_COMMAND_UNKNOWN', 'none');
    },
    ...own,
  };
}

export interface RigOptions {
  /** The channel's config entry besides protocol, host and tcp_port (which the rig sets: 127.0.0.1, port 0). */
  channel: { id: number } & Record<string, unknown>;
  /** MQTT client id suffix of the publisher. */
  clientId: string;
  /** Topic root; unique per test run so parallel runs do not see each other. */
  root: string;
  /** Channel deps besides pool, sink and log (media, credentials, hooks). */
  deps?: Partial<Omit<ChannelDeps, 'pool' | 'sink' | 'log'>>;
  /** Topics under the root to subscribe to (QoS 1); none: no subscriber is connected. */
  subscribe?: string[];
  onMessage?: (topic: string, payload: string) => void;
}

/** A random topic root with the given prefix. */
export const uniqueRoot = (prefix: string) => `${prefix}${process.pid}x${Math.floor(Math.random() * 1e9)}`;

export async function rig(protocol: ProtocolModule, o: RigOptions) {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const config = validateConfig({ mqtt: { url: broker.url, topic_root: o.root }, channels: [{ ...o.channel, protocol: protocol.id, host: '127.0.0.1', tcp_port: 0 }] });
  const log = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  const publisher = new Publisher(broker.url, mqttClientOptions(config.mqtt, o.clientId), 100, 1000);
  await publisher.waitConnected(5000);
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 64, maxPending: 1000 });
  const channel = new Channel(config.channels[0]!, protocol, { ...o.deps, pool, sink: new MessageSink(publisher, makeTopics(o.root)), log });
  await channel.start();
  let sub: Awaited<ReturnType<typeof connectAsync>> | null = null;
  if (o.subscribe) {
    sub = await connectAsync(broker.url);
    const onMessage = o.onMessage;
    if (onMessage) sub.on('message', (t, p) => onMessage(t, p.toString()));
    await sub.subscribeAsync(
      o.subscribe.map((t) => `${o.root}/${t}`),
      { qos: 1 },
    );
  }
  return {
    channel,
    async close() {
      await channel.stop(1000);
      await sub?.endAsync();
      await publisher.close();
      await pool.close();
      await broker.close();
    },
  };
}

export interface Dev {
  s: Socket;
  /** Everything the server wrote so far, as hex. */
  hex(): string;
  closed(): boolean;
}

/** A device connection to 127.0.0.1:port that records what it receives and whether it closed. */
export async function dev(port: number): Promise<Dev> {
  const s = await new Promise<Socket>((resolve, reject) => {
    const x = connect({ host: '127.0.0.1', port }, () => resolve(x));
    x.once('error', reject);
  });
  const data: Buffer[] = [];
  let closed = false;
  s.on('data', (b) => data.push(b));
  s.on('close', () => (closed = true));
  s.on('error', () => {});
  return { s, hex: () => Buffer.concat(data).toString('hex'), closed: () => closed };
}

export type Rig = Awaited<ReturnType<typeof rig>>;

/** The rig with one device already connected to its channel; closing it drops the device first. */
export async function withDevice(r: Rig): Promise<Rig & Dev> {
  const d = await dev(r.channel.tcpPort);
  return {
    ...d,
    channel: r.channel,
    async close() {
      d.s.destroy();
      await r.close();
    },
  };
}
