import { startApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { EdgeError } from '../errors.js';
import { createLogger } from '../util/log.js';
import { flagStr, parseArgs } from './args.js';

export const START_HELP = `edge-channel start [--config FILE]

Runs the channel server: the listeners of every configured channel, the decode worker pool, and
the MQTT publisher (an embedded broker on 127.0.0.1:1883 unless mqtt.url names one).

Options:
  --config FILE   YAML or JSON configuration (default: built-in defaults = embedded broker and a
                  Ruptela channel on TCP 5046; see README.md "Configuration")
  --help          this text

Signals: SIGINT/SIGTERM stop accepting, finish in-flight frames (publish, then ACK), exit 0.
Exit status 2: invalid configuration or a port that cannot be bound.`;

export async function startCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { config: 'value', help: 'flag' });
  if (args.flags.has('help')) {
    process.stdout.write(START_HELP + '\n');
    return 0;
  }
  const config = loadConfig(flagStr(args, 'config') ?? process.env.EDGE_CONFIG);
  const log = createLogger(config.log_level);
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
  await app.stop();
  log.info('stopped');
  return 0;
}
