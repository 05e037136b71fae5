import { join } from 'node:path';
import type { ChannelConfig, EdgeConfig } from '../config/schema.js';
import type { ProcessPlan } from './process-plan.js';
import type { ProcessRole } from './process-role.js';

/**
 * The config process `index` of a plan runs, derived from the file's (at start and on every
 * reload, so a reload compares like with like). What each process owns, it gets its own of:
 * - `instance_id` → `{instance_id}-p{index}`: its MQTT client id, last will and `online` state,
 *   its device ownership in Redis, the owner in its directory locks;
 * - the directories one process locks or writes alone: the spool, the issued credentials, the
 *   tachograph schedule state and the traffic captures. Process 0 keeps the configured directory
 *   itself and process i uses its subdirectory `p{i}`, so going from one process to several (or
 *   back) leaves nothing spooled behind: process 0 drains what the single process left;
 * - the decode pool: `pool.threads: 0` (one per core) becomes the cores shared out.
 * Shared as they are: the media folder (files keyed by device and time, written whole under their
 * final name, the link key created exclusively), and everything in Redis. Ports the config leaves
 * to the OS are the ones the primary picked, identical in every process.
 */
export function workerConfig(config: EdgeConfig, plan: ProcessPlan, index: number): EdgeConfig {
  const own = (dir: string) => (index === 0 ? dir : join(dir, `p${index}`));
  const port = (key: string, value: number | null | undefined): number | null => (value === 0 ? (plan.ports[key] ?? 0) : (value ?? null));
  const channels = config.channels.map((c, i): ChannelConfig => ({
    ...c,
    tcp_port: port(`channels[${i}].tcp_port`, c.tcp_port),
    udp_port: port(`channels[${i}].udp_port`, c.udp_port),
    stream_tcp_port: port(`channels[${i}].stream_tcp_port`, c.stream_tcp_port),
    parts: Object.fromEntries(Object.entries(c.parts).map(([id, p]) => [id, { ...p, tcp_port: port(`channels[${i}].parts.${id}.tcp_port`, p.tcp_port), udp_port: port(`channels[${i}].parts.${id}.udp_port`, p.udp_port) }])),
    capture: { ...c.capture, dir: own(c.capture.dir) },
  }));
  return {
    ...config,
    instance_id: `${config.instance_id}-p${index}`,
    mqtt: plan.mqttUrl ? { ...config.mqtt, url: plan.mqttUrl } : config.mqtt,
    pool: config.pool.threads === 0 ? { ...config.pool, threads: plan.poolThreads } : config.pool,
    spool: { ...config.spool, dir: own(config.spool.dir) },
    credentials: { ...config.credentials, dir: own(config.credentials.dir) },
    tacho: { ...config.tacho, dir: own(config.tacho.dir) },
    channels,
    // every process keeps the port: the media links its messages carry point at process 0's listener
    http: { ...config.http, port: port('http.port', config.http.port) },
  };
}

/** Which listeners process `index` opens (src/processes/balance.ts says why UDP goes to process 0 without reusePort). */
export function workerRole(plan: ProcessPlan, index: number): ProcessRole {
  const reusePort = plan.balance === 'reuseport';
  return { index, count: plan.count, reusePort, udp: reusePort || index === 0, http: index === 0 };
}
