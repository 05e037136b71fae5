import { EdgeError } from '../errors.js';

/** Minimal flag parser: `--name value`, `--flag`, and positionals. Unknown flags are errors. */
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: Record<string, 'value' | 'flag'>): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    const [rawName, inline] = a.startsWith('--') ? a.slice(2).split(/=(.*)/s, 2) : [a.slice(1), undefined];
    const name = rawName!;
    const kind = spec[name];
    if (!kind) throw new EdgeError('EDGE_CLI_USAGE', `unknown option ${a} (see --help)`);
    if (kind === 'flag') flags.set(name, true);
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new EdgeError('EDGE_CLI_USAGE', `option --${name} needs a value`);
      flags.set(name, v);
    }
  }
  return { flags, positionals };
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
