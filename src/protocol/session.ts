import type { SessionState } from './types.js';

/**
 * Applies a decoder's session patch. Protocols that carry the ident in every frame (Ruptela) send
 * the same patch each time: then the current object is kept instead of copying it per frame.
 */
export function mergeSession(session: SessionState, patch: Partial<SessionState>): SessionState {
  for (const k in patch) if (session[k] !== patch[k]) return { ...session, ...patch };
  return session;
}
