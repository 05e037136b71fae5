import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

let version: string | undefined;

/** The package version from package.json (read once): `edge-channel --version` and the metrics. */
export function packageVersion(): string {
  return (version ??= (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version);
}
