import { pino, type Logger } from 'pino';

/**
 * The process logger (JSON lines on stdout). Channels and connections get child loggers;
 * nothing on the per-packet hot path logs above debug, and hex dumps are capped.
 */
export type { Logger };

/** `bindings` are on every line (which process of several wrote it: `{ process: 'p1', pid }`). */
export function createLogger(level: string, destination?: NodeJS.WritableStream, bindings: Record<string, unknown> = {}): Logger {
  const base = { app: 'edge-channel', ...bindings };
  return destination ? pino({ level, base }, destination) : pino({ level, base });
}

/** Hex of at most `max` bytes, with the total length when cut (for debug logs and error events). */
export function cappedHex(b: Uint8Array, max = 64): string {
  const n = Math.min(b.length, max);
  return Buffer.from(b.buffer, b.byteOffset, n).toString('hex') + (b.length > max ? `…(${b.length} bytes)` : '');
}
