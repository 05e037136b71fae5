import type { CommandService } from '../../commands/command-service.js';
import { DeviceRelay, type RelayAdmission } from '../../relay/device-relay.js';
import { channelDevicePort } from '../command-ports.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

/**
 * Device questions for outside services (tacho company-card APDUs to the card bridge): published
 * for the service, answers written back to the device; a service that does not answer ends the
 * command waiting for it. `admit` refuses requests the device may not make now (the company card
 * authenticates only for a pending download: the tacho feature's rule).
 */
export function relayFeature(rt: Runtime, commands: CommandService, admit?: RelayAdmission): Feature {
  const relay = new DeviceRelay({
    sink: rt.sink,
    topics: rt.topics,
    log: rt.log.child({ component: 'relay' }),
    endCommand: (ch, ident, replyKey, code, reason) => void commands.complete(ch, ident, replyKey, { executed: false, code, reason }),
    device: channelDevicePort(rt.channels),
    ...(admit ? { admit } : {}),
  });
  return {
    name: 'relay',
    hooks: {
      offline: (ch, ident) => relay.deviceOffline(ch, ident),
      relay: (ch, ident, e, done) => relay.request(ch, ident, e, done),
    },
    async stop() {
      relay.stop();
    },
  };
}
