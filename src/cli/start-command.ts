import { watch } from 'node:fs';
import { startApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { EdgeError } from '../errors.js';
import { createLogger } from '../util/log.js';
import { flagStr, parseArgs } from './args.js';
import { chooseBroker } from './broker-choice.js';

export const START_HELP = `edge-channel start [--config FILE] [--mqtt-url URL]

Runs the channel server: the listeners of every configured channel, the decode worker pool, and
the MQTT publisher. Broker: --mqtt-url, else mqtt.url, else (with no config file) a broker already
answering MQTT on 127.0.0.1:1883, else an embedded broker on 127.0.0.1:1883.

Options:
  --config FILE     YAML or JSON configuration (default: built-in defaults = a Ruptela channel on
                    TCP 5046; see README.md "Configuration" and config.example.yaml)
  --mqtt-url URL    the MQTT broker to publish to, e.g. mqtt://127.0.0.1:1883 (over mqtt.url)
  --help            this text

Signals: SIGINT/SIGTERM stop accepting, finish in-flight frames (publish, then ACK), exit 0.
         SIGHUP (or saving the config file) reloads IP lists and UDP limits without a restart;
         open connections from addresses no longer allowed are closed.
Exit status 2: invalid configuration or a port that cannot be bound.`;

export async function startCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { config: 'value', 'mqtt-url': 'value', help: 'flag' });
  if (args.flags.has('help')) {
    process.stdout.write(START_HELP + '\n');
    return 0;
  }
  const configFile = flagStr(args, 'config') ?? process.env.EDGE_CONFIG;
  const loaded = loadConfig(configFile);
  const log = createLogger(loaded.log_level);
  const { config, note } = await chooseBroker(loaded, { mqttUrlFlag: flagStr(args, 'mqtt-url'), configFile });
  if (note) log.info(note);
  let app;
  try {
    app = await startApp(config, { log });
  } catch (e) {
    if (e instanceof EdgeError) {
      log.fatal({ code: e.code }, e.message);
      return 2;
    }
    throw e;
  }
  for (const ch of app.channels) {
    const where = [ch.tcpPort ? `tcp://${ch.cfg.host}:${ch.tcpPort}` : '', ch.udpPort ? `udp://${ch.cfg.host}:${ch.udpPort}` : ''].filter(Boolean).join(' and ');
    log.info(`devices of channel ${ch.id} (${ch.proto.id}) connect to ${where}`);
  }
  const subHost = new URL(app.brokerUrl);
  log.info(`subscribe to everything with: mosquitto_sub -h ${subHost.hostname} -p ${subHost.port || 1883} -t '${config.mqtt.topic_root}/#' -v`);

  // Reload on SIGHUP or when the file changes: IP lists and UDP limits apply without a restart.
  const reload = (why: string) => {
    if (!configFile) return;
    try {
      const next = loadConfig(configFile);
      if (args.flags.has('mqtt-url')) next.mqtt.url = config.mqtt.url; // --mqtt-url stays in force across reloads
      log.info({ why }, 'reloading configuration');
      app.reload(next);
    } catch (e) {
      log.error({ code: e instanceof EdgeError ? e.code : undefined, err: (e as Error).message }, 'config reload failed; the running configuration is kept');
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  let debounce: NodeJS.Timeout | null = null;
  const watcher = configFile
    ? watch(configFile, () => {
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(() => reload('file changed'), 300);
      })
    : null;

  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      log.info({ signal: sig }, 'stopping: finishing in-flight frames');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  watcher?.close();
  if (debounce) clearTimeout(debounce);
  await app.stop();
  log.info('stopped');
  return 0;
}
