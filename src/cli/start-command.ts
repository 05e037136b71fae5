import cluster from 'node:cluster';
import { loadConfig } from '../config/load.js';
import { checkChannelProtocols } from '../config/protocol-check.js';
import { EdgeError } from '../errors.js';
import { planFromEnv, processCount } from '../processes/process-plan.js';
import { loadProtocols } from '../protocol/registry.js';
import { createLogger } from '../util/log.js';
import { flagStr, parseArgs } from './args.js';
import { chooseBroker } from './broker-choice.js';
import { listeningLines, serve } from './serve.js';
import { START_HELP } from './start-help.js';
import { startPrimary } from './start-primary.js';
import { startWorker } from './start-worker.js';

export { START_HELP };

/**
 * `edge-channel start`: one process (the default), or with `processes` above 1 (config or
 * `--processes`) a primary that runs that many (start-primary.ts); a process the primary forked
 * finds its part in its environment (start-worker.ts).
 */
export async function startCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { config: 'value', 'mqtt-url': 'value', processes: 'value', help: 'flag' });
  if (args.flags.has('help')) {
    process.stdout.write(START_HELP + '\n');
    return 0;
  }
  const configFile = flagStr(args, 'config') ?? process.env.EDGE_CONFIG;
  const worker = cluster.isWorker ? planFromEnv(process.env) : null;
  if (worker) return startWorker(configFile, worker.plan, worker.index);

  const loaded = loadConfig(configFile);
  const processes = processesFlag(flagStr(args, 'processes'));
  if (processes !== undefined) loaded.processes = processes;
  // protocol options and transports: checked here too so they fail like any other config error
  const protocols = await loadProtocols();
  checkChannelProtocols(loaded, protocols);
  const count = processCount(loaded.processes);
  const mqttUrlFlag = flagStr(args, 'mqtt-url');
  if (count > 1) return startPrimary(loaded, { count, configFile, mqttUrlFlag, log: createLogger(loaded.log_level, undefined, { process: 'primary', pid: process.pid }) });

  const log = createLogger(loaded.log_level);
  const { config, note } = await chooseBroker(loaded, { mqttUrlFlag, configFile });
  if (note) log.info(note);
  // --mqtt-url stays in force across reloads
  const derive = (next: typeof config) => (mqttUrlFlag !== undefined ? { ...next, mqtt: { ...next.mqtt, url: config.mqtt.url } } : next);
  return serve(config, {
    configFile,
    protocols,
    log,
    derive,
    started: (app) => {
      const channels = app.channels.map((c) => ({ id: c.id, proto: c.proto, host: c.cfg.host, tcpPort: c.tcpPort, udpPort: c.udpPort }));
      for (const line of listeningLines(config, channels, app.brokerUrl)) log.info(line);
    },
  });
}

/** `--processes N|auto`, as the config key takes it. */
function processesFlag(v: string | undefined): number | 'auto' | undefined {
  if (v === undefined) return undefined;
  if (v === 'auto') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new EdgeError('EDGE_CLI_USAGE', `--processes expects an integer 1..256 or "auto", got "${v}"`);
  return n;
}
