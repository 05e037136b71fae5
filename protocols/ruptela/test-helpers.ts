/** Test-only helpers (test-*.ts files are exempt from the protocols/ purity lint: they read fixture files). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { GOLDEN_RECEIVED_AT_MS, type GoldenFile } from '../../src/protocol/golden.js';
import type { DecodeContext, SessionState } from '../../src/protocol/types.js';
import { projectRoot } from '../../src/util/paths.js';
import { wrapFrame } from './frame.js';

export function loadGolden(name: string): GoldenFile {
  return JSON.parse(readFileSync(join(projectRoot(), 'protocols', 'ruptela', 'fixtures', name), 'utf8')) as GoldenFile;
}

export function ctx(session: SessionState = {}): DecodeContext {
  return { transport: 'tcp', session, receivedAtMs: GOLDEN_RECEIVED_AT_MS, options: {} };
}

/** `len | IMEI | cmd | payload | CRC` with a correct length and CRC. */
export function deviceFrame(imei: bigint, cmd: number, payloadHex: string): Uint8Array {
  const body = fromHex(imei.toString(16).padStart(16, '0') + cmd.toString(16).padStart(2, '0') + payloadHex);
  return wrapFrame(body);
}

/** Payload (after the cmd byte, before the CRC) of a frame given as hex. */
export function payloadOf(hex: string): string {
  const b = fromHex(hex);
  return toHex(b, 11, b.length - 2);
}
