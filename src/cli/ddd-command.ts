import { readFileSync } from 'node:fs';
import { EdgeError, toErrorInfo } from '../errors.js';
import { parseDdd, summaryText, TrustStore, type DddOptions } from '../tacho/ddd/index.js';
import { flagStr, parseArgs } from './args.js';

export const DDD_HELP = `edge-channel ddd FILE [options]

Parses a tachograph download file (.ddd/.esm/.tgd: driver card or vehicle unit, Gen1 or Gen2)
and prints the document as JSON (README "Tachograph files (DDD)" describes it). When stdout is
a terminal, a short human summary goes to stderr first.

Options:
  --summary        print only the human summary (to stdout)
  --roots F[,F]    European root keys to verify signatures with: Gen1 ERCA public key files
                   (144 bytes) and/or Gen2 ERCA root certificates; without them signatures
                   are parsed and reported as not verified
  --strict         reject what is otherwise accepted with a warning (unknown EFs, Gen2 record
                   types that are not Appendix 1 codes)
  --no-speed       leave out the VU detailed speed blocks
  --compact        JSON on one line (default: indented)
  --help           this text

Exit status: 0 parsed, 1 the file is not a valid download ({"error":"EDGE_DDD_...","offset":n,
"reason":"..."} on stdout), 2 usage errors (e.g. unreadable file).`;

interface Out {
  write(s: string): void;
  isTTY?: boolean;
}

export function dddCommand(argv: string[], out: Out = process.stdout, err: Out = process.stderr): number {
  const args = parseArgs(argv, { summary: 'flag', roots: 'value', strict: 'flag', 'no-speed': 'flag', compact: 'flag', help: 'flag' });
  if (args.flags.has('help')) {
    out.write(DDD_HELP + '\n');
    return 0;
  }
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw new EdgeError('EDGE_CLI_USAGE', 'ddd needs exactly one FILE (see --help)');
  const read = (f: string, what: string): Uint8Array => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new EdgeError('EDGE_CLI_USAGE', `cannot read ${what} ${f}: ${(e as Error).message}`);
    }
  };
  const options: DddOptions = { strict: args.flags.has('strict'), detailedSpeed: !args.flags.has('no-speed') };
  const roots = flagStr(args, 'roots');
  if (roots) {
    options.roots = roots.split(',').map((f) => read(f, 'root key'));
    try {
      new TrustStore(options.roots); // a bad key file is a usage error, not a property of the file being parsed
    } catch (e) {
      throw new EdgeError('EDGE_CLI_USAGE', `--roots: ${toErrorInfo(e).reason}`);
    }
  }
  const bytes = read(file, 'file');
  let doc;
  try {
    doc = parseDdd(bytes, options);
  } catch (e) {
    const info = toErrorInfo(e);
    out.write(JSON.stringify({ file, error: info.code, offset: info.offset, reason: info.reason }) + '\n');
    err.write(`edge-channel: ${file}: ${info.code}${info.offset === undefined ? '' : ` at byte ${info.offset}`}: ${info.reason}\n`);
    return 1;
  }
  if (args.flags.has('summary')) {
    out.write(summaryText(doc));
    return 0;
  }
  if (out.isTTY) err.write(summaryText(doc));
  out.write(JSON.stringify(doc, null, args.flags.has('compact') ? undefined : 2) + '\n');
  return 0;
}
