import { EdgeError } from '../errors.js';

/**
 * Two listeners on one port and transport cannot both bind; finding that in the config means the
 * process exits before anything starts, instead of at bind time with a broker already running.
 * Addresses overlap when they are equal or either is a wildcard (0.0.0.0 and :: take every
 * address; on Linux :: is dual-stack). Port 0 (ephemeral) never conflicts. Host names are compared
 * as written: `localhost` and `127.0.0.1` on one port are still found at bind time.
 */
export interface Listener {
  /** Key path of the port, e.g. `channels[1].tcp_port`. */
  key: string;
  transport: 'tcp' | 'udp';
  host: string;
  port: number | null;
}

/** Every listener a config opens (fixed or ephemeral ports), keyed by its config path. */
export function configListeners(c: {
  mqtt: { url?: string | undefined; embedded: { host: string; port: number } };
  http: { host: string; port: number | null };
  channels: readonly { host: string; tcp_port?: number | null | undefined; udp_port?: number | null | undefined; stream_tcp_port?: number | null | undefined; parts: Record<string, { tcp_port?: number | null | undefined; udp_port?: number | null | undefined }> }[];
}): Listener[] {
  const listeners: Listener[] = [];
  if (!c.mqtt.url) listeners.push({ key: 'mqtt.embedded.port', transport: 'tcp', host: c.mqtt.embedded.host, port: c.mqtt.embedded.port });
  listeners.push({ key: 'http.port', transport: 'tcp', host: c.http.host, port: c.http.port });
  c.channels.forEach((ch, i) => {
    listeners.push({ key: `channels[${i}].tcp_port`, transport: 'tcp', host: ch.host, port: ch.tcp_port ?? null });
    listeners.push({ key: `channels[${i}].udp_port`, transport: 'udp', host: ch.host, port: ch.udp_port ?? null });
    listeners.push({ key: `channels[${i}].stream_tcp_port`, transport: 'tcp', host: ch.host, port: ch.stream_tcp_port ?? null });
    for (const [id, ports] of Object.entries(ch.parts)) {
      listeners.push({ key: `channels[${i}].parts.${id}.tcp_port`, transport: 'tcp', host: ch.host, port: ports.tcp_port ?? null });
      listeners.push({ key: `channels[${i}].parts.${id}.udp_port`, transport: 'udp', host: ch.host, port: ports.udp_port ?? null });
    }
  });
  return listeners;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '']);

function overlap(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

export function checkPortConflicts(listeners: readonly Listener[]): void {
  for (let i = 0; i < listeners.length; i++) {
    const b = listeners[i]!;
    if (!b.port) continue;
    for (let j = 0; j < i; j++) {
      const a = listeners[j]!;
      if (a.port === b.port && a.transport === b.transport && overlap(a.host, b.host)) {
        throw new EdgeError('EDGE_CONFIG_INVALID', `${b.key}: expected a ${b.transport.toUpperCase()} port not used by ${a.key} (${a.host}:${a.port}), got ${b.port}`);
      }
    }
  }
}
