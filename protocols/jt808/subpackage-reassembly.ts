/**
 * Sub-package reassembly (JT/T 808 attr bit 13: total u16 + index u16 after the serial) as a pure,
 * bounded state machine. The caller owns the state (per connection, on the main thread, once the
 * runtime's state seam exists) and passes the clock in; nothing here keeps globals or timers.
 *
 * - A message is keyed by its id and its first serial (`serial - (index - 1)`): a terminal numbers
 *   the sub-packages of one message with consecutive serials.
 * - Bounded in size (`maxBytes` per message, `maxPending` messages; the oldest is dropped when a new
 *   one would exceed it) and in time (`timeoutMs` since the last part; `expire` returns what ran out,
 *   with its missing indices so the caller can ask for them again with 0x8800 / 0x8003).
 * - A repeated index replaces the earlier copy (terminals resend on request).
 *
 * Not wired into the decoder yet: until the seam exists a sub-package is reported as
 * EDGE_DECODE_UNSUPPORTED (decoder.ts).
 */
import type { ErrorCode } from '../../src/errors.js';

export interface ReassemblyLimits {
  maxBytes: number;
  maxPending: number;
  timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: Readonly<ReassemblyLimits> = Object.freeze({ maxBytes: 4 * 1024 * 1024, maxPending: 4, timeoutMs: 120_000 });

export interface PendingMessage {
  msgId: number;
  firstSerial: number;
  total: number;
  bytes: number;
  lastPartAtMs: number;
  /** index (1-based) → body bytes of that sub-package */
  parts: Readonly<Record<number, Uint8Array>>;
}

export interface ReassemblyState {
  pending: Readonly<Record<string, PendingMessage>>;
}

export const EMPTY_REASSEMBLY: ReassemblyState = Object.freeze({ pending: Object.freeze({}) });

export interface SubPackage {
  msgId: number;
  serial: number;
  total: number;
  index: number;
  body: Uint8Array;
}

export type ReassemblyOutcome =
  | { kind: 'partial'; key: string; received: number; total: number }
  | { kind: 'complete'; msgId: number; firstSerial: number; body: Uint8Array }
  | { kind: 'rejected'; code: ErrorCode; reason: string };

export function keyOf(msgId: number, firstSerial: number): string {
  return `${msgId.toString(16).padStart(4, '0')}:${firstSerial}`;
}

/** Indices (1-based, ascending) not received yet. */
export function missingParts(p: PendingMessage): number[] {
  const out: number[] = [];
  for (let i = 1; i <= p.total; i++) if (p.parts[i] === undefined) out.push(i);
  return out;
}

function without(pending: Readonly<Record<string, PendingMessage>>, key: string): Record<string, PendingMessage> {
  const next = { ...pending };
  delete next[key];
  return next;
}

export function addPart(state: ReassemblyState, part: SubPackage, nowMs: number, limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS): { state: ReassemblyState; outcome: ReassemblyOutcome } {
  const { msgId, serial, total, index, body } = part;
  if (total < 1 || index < 1 || index > total) {
    return { state, outcome: { kind: 'rejected', code: 'EDGE_DECODE_INVALID', reason: `sub-package ${index} of ${total} is impossible` } };
  }
  const firstSerial = (serial - (index - 1) + 0x10000) & 0xffff;
  const key = keyOf(msgId, firstSerial);
  const old = state.pending[key];
  if (old && old.total !== total) {
    return { state: { pending: without(state.pending, key) }, outcome: { kind: 'rejected', code: 'EDGE_DECODE_INVALID', reason: `sub-package total changed from ${old.total} to ${total}; the partial message is dropped` } };
  }
  const replaced = old?.parts[index];
  const bytes = (old?.bytes ?? 0) - (replaced?.length ?? 0) + body.length;
  if (bytes > limits.maxBytes) {
    return { state: { pending: without(state.pending, key) }, outcome: { kind: 'rejected', code: 'EDGE_FRAME_TOO_LARGE', reason: `message 0x${msgId.toString(16)} exceeds ${limits.maxBytes} bytes after ${bytes} bytes; dropped` } };
  }
  const entry: PendingMessage = { msgId, firstSerial, total, bytes, lastPartAtMs: nowMs, parts: { ...(old?.parts ?? {}), [index]: body.slice() } };
  let pending: Record<string, PendingMessage> = { ...state.pending, [key]: entry };
  const received = Object.keys(entry.parts).length;
  if (received === total) {
    const out = new Uint8Array(bytes);
    let o = 0;
    for (let i = 1; i <= total; i++) {
      out.set(entry.parts[i]!, o);
      o += entry.parts[i]!.length;
    }
    return { state: { pending: without(pending, key) }, outcome: { kind: 'complete', msgId, firstSerial, body: out } };
  }
  const keys = Object.keys(pending);
  if (keys.length > limits.maxPending) {
    // drop the message that has waited longest since its last part (never the one just added)
    let oldest = '';
    for (const k of keys) if (k !== key && (oldest === '' || pending[k]!.lastPartAtMs < pending[oldest]!.lastPartAtMs)) oldest = k;
    pending = without(pending, oldest);
  }
  return { state: { pending }, outcome: { kind: 'partial', key, received, total } };
}

/** Removes messages whose last part is older than timeoutMs; returns them with their missing indices. */
export function expire(state: ReassemblyState, nowMs: number, limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS): { state: ReassemblyState; expired: { message: PendingMessage; missing: number[] }[] } {
  const expired: { message: PendingMessage; missing: number[] }[] = [];
  let pending: Record<string, PendingMessage> | null = null;
  for (const [k, p] of Object.entries(state.pending)) {
    if (nowMs - p.lastPartAtMs < limits.timeoutMs) continue;
    expired.push({ message: p, missing: missingParts(p) });
    pending = without(pending ?? state.pending, k);
  }
  return { state: pending ? { pending } : state, expired };
}
