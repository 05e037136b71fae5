import { CLOSE_CODES } from '../../net/close-codes.js';
import type { RelayEffect } from '../../protocol/types.js';
import type { EffectHandler, PipelineDeps, PipelineHost, PipelineOps } from '../pipeline-types.js';

/**
 * A device's question for an outside service (tacho company-card APDUs to the card bridge): durable
 * like a message, so the frame's ACK (if it has one) waits until the request is published.
 */
export function relayEffect(host: PipelineHost, deps: PipelineDeps, ops: PipelineOps): EffectHandler<RelayEffect> {
  return {
    kind: 'relay',
    durable: true,
    apply(link, slot, e) {
      const relay = deps.hooks.relay;
      if (!relay || !link.ident) {
        ops.fail(link, slot, { code: 'EDGE_RELAY_FAILED', reason: `the frame asks the ${e.service} service, but ${relay ? 'the device has no ident yet' : 'no relay is configured'}` }, CLOSE_CODES.INTERNAL_ERROR);
        return false;
      }
      slot.remaining++;
      host.stats.counters.relayed++;
      relay(host.id, link.ident, e, slot.confirm);
      return null;
    },
  };
}
