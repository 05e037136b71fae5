import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMosquittoPid } from './proc-cpu.js';
import { mqttUrlFromEnv, tcpReachable } from './server.js';
import { sleep } from './stats.js';
import { freePort } from './net-probe.js';

/**
 * A Mosquitto of the bench's own, as issue #15 measured the channel: on an ephemeral loopback port,
 * Nagle off (`set_tcp_nodelay true`), no persistence, and a deep per-client queue so a slow
 * subscriber is never the reason a message is missing. Owning the broker also keeps other test runs
 * on the machine's shared Mosquitto out of the broker's CPU figure and out of its queues.
 *
 *   node dist/bench/e2e-bench.js --private-mosquitto      (or BENCH_PRIVATE_MOSQUITTO=1)
 */
export interface PrivateMosquitto {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto'];

export function mosquittoBinary(): string | null {
  return MOSQUITTO_BIN.find((p) => existsSync(p)) ?? null;
}

export async function startPrivateMosquitto(): Promise<PrivateMosquitto> {
  const bin = mosquittoBinary();
  if (!bin) throw new Error(`no mosquitto binary (looked in ${MOSQUITTO_BIN.join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'edge-bench-mosquitto-'));
  // Mosquitto takes a port, not 0: pick a free one and retry if another process takes it first.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'max_queued_messages 10000000',
      'max_inflight_messages 0',
      'log_dest none',
      '',
    ].join('\n'));
    const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const url = `mqtt://127.0.0.1:${port}`;
    const deadline = Date.now() + 5_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null) {
      up = await tcpReachable(url, port);
      if (!up) await sleep(50);
    }
    if (up && child.pid) {
      return {
        url, pid: child.pid,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await Promise.race([exited, sleep(3_000)]);
          if (child.exitCode === null) child.kill('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('the private mosquitto did not start (5 attempts)');
}

/** The broker a bench uses: its own Mosquitto with --private-mosquitto / BENCH_PRIVATE_MOSQUITTO=1, else MQTT_URL. */
export interface BenchBroker {
  url: string;
  /** Mosquitto's pid for CPU attribution (null: unknown). */
  pid: number | null;
  /** How the report names it. */
  note: string;
  stop(): Promise<void>;
}

export function privateMosquittoWanted(): boolean {
  return process.argv.includes('--private-mosquitto') || process.env.BENCH_PRIVATE_MOSQUITTO === '1';
}

export async function benchBroker(): Promise<BenchBroker> {
  if (privateMosquittoWanted()) {
    const p = await startPrivateMosquitto();
    return { url: p.url, pid: p.pid, note: `${p.url} (private Mosquitto: set_tcp_nodelay, deep queues)`, stop: () => p.stop() };
  }
  const url = mqttUrlFromEnv();
  return { url, pid: findMosquittoPid(), note: url, stop: async () => {} };
}
