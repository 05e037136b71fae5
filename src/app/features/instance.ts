import { InstanceState } from '../../mqtt/instance-state.js';
import type { DeviceOwnership } from '../../cluster/device-ownership.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface InstanceFeature extends Feature {
  readonly instance: InstanceState;
}

/**
 * Retained online/instance state and the correction of stale device state left by an earlier run
 * (mqtt/instance-state.ts). Registered first among the features, so it starts before the channels
 * open (stale "connected true" corrected first) and stops last: everything else is flushed to the
 * broker before the instance says it is offline.
 */
export function instanceFeature(rt: Runtime, ownership: DeviceOwnership | null): InstanceFeature {
  // with several instances a device's retained "connected true" may be another instance's live device
  const heldElsewhere = ownership
    ? async (stateTopics: string[]) => {
        const devices = stateTopics.map((t) => rt.topics.parseDeviceStateTopic(t)).map((d) => [d?.channel ?? '', d?.ident ?? ''] as [string, string]);
        const held = await ownership.heldAnywhere(devices);
        return new Set(stateTopics.filter((_, i) => held[i]));
      }
    : undefined;
  const instance = new InstanceState({ publisher: rt.publisher, topics: rt.topics, instanceId: rt.config.instance_id, channels: rt.channels.list, log: rt.log, ...(heldElsewhere ? { heldElsewhere } : {}) });
  return {
    name: 'instance',
    instance,
    hooks: {
      identified: (ch, ident) => instance.identified(ch, ident),
      offline: (ch, ident) => instance.offline(ch, ident),
    },
    state: { name: 'instance', republish: () => instance.republish() },
    async start() {
      await instance.start();
    },
    async stop(timeoutMs) {
      await rt.publisher.flush(timeoutMs);
      await instance.stop(Math.min(2000, Math.max(timeoutMs, 500)));
    },
  };
}
