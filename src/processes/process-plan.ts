import { availableParallelism } from 'node:os';
import { defaultDecodeThreads } from '../util/decode-threads.js';
import type { EdgeConfig } from '../config/schema.js';
import { configListeners } from '../config/port-conflicts.js';
import { EdgeError } from '../errors.js';
import { assertPortsFree, pickFreePort } from '../net/port-preflight.js';
import type { Balance } from './balance.js';

/**
 * What the primary decides once for all the processes of one box (config `processes`), handed to
 * each in its environment: how many there are, how they share the ports, the broker the primary
 * chose (`--mqtt-url`, or a broker found next door), the ports the config leaves to the OS (all
 * processes must bind the same), and the decode threads each runs. Each process then reads the
 * config file itself (at start and on every reload) and derives its own from it (worker-config.ts).
 */
export interface ProcessPlan {
  count: number;
  balance: Balance;
  /** Over mqtt.url, as `--mqtt-url` is in a single process; null = the config's. */
  mqttUrl: string | null;
  /** Key path (`channels[0].tcp_port`, `http.port`) → the port picked for a configured 0. */
  ports: Record<string, number>;
  /** Decode threads of each process when pool.threads is 0: the cores shared out, at least 1. */
  poolThreads: number;
}

/** The environment variable that carries the plan to a cluster worker (it means nothing elsewhere). */
export const PLAN_ENV = 'EDGE_PROCESS_PLAN';
export const INDEX_ENV = 'EDGE_PROCESS_INDEX';

/** `processes` as a count: the CLI flag over the config, "auto" = the cores Node may use. */
export function processCount(setting: number | 'auto', cores: number = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, cores) : setting;
}

/**
 * What several processes need beyond one, as config errors naming the key: Redis (device
 * ownership, the command queue, UDP limits and asset timelines are what makes N processes one
 * channel, exactly as N instances behind a load balancer), and a broker outside the processes
 * (the embedded one lives inside a process: it cannot listen in every one of them on one port,
 * and a broker in one of them would carry every process's publishes on that process's core).
 */
export function checkProcessConfig(config: EdgeConfig, count: number): void {
  const problems: string[] = [];
  if (!config.redis_url) problems.push(`redis_url: expected a redis:// URL with processes ${count} (the processes share device ownership, the command queue, UDP limits and asset timelines through Redis), got nothing`);
  if (!config.mqtt.url) problems.push(`mqtt.url: expected an external broker with processes ${count} (the embedded broker runs inside one process and cannot serve the others; set mqtt.url, EDGE_MQTT_URL or --mqtt-url), got nothing`);
  if (problems.length) throw new EdgeError('EDGE_CONFIG_INVALID', problems.length === 1 ? problems[0]! : `${problems[0]}; and 1 more: ${problems[1]}`);
}

/**
 * The plan for `count` processes: the config checked for them, every fixed port free (as a single
 * start checks it, once, before any process connects to MQTT), and every port 0 picked.
 */
export async function planProcesses(config: EdgeConfig, o: { count: number; balance: Balance; mqttUrl: string | null; cores?: number }): Promise<ProcessPlan> {
  checkProcessConfig(config, o.count);
  const listeners = configListeners(config);
  await assertPortsFree(listeners);
  const ports: Record<string, number> = {};
  for (const l of listeners) if (l.port === 0) ports[l.key] = await pickFreePort(l);
  const cores = o.cores ?? availableParallelism();
  return { count: o.count, balance: o.balance, mqttUrl: o.mqttUrl, ports, poolThreads: defaultDecodeThreads(Math.floor(cores / o.count)) };
}

export function planEnv(plan: ProcessPlan, index: number): Record<string, string> {
  return { [PLAN_ENV]: JSON.stringify(plan), [INDEX_ENV]: String(index) };
}

/** The plan and this process's index, in a cluster worker started by the primary; else null. */
export function planFromEnv(env: NodeJS.ProcessEnv): { plan: ProcessPlan; index: number } | null {
  const text = env[PLAN_ENV];
  const index = Number(env[INDEX_ENV]);
  if (!text || !Number.isInteger(index) || index < 0) return null;
  const plan = JSON.parse(text) as ProcessPlan;
  return index < plan.count ? { plan, index } : null;
}
