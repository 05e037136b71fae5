import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EdgeError } from '../errors.js';
import type { EdgeConfig } from './schema.js';
import { validateConfig } from './validate.js';

/** Reads a YAML or JSON file (JSON is valid YAML) and validates it; no file = the defaults. */
export function loadConfig(file?: string): EdgeConfig {
  if (!file) return validateConfig({});
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EdgeError('EDGE_CONFIG_FILE', `cannot read ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new EdgeError('EDGE_CONFIG_FILE', `${file} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateConfig(raw);
}
