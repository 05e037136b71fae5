import { FileCredentialStore } from '../../credentials/credential-store.js';
import type { ProtocolModule } from '../../protocol/types.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface CredentialsFeature extends Feature {
  readonly store: FileCredentialStore;
}

/**
 * Device credentials the server issues (JT/T 808 auth codes), only when a channel's protocol uses
 * them: loaded before any listener opens, so a check is a map read.
 */
export function credentialsFeature(rt: Runtime, protos: readonly ProtocolModule[]): CredentialsFeature | null {
  const { config, log } = rt;
  const channelIds = config.channels.filter((_c, i) => protos[i]!.usesCredentials).map((c) => String(c.id));
  if (channelIds.length === 0) return null;
  const store = new FileCredentialStore({
    dir: config.credentials.dir,
    fsync: config.credentials.fsync,
    instanceId: config.instance_id,
    onCorrupt: (info) => log.warn({ code: info.code }, `${info.code}: ${info.reason}`),
  });
  return {
    name: 'credentials',
    store,
    start: () => store.open(channelIds),
    stop: () => store.close(),
  };
}
