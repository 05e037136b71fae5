import { createHash, timingSafeEqual } from 'node:crypto';
import { EdgeError } from '../errors.js';

export type Scope = 'read' | 'full';

export interface TokenSet {
  /** The scope of a presented bearer token, or null when it is not one of ours. */
  scopeOf(token: string): Scope | null;
  readonly size: number;
}

const ENTRY = /^(read|full):([A-Za-z0-9._~+/=-]{16,512})$/;

/**
 * The API's bearer tokens from config `http.tokens` (or `http.tokens_file`): whitespace-separated
 * `read:<token>` / `full:<token>` entries; a token is 16 to 512 URL-safe characters. Errors name the
 * entry by position, never by value (the value is a secret). Tokens are compared as SHA-256 digests
 * in constant time, so neither their content nor their length leaks through timing.
 */
export function parseTokens(text: string): TokenSet {
  const entries = text.split(/\s+/).filter((t) => t !== '');
  const digests: { digest: Buffer; scope: Scope }[] = [];
  entries.forEach((e, i) => {
    const m = ENTRY.exec(e);
    if (!m) throw new EdgeError('EDGE_CONFIG_INVALID', `http.tokens: entry ${i + 1} of ${entries.length}: expected "read:<token>" or "full:<token>" with a token of 16 to 512 characters (letters, digits, . _ ~ + / = -)`);
    digests.push({ scope: m[1] as Scope, digest: sha(m[2]!) });
  });
  return {
    size: digests.length,
    scopeOf(token) {
      const d = sha(token);
      let scope: Scope | null = null;
      for (const t of digests) if (timingSafeEqual(t.digest, d) && scope !== 'full') scope = t.scope;
      return scope;
    },
  };
}

function sha(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
