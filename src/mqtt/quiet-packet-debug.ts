import { createRequire } from 'node:module';

/**
 * mqtt-packet (the MQTT.js and aedes packet codec) creates its `debug` loggers when its modules load
 * and calls them several times per packet written or parsed, logging on or off. `debug`'s logger
 * takes its arguments as a rest parameter, so every call allocates an array even when the namespace
 * is disabled: with the e2e bench at 5,000 frames/s that was 17.6 % of all the bytes the main thread
 * allocated (a sampling heap profile, bench/README.md "Latency by stage, CPU by rate"), and every
 * young-generation collection costs this VM a 7–12 ms pause.
 *
 * Imported before `mqtt` and `aedes` load, this hands mqtt-packet a logger that does nothing for
 * each namespace that `DEBUG` does not enable, and the real one for those it does (`DEBUG=mqtt-packet:*`
 * still prints). Other packages' loggers are untouched. If mqtt-packet or debug cannot be found the
 * module does nothing: it changes cost, never behaviour.
 */
type CreateDebug = ((namespace: string) => (...args: unknown[]) => void) & { enabled(namespace: string): boolean };

const noop = (): void => {};

function install(): void {
  const here = createRequire(import.meta.url);
  // resolve `debug` the way mqtt-packet itself does, from its own folder
  const fromPacket = createRequire(here.resolve('mqtt-packet'));
  const debugPath = fromPacket.resolve('debug');
  const real = fromPacket('debug') as CreateDebug;
  const cached = fromPacket.cache[debugPath];
  if (!cached || typeof real !== 'function' || typeof real.enabled !== 'function') return;
  const quiet = Object.assign((namespace: string) => (namespace.startsWith('mqtt-packet') && !real.enabled(namespace) ? Object.assign(noop, { enabled: false }) : real(namespace)), real);
  cached.exports = quiet;
}

try {
  install();
} catch {
  // not installed the usual way (bundled, or a different layout): keep the real loggers
}
