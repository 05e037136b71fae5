import { CLOSE_CODES } from '../../net/close-codes.js';
import { DeviceOwnership } from '../../cluster/device-ownership.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface OwnershipFeature extends Feature {
  readonly ownership: DeviceOwnership;
}

/**
 * Several instances as one channel (redis_url): which instance holds each device, in Redis
 * (src/cluster/). A device taken over by another instance is closed here with close code 12.
 */
export function ownershipFeature(rt: Runtime): OwnershipFeature | null {
  const { config } = rt;
  if (!config.redis_url) return null;
  const ownership = new DeviceOwnership({
    url: config.redis_url,
    prefix: config.redis_prefix,
    instanceId: config.instance_id,
    leaseMs: config.device_lease_s * 1000,
    onTakenOver: (ch, ident, by) => rt.channels.get(ch)?.closeIdent(ident, CLOSE_CODES.IDENT_COLLISION, `ident ${ident} connected to instance ${by}`),
    log: rt.log.child({ component: 'ownership' }),
  });
  return {
    name: 'ownership',
    ownership,
    hooks: {
      identified: (ch, ident) => ownership.claim(ch, ident),
      offline: (ch, ident) => ownership.release(ch, ident),
    },
    start: () => ownership.start(),
    stop: () => ownership.stop(),
  };
}
