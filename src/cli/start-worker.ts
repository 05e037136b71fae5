import cluster from 'node:cluster';
import { loadConfig } from '../config/load.js';
import { checkChannelProtocols } from '../config/protocol-check.js';
import type { ProcessPlan } from '../processes/process-plan.js';
import { READY_MESSAGE } from '../processes/supervisor.js';
import { workerConfig, workerRole } from '../processes/worker-config.js';
import { loadProtocols } from '../protocol/registry.js';
import { createLogger } from '../util/log.js';
import { serve } from './serve.js';

/**
 * One process of `processes: N`, forked by the primary (start-primary.ts) with the plan in its
 * environment: it reads the config file itself, derives its own from it (worker-config.ts: its
 * instance id, directories, ports) and runs the whole server, then tells the primary it is ready.
 */
export async function startWorker(configFile: string | undefined, plan: ProcessPlan, index: number): Promise<number> {
  try {
    const protocols = await loadProtocols();
    const derive = (c: ReturnType<typeof loadConfig>) => workerConfig(c, plan, index);
    const loaded = loadConfig(configFile);
    checkChannelProtocols(loaded, protocols);
    const config = derive(loaded);
    const log = createLogger(config.log_level, undefined, { process: `p${index}`, pid: process.pid });
    const role = workerRole(plan, index);
    log.info({ instance_id: config.instance_id, spool: config.spool.enabled ? config.spool.dir : null, pool_threads: config.pool.threads, udp: role.udp, http: role.http && config.http.port !== null }, `process ${index} of ${plan.count} starting`);
    return await serve(config, { configFile, protocols, log, derive, role, started: () => process.send?.({ type: READY_MESSAGE }) });
  } finally {
    // The IPC channel to the primary keeps a worker's event loop alive: let go of it, then leave
    // with the status the command line sets, like a single process (at the latest a few seconds
    // later, should anything linger). cluster.worker.disconnect, not process.disconnect: Node's
    // cluster ends a worker whose channel closes unannounced at once, with status 0, which would
    // hide a failed start from the primary.
    cluster.worker?.disconnect();
    setTimeout(() => process.exit(), 5000).unref();
  }
}
