/** Test helpers: the tacho sample files and their expected values (fixtures/tacho/). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { projectRoot } from '../../../src/util/paths.js';

export const TACHO_DIR = join(projectRoot(), 'fixtures', 'tacho');

export function sampleNames(): string[] {
  return readdirSync(TACHO_DIR)
    .filter((f) => f.endsWith('.ddd'))
    .sort();
}

export function sample(name: string): Uint8Array {
  return readFileSync(join(TACHO_DIR, name));
}

/** Parsed JSON of the expected/golden files: shapes written by other tools, read field by field in the tests. */
export type Json = ReturnType<typeof JSON.parse>;

export function expected(name: string): Json {
  return JSON.parse(readFileSync(join(TACHO_DIR, 'expected', name.replace(/\.ddd$/, '.summary.json')), 'utf8'));
}

export function golden(name: string): Json {
  return JSON.parse(gunzipSync(readFileSync(join(TACHO_DIR, 'golden', name.replace(/\.ddd$/, '.golden.json.gz')))).toString('utf8'));
}
