import { readFileSync } from 'node:fs';
import { fromHex } from '../codec/hex.js';
import { EdgeError } from '../errors.js';

/**
 * Reads frames given as hex: one hex string per line (a line may hold several concatenated
 * frames). Blank lines and lines starting with # are ignored. Lines with tabs (fixture TSV files)
 * contribute their first all-hex field, so `--file protocols/x/fixtures/y.tsv` works as is;
 * rows marked `server->device` are skipped.
 */
export interface HexLine {
  line: number;
  bytes: Uint8Array;
}

/** `source` names the input in errors (a file name, "the HEX argument", "standard input"). */
export function parseHexLines(text: string, source = 'the input'): HexLine[] {
  const out: HexLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let hex = line;
    if (line.includes('\t')) {
      // fixture rows of frames the server sends (vendor TSV "direction" column) are not device input
      if (line.split('\t').some((f) => f.startsWith('server->device'))) return;
      const field = line.split('\t').find((f) => /^[0-9a-fA-F]{8,}$/.test(f) && f.length % 2 === 0);
      if (!field) return; // header or a row without bytes
      hex = field;
    }
    let bytes: Uint8Array;
    try {
      bytes = fromHex(hex);
    } catch (e) {
      // bad input from the user is a usage error (one line, exit 2), not a crash
      throw new EdgeError('EDGE_CLI_USAGE', `${source}${lines.length > 1 ? ` line ${i + 1}` : ''}: ${(e as Error).message}`);
    }
    out.push({ line: i + 1, bytes });
  });
  return out;
}

export function readHexSource(file: string): HexLine[] {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new EdgeError('EDGE_CLI_USAGE', `cannot read ${file === '-' ? 'standard input' : file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseHexLines(text, file === '-' ? 'standard input' : file);
}
