/**
 * Golden vector files: `protocols/<id>/fixtures/golden-*.json`, each a JSON object
 * `{ "provenance": "...", "license": "...", "vectors": GoldenVector[] }`.
 * Expected outputs are written by hand from the protocol reference, never captured from the
 * decoder's own output; the conformance suite (test/support/conformance.ts) checks them exactly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.js';
import type { Message, SessionState, Transport, CommandRequest } from './types.js';
import type { ErrorCode } from '../errors.js';

/** The golden files of a protocol (`protocols/<id>/fixtures/golden-*.json`), sorted by name. */
export function loadGoldenFiles(protocolId: string): { name: string; file: GoldenFile }[] {
  const dir = join(projectRoot(), 'protocols', protocolId, 'fixtures');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^golden-.*\.json$/.test(n))
    .sort()
    .map((name) => ({ name, file: JSON.parse(readFileSync(join(dir, name), 'utf8')) as GoldenFile }));
}

/** Fixed receive time used for every golden vector (2025-01-01T00:00:00Z), so outputs are exact. */
export const GOLDEN_RECEIVED_AT_MS = 1735689600000;

export interface GoldenFrameVector {
  /** Unique within the protocol, e.g. "T#1" or "V#27". */
  id: string;
  /** Where the bytes come from (file + row, document + section) and what was checked. */
  source: string;
  /** Lower-case hex of exactly one frame as it travels on the wire. */
  hex: string;
  transport?: Transport;
  session?: SessionState;
  options?: Record<string, unknown>;
  /** Server receive time for this vector (default GOLDEN_RECEIVED_AT_MS), for captures dated after it. */
  receivedAtMs?: number;
  /**
   * Exactly one of `expect` / `error`. For `error`, `framing: true` means the splitter must refuse
   * the bytes as a frame (wrong length field) rather than the decoder.
   */
  expect?: {
    messages: Message[];
    replies: string[];
    session?: Partial<SessionState>;
    /** Codes of warnings the decode must report (in order); omitted = none. */
    warnings?: ErrorCode[];
    commandReplies?: { replyKey: string; executed: boolean; response: string | number | boolean | null }[];
  };
  error?: { code: ErrorCode; offset?: number; framing?: boolean };
}

export interface GoldenCommandVector {
  id: string;
  source: string;
  command: CommandRequest;
  /** Session the encoder sees (protocols whose server frames carry the device id, e.g. jt808); default {}. */
  session?: SessionState;
  /** Exact server frame bytes. */
  hex: string;
  replyKey: string | null;
}

export interface GoldenFile {
  provenance: string;
  license: string;
  vectors?: GoldenFrameVector[];
  commands?: GoldenCommandVector[];
}
