import { watchConfigFile } from '../config/watch.js';
import { startApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { checkChannelProtocols } from '../config/protocol-check.js';
import { loadProtocols } from '../protocol/registry.js';
import { EdgeError } from '../errors.js';
import { createLogger } from '../util/log.js';
import { flagStr, parseArgs } from './args.js';
import { START_HELP } from './start-help.js';
import { chooseBroker } from './broker-choice.js';

export { START_HELP };

export async function startCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { config: 'value', 'mqtt-url': 'value', help: 'flag' });
  if (args.flags.has('help')) {
    process.stdout.write(START_HELP + '\n');
    return 0;
  }
  const configFile = flagStr(args, 'config') ?? process.env.EDGE_CONFIG;
  const loaded = loadConfig(configFile);
  // protocol options and transports: checked here too so they fail like any other config error
  const protocols = await loadProtocols();
  checkChannelProtocols(loaded, protocols);
  const log = createLogger(loaded.log_level);
  const { config, note } = await chooseBroker(loaded, { mqttUrlFlag: flagStr(args, 'mqtt-url'), configFile });
  if (note) log.info(note);
  let app;
  try {
    app = await startApp(config, { log });
  } catch (e) {
    if (e instanceof EdgeError) {
      log.fatal({ code: e.code }, e.message);
      // startApp tears down what it started; should anything still hold the event loop, the
      // process must not run on half-started after a fatal error
      setTimeout(() => process.exit(2), 2000).unref();
      return 2;
    }
    throw e;
  }
  // Reload on SIGHUP or when the file changes: the keys marked live in the schema apply without a
  // restart (app.reload); the others are listed in one warning.
  const reload = (why: string) => {
    if (!configFile) return;
    try {
      const next = loadConfig(configFile);
      checkChannelProtocols(next, protocols);
      if (args.flags.has('mqtt-url')) next.mqtt.url = config.mqtt.url; // --mqtt-url stays in force across reloads
      log.info({ why }, 'reloading configuration');
      app.reload(next);
    } catch (e) {
      log.error({ code: e instanceof EdgeError ? e.code : undefined, err: (e as Error).message }, 'config reload failed; the running configuration is kept');
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  const watcher = configFile ? watchConfigFile(configFile, () => reload('file changed')) : null;

  // after the handlers: a test (or operator) seeing these lines may signal at once
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
  watcher?.close();
  await app.stop();
  log.info('stopped');
  return 0;
}
