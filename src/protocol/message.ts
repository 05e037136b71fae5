import type { MessageValue } from './types.js';

/**
 * Helpers protocols use to build flat messages. Kept tiny and allocation-light: they run for
 * every record in the worker.
 */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A 64-bit value as a number when exact, else a decimal string (JSON has no bigint). */
export function u64Value(v: bigint): MessageValue {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
}

/** Round to a fixed number of decimals, removing float noise from scaled integers (e.g. 13.27 not 13.270000000000001). */
export function scaled(raw: number, factor: number, decimals: number): number {
  const p = 10 ** decimals;
  return Math.round(raw * factor * p) / p;
}

/** Text as sent by a device, without trailing NULs/CR/LF and surrounding spaces. */
export function cleanText(s: string): string {
  return s.replace(/[\0\r\n]+$/g, '').trim();
}
