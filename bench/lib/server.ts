import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { startApp, type App } from '../../src/app.js';
import type { Channel } from '../../src/channel/channel.js';
import { validateConfig } from '../../src/config/validate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/util/log.js';

/**
 * The runtime under test, started the way `edge-channel start` starts it (startApp), on loopback
 * with ephemeral ports (1883 belongs to Mosquitto here) and a silent logger.
 */
export interface BenchServer {
  app: App;
  channel: Channel;
  /** Unique topic root of this run, so concurrent test runs on the same broker do not mix in. */
  root: string;
  brokerUrl: string;
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  /** External broker URL; '' = the embedded aedes broker on an ephemeral port. */
  mqttUrl: string;
  udp?: boolean;
  maxConnections?: number;
  threads?: number;
  maxBatchFrames?: number;
  maxInflight?: number;
  /** Extra channel keys (guards: ip_blacklist, max_udp_packets_per_minute, …). */
  channel?: Record<string, unknown>;
  /** Spool keys for this run (BENCH_CONFIG's spool section still wins, for experiments). */
  spool?: Record<string, unknown>;
  /** The HTTP listener's section (`{port: 0, tokens}`: the API and the web console). */
  http?: Record<string, unknown>;
}

export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

export function mqttUrlFromEnv(): string {
  return process.env.MQTT_URL || DEFAULT_MQTT_URL;
}

export function quietLogger(): ReturnType<typeof createLogger> {
  return createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
}

export async function startBenchServer(o: BenchServerOptions): Promise<BenchServer> {
  const root = `bench${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const pool: Record<string, number> = {};
  if (o.threads !== undefined) pool.threads = o.threads;
  if (o.maxBatchFrames !== undefined) pool.max_batch_frames = o.maxBatchFrames;
  // BENCH_CONFIG='{"mqtt":{"max_queued":100000},"spool":{"enabled":false}}' overrides sections for experiments.
  const extra = (process.env.BENCH_CONFIG ? JSON.parse(process.env.BENCH_CONFIG) : {}) as Record<string, Record<string, unknown>>;
  const spoolDir = mkdtempSync(join(tmpdir(), 'edge-bench-spool-'));
  const config = validateConfig({
    instance_id: root,
    log_level: 'silent',
    mqtt: { url: o.mqttUrl, topic_root: root, client_id: 'edge-bench', embedded: { host: '127.0.0.1', port: 0 }, ...(o.maxInflight ? { max_inflight: o.maxInflight } : {}), ...(extra.mqtt ?? {}) },
    pool: { ...pool, ...(extra.pool ?? {}) },
    spool: { dir: spoolDir, ...(o.spool ?? {}), ...(extra.spool ?? {}) },
    commands: { dir: join(spoolDir, 'commands') },
    credentials: { dir: join(spoolDir, 'credentials') },
    media: { dir: join(spoolDir, 'media') },
    asset_settings: { dir: join(spoolDir, 'assets') },
    channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, ...(o.udp ? { udp_port: 0 } : {}), max_connections: o.maxConnections ?? 20_000, ...(o.channel ?? {}) }],
    stats_interval_s: 3600,
    shutdown_timeout_s: 5,
    ...(o.http ? { http: o.http } : {}),
  });
  const app = await startApp(config, { log: quietLogger() });
  if (!app.publisher.connected) {
    await app.stop();
    throw new Error(`MQTT broker ${app.brokerUrl} not reachable`);
  }
  const stop = async () => {
    await app.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  };
  return { app, channel: app.channels[0]!, root, brokerUrl: app.brokerUrl, stop };
}

/** True when something accepts TCP connections at the URL's host:port within 1 s. */
export function mqttReachable(url: string): Promise<boolean> {
  return tcpReachable(url, 1883);
}

/** True when something accepts TCP connections at the URL's host:port (default port) within 1 s. */
export function tcpReachable(url: string, defaultPort: number): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** QoS of the benches' counting subscriber (see load-worker.ts subscribe()). */
export function subscriberQos(): 0 | 1 {
  return process.env.BENCH_SUB_QOS === '1' ? 1 : 0;
}
