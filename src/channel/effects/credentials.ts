import { CLOSE_CODES } from '../../net/close-codes.js';
import { mergeSession } from '../../protocol/session.js';
import type { CredentialCheckEffect, CredentialIssueEffect } from '../../protocol/types.js';
import type { EffectHandler, PipelineDeps, PipelineHost, PipelineOps } from '../pipeline-types.js';

/** A credential the server issues (JT/T 808 auth code): durable before the reply that carries it, so a device never holds a code we forgot. */
export function credentialIssueEffect(host: PipelineHost, deps: PipelineDeps, ops: PipelineOps): EffectHandler<CredentialIssueEffect> {
  return {
    kind: 'credential-issue',
    durable: true,
    apply(link, slot, e) {
      const store = deps.credentials;
      const ident = link.ident;
      if (!store || !ident) {
        ops.fail(link, slot, { code: 'EDGE_CREDENTIAL_STORE_FAILED', reason: !store ? 'the frame issues a device credential but no credential store is configured' : 'the frame issues a credential before its device is identified' }, CLOSE_CODES.INTERNAL_ERROR);
        return false;
      }
      slot.remaining++;
      store.set(host.id, ident, e.code, slot.confirm);
      return null;
    },
  };
}

/**
 * A credential the device presents: compared with the stored one, and the frame's replies picked
 * accordingly. In migration mode (`acceptAny`) an unknown code is accepted and becomes the one on
 * record, synced before the reply (then it is durable work of the frame).
 */
export function credentialCheckEffect(host: PipelineHost, deps: PipelineDeps, ops: PipelineOps): EffectHandler<CredentialCheckEffect> {
  return {
    kind: 'credential-check',
    durable: true,
    apply(link, slot, e) {
      const store = deps.credentials;
      if (!store) {
        ops.fail(link, slot, { code: 'EDGE_CREDENTIAL_STORE_FAILED', reason: 'the frame presents a device credential but no credential store is configured' }, CLOSE_CODES.INTERNAL_ERROR);
        return false;
      }
      const stored = link.ident ? store.get(host.id, link.ident) : undefined;
      const ok = stored !== undefined && stored === e.code;
      const accept = ok || (e.acceptAny === true && link.ident !== undefined);
      slot.replies = accept ? e.accepted : e.rejected;
      if (accept && !ok) {
        slot.remaining++;
        store.set(host.id, link.ident!, e.code, slot.confirm);
      }
      if (accept && e.acceptedSession) {
        // the one session change made on the main thread rather than by the decoder: the worker
        // cannot know the stored code, so it sends the accepted session along with the check
        link.setSession(mergeSession(link.session, e.acceptedSession));
        // commands queued for the device follow the accepting reply (DeviceLink.send waits for this frame's replies)
        host.sessionChanged(link);
      }
      if (!e.field) return null;
      return accept && !ok ? { [e.field]: ok, 'auth.code.recorded': true } : { [e.field]: ok };
    },
  };
}
