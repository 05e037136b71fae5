import type { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';

/**
 * What an operator reads while the broker is away: one warning when the connection is lost, then
 * one aggregated line per interval (how long, how many attempts, the last error) instead of a
 * "lost" and an "error" line per reconnect attempt (2 lines a second for as long as the outage
 * lasts, before), and one info line with the outage's length when it is back. Errors while
 * connected (a failed subscribe) are rare and logged as they come.
 */
export interface OutageLogOptions {
  /** Aggregated line interval (the config's stats_interval_s). */
  intervalMs: number;
  /** The broker URL, named in the lines. */
  url: string;
  /** The "connection lost" line (says where messages go meanwhile). */
  lostMessage: string;
  now?: () => number;
}

export interface OutageLog {
  /** Attempts and errors of the current outage (0/null while connected). */
  readonly current: { attempts: number; lastError: string | null; sinceMs: number | null };
  /** Stops the interval line and ignores later events (shutdown). */
  stop(): void;
}

/** Emitter events: 'up', 'down' (every closed connection or failed attempt), 'mqtt-error' (Error). */
export function logBrokerOutages(publisher: EventEmitter, log: Logger, o: OutageLogOptions): OutageLog {
  const now = o.now ?? Date.now;
  // null while connected; before the first connection the start-up warning stands for "lost"
  let sinceMs: number | null = now();
  let attempts = 0;
  let lastError: string | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const seconds = () => Math.round((now() - (sinceMs ?? now())) / 1000);
  const startTimer = () => {
    timer ??= setInterval(() => {
      log.warn({ code: 'EDGE_MQTT_UNREACHABLE', url: o.url, down_s: seconds(), attempts, err: lastError }, 'MQTT broker still unreachable');
    }, o.intervalMs);
    timer.unref();
  };
  const clearTimer = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  startTimer();
  publisher.on('down', () => {
    if (stopped) return;
    if (sinceMs === null) {
      sinceMs = now();
      attempts = 0;
      lastError = null;
      log.warn({ code: 'EDGE_MQTT_UNREACHABLE', url: o.url }, o.lostMessage);
      startTimer();
    } else attempts++;
  });
  publisher.on('mqtt-error', (e: Error) => {
    if (stopped) return;
    if (sinceMs === null) log.warn({ code: 'EDGE_MQTT_UNREACHABLE', err: e.message }, 'MQTT client error');
    else lastError = e.message;
  });
  publisher.on('up', () => {
    if (stopped) return;
    clearTimer();
    log.info({ url: o.url, ...(attempts > 0 ? { down_s: seconds(), attempts } : {}) }, 'MQTT connected');
    sinceMs = null;
    attempts = 0;
    lastError = null;
  });
  return {
    get current() {
      return { attempts, lastError, sinceMs };
    },
    stop() {
      stopped = true;
      clearTimer();
    },
  };
}
