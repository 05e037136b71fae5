import { readFileSync } from 'node:fs';
import type { TSchema } from '@sinclair/typebox';
import { EdgeError } from '../errors.js';
import { ConfigSchema } from './schema.js';

/**
 * Per-deployment settings from the environment, and secrets from files. Keys marked `'x-env'` in
 * the schema are read from EDGE_<PATH> (mqtt.url → EDGE_MQTT_URL) and override the file; keys
 * marked `'x-secret'` also take a `<key>_file` form (env EDGE_<PATH>_FILE): a path to a file
 * holding the value, so passwords need not sit in the config file (Docker and Kubernetes secrets
 * are files). An empty variable counts as unset (compose files often pass `VAR=`).
 */
type Obj = Record<string, unknown>;
type SchemaNode = TSchema & Obj;

export interface EnvBinding {
  /** Dotted key path, e.g. `mqtt.url`. */
  key: string;
  /** EDGE_MQTT_URL */
  name: string;
  /** The `_FILE` variable of a secret key, else null. */
  fileName: string | null;
  schema: SchemaNode;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function props(s: SchemaNode): Record<string, SchemaNode> {
  return (s.type === 'object' ? (s.properties ?? {}) : {}) as Record<string, SchemaNode>;
}

/** Every environment variable the schema binds, in schema order (README and tests list them). */
export function envBindings(schema: SchemaNode = ConfigSchema, prefix: string[] = []): EnvBinding[] {
  const out: EnvBinding[] = [];
  for (const [k, s] of Object.entries(props(schema))) {
    const path = [...prefix, k];
    if (s['x-env'] === true) {
      const name = `EDGE_${path.join('_').toUpperCase()}`;
      out.push({ key: path.join('.'), name, fileName: s['x-secret'] === true ? `${name}_FILE` : null, schema: s });
    }
    out.push(...envBindings(s, path));
  }
  return out;
}

/** A variable's text as the key's type: numbers and booleans are parsed, anything else stays text (and fails validation naming the variable). */
function coerce(s: SchemaNode, text: string): unknown {
  // a union such as `processes` (an integer or "auto"): a number when one of its forms is numeric
  const numeric = s.type === 'integer' || s.type === 'number' || ((s.anyOf as SchemaNode[] | undefined) ?? []).some((a) => a.type === 'integer' || a.type === 'number');
  if (numeric) return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  if (s.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

function parentOf(raw: Obj, key: string, create: boolean): { obj: Obj; leaf: string } | null {
  const parts = key.split('.');
  let o: Obj = raw;
  for (const p of parts.slice(0, -1)) {
    if (o[p] === undefined && create) o[p] = {};
    const next = o[p];
    if (!isObj(next)) return null; // a non-object in the file: validation reports it
    o = next;
  }
  return { obj: o, leaf: parts[parts.length - 1]! };
}

/**
 * Applies EDGE_* variables to a parsed config (in place). Returns key path → variable name for
 * the keys set, so validation errors can say where a value came from.
 */
export function applyEnv(raw: Obj, env: NodeJS.ProcessEnv): Map<string, string> {
  const sources = new Map<string, string>();
  for (const b of envBindings()) {
    const value = env[b.name] || undefined;
    const file = (b.fileName && env[b.fileName]) || undefined;
    if (value === undefined && file === undefined) continue;
    if (value !== undefined && file !== undefined) throw new EdgeError('EDGE_CONFIG_INVALID', `${b.name} and ${b.fileName}: expected one of them, got both`);
    const at = parentOf(raw, b.key, true);
    if (!at) continue;
    // the environment wins over both forms in the file
    delete at.obj[at.leaf];
    delete at.obj[`${at.leaf}_file`];
    if (value !== undefined) {
      at.obj[at.leaf] = coerce(b.schema, value);
      sources.set(b.key, b.name);
    } else {
      at.obj[`${at.leaf}_file`] = file;
      sources.set(`${b.key}_file`, b.fileName!);
    }
  }
  return sources;
}

/**
 * Replaces every `<key>_file` of a secret key by the file's content (one trailing newline
 * dropped, as `echo secret > file` writes one). Relative paths are resolved against the working
 * directory, like spool.dir. Both forms given is an error: which one wins would be a guess.
 */
export function resolveSecretFiles(raw: Obj, sources: ReadonlyMap<string, string> = new Map(), schema: SchemaNode = ConfigSchema, prefix = ''): void {
  for (const [k, s] of Object.entries(props(schema))) {
    const key = prefix ? `${prefix}.${k}` : k;
    const v = raw[k];
    if (isObj(v)) resolveSecretFiles(v, sources, s, key);
    if (s['x-secret'] !== true) continue;
    const fk = `${k}_file`;
    const path = raw[fk];
    if (path === undefined || path === '') {
      delete raw[fk];
      continue;
    }
    const shown = sources.has(`${key}_file`) ? `${key}_file (from ${sources.get(`${key}_file`)})` : `${key}_file`;
    if (typeof path !== 'string') throw new EdgeError('EDGE_CONFIG_INVALID', `${shown}: expected a file path, got ${JSON.stringify(path)}`);
    if (v !== undefined && v !== '') throw new EdgeError('EDGE_CONFIG_INVALID', `${shown}: expected either ${key} or ${key}_file, got both`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new EdgeError('EDGE_CONFIG_INVALID', `${shown}: expected a readable file, got ${JSON.stringify(path)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    raw[k] = text.replace(/\r?\n$/, '');
    delete raw[fk];
  }
}
