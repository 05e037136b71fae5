/** Test-only helpers (test-*.ts files are exempt from the protocols/ purity lint: they read fixture files). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../src/codec/hex.js';
import type { DecodeContext, SessionState, Transport } from '../../src/protocol/types.js';
import { projectRoot } from '../../src/util/paths.js';
import teltonika from './index.js';

/** Rows of a fixture TSV in this folder, by their first column (id / name). */
export function tsvRows(name: string): Map<string, Record<string, string>> {
  const [head, ...lines] = readFileSync(join(projectRoot(), 'protocols', 'teltonika', 'fixtures', name), 'utf8').trim().split('\n');
  const cols = head!.split('\t');
  return new Map(lines.map((l) => {
    const cells = l.split('\t');
    const row = Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
    return [cells[0]!, row];
  }));
}

export function hexOf(file: string, id: string): Uint8Array {
  const row = tsvRows(file).get(id);
  if (row === undefined) throw new Error(`${file}: no row ${id}`);
  return fromHex(row.hex!);
}

export function ctx(session: SessionState = {}, options: Record<string, unknown> = {}, transport: Transport = 'tcp'): DecodeContext {
  return { transport, session, receivedAtMs: 1788220800000, options: { ...teltonika.defaultOptions, ...options } };
}
