import { EdgeError } from '../errors.js';

/**
 * Declared protocol options (`channels[i].options`). A protocol lists every option it reads with
 * its type, default and bounds, so a channel's options are checked before anything starts: an
 * unknown key or a wrong type is a config error naming the key, never a silently ignored setting.
 */
export interface OptionSpec {
  type: 'string' | 'integer' | 'number' | 'boolean';
  description: string;
  default: string | number | boolean;
  /** Inclusive bounds for integer and number options. */
  min?: number;
  max?: number;
  /** Allowed values for string options. */
  enum?: readonly string[];
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The defaults object a protocol module exposes as `defaultOptions`, derived from its specs. */
export function optionDefaults(specs: OptionSpecs): Readonly<Record<string, unknown>> {
  return Object.freeze(Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.default])));
}

/** The expected form of one option, in the words config errors use. */
export function describeOption(s: OptionSpec): string {
  if (s.type === 'boolean') return 'true or false';
  if (s.type === 'string') return s.enum ? `one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` : 'a string';
  const kind = s.type === 'integer' ? 'an integer' : 'a number';
  if (s.min !== undefined && s.max !== undefined) return `${kind} ${s.min}..${s.max}`;
  if (s.min !== undefined) return `${kind} >= ${s.min}`;
  if (s.max !== undefined) return `${kind} <= ${s.max}`;
  return kind;
}

function fits(s: OptionSpec, v: unknown): boolean {
  switch (s.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string' && (!s.enum || s.enum.includes(v));
    case 'integer':
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && (s.type === 'number' || Number.isInteger(v)) && (s.min === undefined || v >= s.min) && (s.max === undefined || v <= s.max);
  }
}

/**
 * Checks `given` against a protocol's declared options; `path` is the key path of the options
 * object (e.g. `channels[0].options`). Throws EDGE_CONFIG_INVALID naming the first bad key.
 */
export function checkOptions(specs: OptionSpecs, given: Readonly<Record<string, unknown>>, path: string, protocolId: string): void {
  const declared = Object.keys(specs);
  for (const [k, v] of Object.entries(given)) {
    const s = specs[k];
    if (!s || !Object.hasOwn(specs, k)) {
      const allowed = declared.length ? `options of ${protocolId}: ${declared.join(', ')}` : `${protocolId} declares no options`;
      throw new EdgeError('EDGE_CONFIG_INVALID', `${path}.${k}: unknown option (${allowed})`);
    }
    if (!fits(s, v)) throw new EdgeError('EDGE_CONFIG_INVALID', `${path}.${k}: expected ${describeOption(s)}, got ${JSON.stringify(v) ?? 'nothing'}`);
  }
}
