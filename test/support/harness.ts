import { connectAsync, type MqttClient } from 'mqtt';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/validate.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { createLogger } from '../../src/util/log.js';

/**
 * Test harness: a real runtime on loopback with ephemeral ports (never fixed ones: Mosquitto
 * holds 1883 on CI machines), a real MQTT.js subscriber on `{root}/#`, and helpers to wait.
 */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface Harness {
  app: App;
  sub: MqttClient;
  received: Received[];
  root: string;
  /** Set to hold back PUBACKs of the embedded broker (only when the harness owns the broker). */
  holdPubacks: boolean;
  releasePubacks(): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  channels?: Record<string, unknown>[];
  brokerUrl?: string;
  threads?: number | 'inline';
  extra?: Record<string, unknown>;
  /** Topic root (default: a unique one); instances that act as one channel share it. */
  root?: string;
}

const quietLog = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const root = opts.root ?? `t${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  let broker: EmbeddedBroker | null = null;
  const held: (() => void)[] = [];
  const h = { holdPubacks: false } as Harness;
  let url = opts.brokerUrl;
  if (!url) {
    // Our own broker so a test can withhold PUBACKs: aedes acknowledges a QoS 1 publish only
    // after authorizePublish calls back.
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      authorizePublish: (client, _packet, cb) => {
        if (h.holdPubacks && client && client.id.startsWith('edge-channel')) held.push(() => cb(null));
        else cb(null);
      },
    });
    url = broker.url;
  }
  const { mqtt: extraMqtt, spool: extraSpool, ...extra } = (opts.extra ?? {}) as { mqtt?: Record<string, unknown>; spool?: Record<string, unknown> };
  // each harness gets its own spool directory: a spool left by another run must not leak in
  const dataDir = mkdtempSync(join(tmpdir(), 'edge-data-'));
  const spoolDir = join(dataDir, 'spool');
  const config = validateConfig({
    // a unique instance (= MQTT client id): tests of other runs may share the same broker
    instance_id: root,
    log_level: 'silent',
    mqtt: { url, topic_root: root, client_id: 'edge-channel', ...(extraMqtt ?? {}) },
    spool: { dir: spoolDir, ...(extraSpool ?? {}) },
    commands: { dir: join(dataDir, 'commands') },
    credentials: { dir: join(dataDir, 'credentials') },
    media: { dir: join(dataDir, 'media') },
    asset_settings: { dir: join(dataDir, 'assets') },
    channels: opts.channels ?? [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, udp_port: 0 }],
    stats_interval_s: 3600,
    shutdown_timeout_s: 5,
    ...extra,
  });
  const app = await startApp(config, { log: quietLog(), threads: opts.threads ?? 'inline' });
  const sub = await connectAsync(url, { clientId: `sub-${root}-${Math.floor(Math.random() * 1e9)}`, clean: true });
  const received: Received[] = [];
  sub.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await sub.subscribeAsync(`${root}/#`, { qos: 1 });
  return Object.assign(h, {
    app,
    sub,
    received,
    root,
    releasePubacks() {
      h.holdPubacks = false;
      for (const f of held.splice(0)) f();
    },
    async close() {
      h.releasePubacks();
      await app.stop();
      await sub.endAsync();
      if (broker) await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
