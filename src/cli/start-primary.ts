import type { EdgeConfig } from '../config/schema.js';
import { balanceNote, chooseBalance, reusePortSupport } from '../processes/balance.js';
import { planEnv, planProcesses } from '../processes/process-plan.js';
import { Supervisor } from '../processes/supervisor.js';
import { serveClusterMetrics } from '../processes/cluster-metrics.js';
import { serveQueries } from '../processes/cluster-query.js';
import { workerConfig } from '../processes/worker-config.js';
import type { Logger } from '../util/log.js';
import { chooseBroker } from './broker-choice.js';
import { listeningLines } from './serve.js';

/**
 * `edge-channel start` with `processes` above 1: the small primary. It checks what several
 * processes need (Redis, an external broker, free ports), decides once what they must agree on
 * (process-plan.ts), forks them (supervisor.ts) and stays beside them: starting again one that
 * dies, passing SIGHUP on, stopping them all on SIGINT/SIGTERM. It never connects to MQTT or Redis
 * and opens no port of its own.
 */
export async function startPrimary(config: EdgeConfig, o: { count: number; configFile: string | undefined; mqttUrlFlag: string | undefined; log: Logger }): Promise<number> {
  const { log, count } = o;
  const support = reusePortSupport();
  const balance = chooseBalance(config.processes_balance, support);
  // the broker as a single start chooses it (--mqtt-url, mqtt.url, a broker answering next door); never the embedded one
  const { config: chosen, note } = await chooseBroker(config, { mqttUrlFlag: o.mqttUrlFlag, configFile: o.configFile });
  if (note) log.info(note);
  const plan = await planProcesses(chosen, { count, balance, mqttUrl: chosen.mqtt.url !== config.mqtt.url ? chosen.mqtt.url : null });
  log.info({ processes: count, balance, node: process.version, pool_threads: chosen.pool.threads || plan.poolThreads }, `${count} processes serve the channels; ${balanceNote(balance, config.processes_balance, support)}`);

  const supervisor = new Supervisor({ count, log, env: (i) => planEnv(plan, i), stopTimeoutMs: (config.shutdown_timeout_s + 15) * 1000 });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals === 1) {
      log.info({ signal: sig }, 'stopping: every process finishes its in-flight frames');
      supervisor.stop();
    } else {
      log.warn({ signal: sig }, 'a second signal: killing every process');
      supervisor.kill();
    }
  };
  const onHup = () => {
    log.info('SIGHUP: every process reloads its configuration');
    supervisor.signal('SIGHUP');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  // process 0's /metrics and API ask here for every process's figures (processes/cluster-metrics.ts, cluster-query.ts)
  const stopMetrics = serveClusterMetrics(log);
  const stopQueries = serveQueries(count);
  supervisor.start();
  const first = await Promise.race([supervisor.allReady.then(() => true), supervisor.done.then(() => false)]);
  if (first) {
    // what process 0 runs is what every process listens on (the same ports)
    const p0 = workerConfig(chosen, plan, 0);
    const channels = p0.channels.map((c) => ({ id: c.id, proto: { id: c.protocol }, host: c.host, tcpPort: c.tcp_port, udpPort: c.udp_port }));
    for (const line of listeningLines(p0, channels, p0.mqtt.url)) log.info(line);
    log.info({ pids: supervisor.pids() }, `all ${count} processes ready`);
  }
  const status = await supervisor.done;
  stopMetrics();
  stopQueries();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHup);
  if (status === 0) log.info('stopped');
  return status;
}
