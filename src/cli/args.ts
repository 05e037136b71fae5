import { parseArgs as parseNodeArgs } from 'node:util';
import { EdgeError } from '../errors.js';

/**
 * Flags via node:util parseArgs (strict: unknown flags are usage errors), in the small shape the
 * commands read: `--name value` / `--name=value`, `--flag`, and positionals (`-` is one: stdin).
 */
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: Record<string, 'value' | 'flag'>): ParsedArgs {
  const options = Object.fromEntries(Object.entries(spec).map(([k, kind]) => [k, { type: kind === 'value' ? ('string' as const) : ('boolean' as const) }]));
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    // node's messages are good ("Unknown option '--bogus'", "Option '--to <value>' argument missing"); keep their first sentence
    throw new EdgeError('EDGE_CLI_USAGE', `${(e as Error).message.split(/\.\s|\n/)[0]} (see --help)`);
  }
  const flags = new Map<string, string | true>();
  for (const [k, v] of Object.entries(parsed.values)) {
    if (typeof v === 'string') flags.set(k, v);
    else if (v === true) flags.set(k, true);
  }
  return { flags, positionals: parsed.positionals };
}

export function flagStr(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function flagInt(a: ParsedArgs, name: string, dflt: number, min = 0): number {
  const v = flagStr(a, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new EdgeError('EDGE_CLI_USAGE', `--${name} expects a number >= ${min}, got "${v}"`);
  return n;
}
