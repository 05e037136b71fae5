import { readFileSync } from 'node:fs';
import { fromHex } from '../codec/hex.js';
import { EdgeError } from '../errors.js';

/**
 * Reads frames given as hex: one hex string per line (a line may hold several concatenated
 * frames). Blank lines and lines starting with # are ignored. Lines with tabs are TSV rows:
 *   - a header row naming a `hex` column (fixture files, traffic captures) makes the rows below it
 *     take that column; without one, a row contributes its first all-hex field, so
 *     `--file protocols/x/fixtures/y.tsv` works as is;
 *   - rows marked `server->device` are skipped (frames the server sent are not device input);
 *   - with a `conn` column (traffic captures, src/channel/traffic-capture.ts) the rows of one
 *     connection form one stream (`stream`): a frame cut across two socket reads is joined again.
 *     Each header row starts new streams (connection ids restart with the server).
 * A line starting with `<` (session files, fixtures/sessions/) holds bytes the SERVER sends on its own
 * (a command, a relayed answer): `replay` waits for them before it sends the next frame; `decode`
 * skips them, as it skips server->device fixture rows.
 */
export interface HexLine {
  line: number;
  bytes: Uint8Array;
  /** Rows with the same stream are one TCP byte stream (a capture's connection); absent: the line stands alone. */
  stream?: string;
  /** A `<` line: bytes the server sends unasked, for replay to wait for (not a device frame). */
  server?: boolean;
}

const HEX_FIELD = /^[0-9a-fA-F]{8,}$/;

/** `source` names the input in errors (a file name, "the HEX argument", "standard input"). */
export function parseHexLines(text: string, source = 'the input'): HexLine[] {
  const out: HexLine[] = [];
  const lines = text.split(/\r?\n/);
  let hexCol = -1;
  let connCol = -1;
  let headers = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let hex = line;
    let stream: string | undefined;
    const server = line.startsWith('<');
    if (server) hex = line.slice(1);
    if (!server && line.includes('\t')) {
      const fields = line.split('\t');
      if (fields.includes('hex') && !fields.some((f) => HEX_FIELD.test(f))) {
        hexCol = fields.indexOf('hex');
        connCol = fields.indexOf('conn');
        headers++;
        return;
      }
      // fixture rows of frames the server sends (vendor TSV "direction" column) are not device input
      if (fields.some((f) => f.startsWith('server->device'))) return;
      const field = hexCol >= 0 ? fields[hexCol] : fields.find((f) => HEX_FIELD.test(f) && f.length % 2 === 0);
      if (!field) return; // a row without bytes
      hex = field;
      const conn = connCol >= 0 ? fields[connCol] : undefined;
      if (conn) stream = `${headers}/${conn}`;
    }
    let bytes: Uint8Array;
    try {
      bytes = fromHex(hex);
    } catch (e) {
      // bad input from the user is a usage error (one line, exit 2), not a crash
      throw new EdgeError('EDGE_CLI_USAGE', `${source}${lines.length > 1 ? ` line ${i + 1}` : ''}: ${(e as Error).message}`);
    }
    if (server) out.push({ line: i + 1, bytes, server });
    else out.push(stream === undefined ? { line: i + 1, bytes } : { line: i + 1, bytes, stream });
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
