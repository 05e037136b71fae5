import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { freePort, redisPingError } from '../../bench/lib/net-probe.js';

/**
 * Redis for the suites that need one: REDIS_URL when set (scripts/test-services.js sets it when it
 * finds or starts a Redis), else the local default. Suites skip with the printed reason when none
 * answers, and use their own key prefix, since other suites share the server.
 */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Whether something accepts TCP connections at host:port within the timeout. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Why the Redis suites cannot run (no Redis answers PING within a second), or false when they can.
 * A PING, not just a TCP connect, so a port held by something else does not count as Redis.
 */
export async function redisSkipReason(): Promise<string | false> {
  const err = await redisPingError(REDIS_URL);
  return err === null ? false : `no Redis at ${REDIS_URL} (${err}; ${process.env.REDIS_URL ? 'from REDIS_URL' : 'REDIS_URL unset, tried the default'})`;
}

/** A fresh key prefix (`<label>-<8 hex>` plus `suffix`), so runs and parallel suites never see each other's keys. */
export function uniquePrefix(label = 'edge-test', suffix = ':'): string {
  return `${label}-${randomBytes(4).toString('hex')}${suffix}`;
}

/** `redis-server` when installed (the suites that stop and restart "the" Redis need their own). */
export const redisServerBin: string | undefined = spawnSync('redis-server', ['--version']).status === 0 ? 'redis-server' : undefined;

/** A free loopback TCP port (closed again; the caller binds it next). */
export const freeLoopbackPort = freePort;

/**
 * A throwaway redis-server on 127.0.0.1:port without persistence, never the machine's shared one,
 * so a test may kill and restart it. Resolves once it accepts connections.
 */
export async function startPrivateRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(redisServerBin ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 80 && !(await tcpReachable('127.0.0.1', port, 200)); i++) await new Promise((r) => setTimeout(r, 50));
  return proc;
}
