import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EdgeError } from '../errors.js';
import { applyEnv, resolveSecretFiles } from './env.js';
import type { EdgeConfig } from './schema.js';
import { validateConfig } from './validate.js';

/**
 * Reads a YAML or JSON file (JSON is valid YAML; no file = the defaults), applies the EDGE_*
 * environment overrides and `*_file` secrets (env.ts), and validates the result.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new EdgeError('EDGE_CONFIG_FILE', `cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      throw new EdgeError('EDGE_CONFIG_FILE', `${file} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // a file that is not a map of settings: validation names the problem
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return validateConfig(raw);
  const obj = raw as Record<string, unknown>;
  const sources = applyEnv(obj, env);
  resolveSecretFiles(obj, sources);
  return validateConfig(obj, sources);
}
