import { hostname } from 'node:os';

/** The default instance id: the host name as a topic level ("edge-channel" if it has nothing usable). */
export function defaultInstanceId(host = hostname()): string {
  return host.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^_+|_+$/g, '') || 'edge-channel';
}
