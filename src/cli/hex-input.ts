import { readFileSync } from 'node:fs';
import { fromHex } from '../codec/hex.js';

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

export function parseHexLines(text: string): HexLine[] {
  const out: HexLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
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
    out.push({ line: i + 1, bytes: fromHex(hex) });
  });
  return out;
}

export function readHexSource(file: string): HexLine[] {
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  return parseHexLines(text);
}
