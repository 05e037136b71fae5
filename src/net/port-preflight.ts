import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { EdgeError } from '../errors.js';
import type { Listener } from '../config/port-conflicts.js';

/**
 * Binds each fixed port of the config for a moment and releases it, before the process connects
 * to MQTT or publishes anything. A second start on a host where an instance already runs fails
 * here (EDGE_PORT_IN_USE, exit 2) instead of after its MQTT connection took over the running
 * instance's client id, flipped its retained `online` and rewrote `channels/{id}/instance`.
 * Ephemeral ports (0) and absent listeners are skipped. What it cannot close: a port taken by
 * another process between this check and the real bind (that start still fails at bind time).
 */
export async function assertPortsFree(listeners: readonly Listener[]): Promise<void> {
  for (const l of listeners) {
    if (!l.port) continue;
    await (l.transport === 'tcp' ? tryTcp(l) : tryUdp(l));
  }
}

function inUse(l: Listener, e: NodeJS.ErrnoException): EdgeError {
  const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.message;
  return new EdgeError('EDGE_PORT_IN_USE', `${l.key}: cannot listen on ${l.transport.toUpperCase()} ${l.host}:${l.port}: ${why} (checked before connecting to MQTT: nothing was published)`);
}

function tryTcp(l: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => reject(inUse(l, e)));
    s.listen({ host: l.host, port: l.port!, exclusive: true }, () => s.close(() => resolve()));
  });
}

function tryUdp(l: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket(l.host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.close();
      reject(inUse(l, e));
    });
    s.bind({ address: l.host, port: l.port!, exclusive: true }, () => s.close(() => resolve()));
  });
}

/**
 * A port the OS gives for `l` (its transport and host) right now, closed again. Several processes
 * serving one config (config `processes`) must bind the same port where the config says 0, so the
 * primary asks once and every process gets the answer. Another process may take the port before
 * they bind; they then fail with EDGE_PORT_IN_USE like any start on a taken port.
 */
export function pickFreePort(l: Listener): Promise<number> {
  return new Promise((resolve, reject) => {
    if (l.transport === 'tcp') {
      const s = createServer();
      s.once('error', (e: NodeJS.ErrnoException) => reject(inUse(l, e)));
      s.listen({ host: l.host, port: 0, exclusive: true }, () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
      return;
    }
    const s = createSocket(l.host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.close();
      reject(inUse(l, e));
    });
    s.bind({ address: l.host, port: 0, exclusive: true }, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
