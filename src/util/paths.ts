import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root (the folder holding package.json). Sources run compiled from dist/, so data
 * files (fixtures, default config) are found from the root, never relative to the compiled file.
 */
let root: string | undefined;

export function projectRoot(): string {
  return (root ??= findRoot());
}

/** Walks up from this file (several existsSync calls): done once per thread, then cached. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'protocols'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('edge-channel: cannot find the project root (package.json + protocols/)');
    dir = up;
  }
}

/** Folder of compiled protocol modules: dist/protocols when running from dist. */
export function compiledProtocolsDir(): string {
  return join(projectRoot(), 'dist', 'protocols');
}
