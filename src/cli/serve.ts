import type { App } from '../app.js';
import { startApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { checkChannelProtocols } from '../config/protocol-check.js';
import type { EdgeConfig } from '../config/schema.js';
import { watchConfigFile } from '../config/watch.js';
import { EdgeError } from '../errors.js';
import type { ProcessRole } from '../processes/process-role.js';
import type { ProtocolModule } from '../protocol/types.js';
import type { Logger } from '../util/log.js';

export interface ServeOptions {
  configFile: string | undefined;
  protocols: ReadonlyMap<string, ProtocolModule>;
  log: Logger;
  /** The config to run from the file's, at start and on every reload (`--mqtt-url` kept, a process's own derivation). */
  derive(loaded: EdgeConfig): EdgeConfig;
  /** One of several processes of the box; absent = alone. */
  role?: ProcessRole;
  /** The channels listen. */
  started(app: App): void;
}

/**
 * One runtime from start to stop, as `edge-channel start` runs it alone and as each process of
 * `processes: N` runs it (cli/start-worker.ts): start, reload on SIGHUP or when the file changes,
 * stop on SIGINT/SIGTERM after finishing in-flight frames. Exit status 2 when it cannot start.
 *
 * One of several processes ignores signals once it is stopping: Ctrl-C and systemd's stop reach
 * every process of the group and the primary forwards its own on top, and a second signal must not
 * cut the graceful stop short (the primary kills a process that overruns, after the shutdown
 * timeout). Should the primary itself die, Node's cluster ends each process when the IPC channel
 * closes, without a graceful stop (nothing is left holding the ports; devices send again what was not
 * acknowledged).
 */
export async function serve(config: EdgeConfig, o: ServeOptions): Promise<number> {
  const { log } = o;
  let app: App;
  try {
    app = await startApp(config, { log, ...(o.role ? { process: o.role } : {}) });
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
    if (!o.configFile) return;
    try {
      const next = loadConfig(o.configFile);
      checkChannelProtocols(next, o.protocols);
      log.info({ why }, 'reloading configuration');
      app.reload(o.derive(next));
    } catch (e) {
      log.error({ code: e instanceof EdgeError ? e.code : undefined, err: (e as Error).message }, 'config reload failed; the running configuration is kept');
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  const watcher = o.configFile ? watchConfigFile(o.configFile, () => reload('file changed')) : null;

  // after the handlers: a test (or operator) seeing these lines may signal at once
  o.started(app);

  const several = (o.role?.count ?? 1) > 1;
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      log.info({ signal: sig }, 'stopping: finishing in-flight frames');
      if (!several) {
        // alone, a second Ctrl-C falls back to Node's default: it ends the process at once
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      } else {
        process.off('SIGINT', onSignal).on('SIGINT', ignore);
        process.off('SIGTERM', onSignal).on('SIGTERM', ignore);
      }
      resolve();
    };
    const ignore = () => undefined;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  watcher?.close();
  await app.stop();
  log.info('stopped');
  return 0;
}

/** Where devices connect and how to watch the output: the lines `edge-channel start` ends its start with. */
export function listeningLines(config: EdgeConfig, channels: readonly { id: string; proto: { id: string }; host: string; tcpPort: number | null; udpPort: number | null }[], brokerUrl: string): string[] {
  const lines = channels.map((ch) => {
    const where = [ch.tcpPort ? `tcp://${ch.host}:${ch.tcpPort}` : '', ch.udpPort ? `udp://${ch.host}:${ch.udpPort}` : ''].filter(Boolean).join(' and ');
    return `devices of channel ${ch.id} (${ch.proto.id}) connect to ${where}`;
  });
  const sub = new URL(brokerUrl);
  lines.push(`subscribe to everything with: mosquitto_sub -h ${sub.hostname} -p ${sub.port || 1883} -t '${config.mqtt.topic_root}/#' -v`);
  return lines;
}
