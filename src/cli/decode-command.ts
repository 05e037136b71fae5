import { toHex } from '../codec/hex.js';
import { EdgeError, toErrorInfo, type ErrorInfo } from '../errors.js';
import { getProtocol } from '../protocol/registry.js';
import { mergeSession } from '../protocol/session.js';
import type { ProtocolModule, SessionState } from '../protocol/types.js';
import { cutFrames } from '../net/cut-frames.js';
import { flagStr, parseArgs } from './args.js';
import { protocolOptions } from './protocol-options.js';
import { protocolPart } from './protocol-part.js';
import { parseHexLines, readHexSource, type HexLine } from './hex-input.js';

export const DECODE_HELP = `edge-channel decode --protocol ID [HEX | --file FILE | -] [options]

Decodes frames offline, exactly as a channel would, and prints JSON lines:
  one object per decoded message, then {"frame":n,"reply":"<hex>"} for each reply the server
  would send, and {"frame":n,"error":"EDGE_...","offset":n,"reason":"..."} for a bad frame.

Input (one of):
  HEX              one or more concatenated frames as a hex string
  --file FILE      a file of hex lines (each line may hold several frames; # comments and
                   blank lines are ignored; TSV files use their "hex" column, skip server->device
                   rows, and a traffic capture's rows are joined per connection)
  -                the same, from standard input

Options:
  --protocol ID    protocol module id (e.g. ruptela); required
  --transport T    tcp (default: split each line into frames) or udp (each line is one datagram)
  --received-at S  server receive time as Unix seconds (default: now) — makes output reproducible
  --options JSON   the channel's protocol options (default: the protocol's defaults)
  --part ID        decode as one of the protocol family's further listeners sees its bytes
                   (jt808: attachments — a capture from the alarm attachment port)
  --help           this text

Exit status: 0 when every frame decoded, 1 when any frame was invalid, 2 on usage errors.`;

interface Out {
  write(s: string): void;
}

export async function decodeCommand(argv: string[], out: Out = process.stdout): Promise<number> {
  const args = parseArgs(argv, { protocol: 'value', file: 'value', transport: 'value', 'received-at': 'value', options: 'value', part: 'value', help: 'flag' });
  if (args.flags.has('help')) {
    out.write(DECODE_HELP + '\n');
    return 0;
  }
  const protocolId = flagStr(args, 'protocol');
  if (!protocolId) throw new EdgeError('EDGE_CLI_USAGE', 'decode needs --protocol ID (see --help)');
  const proto = protocolPart(await getProtocol(protocolId), flagStr(args, 'part'));
  const transport = flagStr(args, 'transport') ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'udp') throw new EdgeError('EDGE_CLI_USAGE', '--transport is tcp or udp');
  const at = flagStr(args, 'received-at');
  const receivedAtMs = at === undefined ? Date.now() : Number(at) * 1000;
  if (!Number.isFinite(receivedAtMs)) throw new EdgeError('EDGE_CLI_USAGE', '--received-at expects Unix seconds');

  let lines: HexLine[];
  const file = flagStr(args, 'file');
  if (file) lines = readHexSource(file);
  else if (args.positionals[0] === '-') lines = readHexSource('-');
  else if (args.positionals.length > 0) lines = parseHexLines(args.positionals.join(''), 'the HEX argument');
  else throw new EdgeError('EDGE_CLI_USAGE', 'give a HEX string, --file FILE or - (see --help)');

  const r = decodeLines(proto, lines, transport, receivedAtMs, protocolOptions(proto, flagStr(args, 'options')));
  for (const l of r.output) out.write(JSON.stringify(l) + '\n');
  return r.invalid > 0 ? 1 : 0;
}

export interface DecodeLinesResult {
  output: Record<string, unknown>[];
  frames: number;
  invalid: number;
  messages: number;
}

/** The decode loop, separate from I/O so tests can check it directly. */
export function decodeLines(proto: ProtocolModule, lines: HexLine[], transport: 'tcp' | 'udp', receivedAtMs: number, options: Readonly<Record<string, unknown>> = proto.defaultOptions): DecodeLinesResult {
  const output: Record<string, unknown>[] = [];
  let frames = 0;
  let invalid = 0;
  let messages = 0;
  // one device session per capture stream (a capture interleaves connections); one for plain input
  const sessions = new Map<string, SessionState>();
  const bad = (frame: number, line: number, info: ErrorInfo) => {
    invalid++;
    const o: Record<string, unknown> = { frame, line, error: info.code, reason: info.reason };
    if (info.offset !== undefined) o.offset = info.offset;
    output.push(o);
  };
  for (const { line, bytes: frame, invalid: framing, stream = '', server } of cutFrames(proto, lines, transport, (line, n) => output.push({ line, skipped: n }))) {
    if (server) continue; // bytes the server sent (a session file's `<` line) are not device input
    const n = ++frames;
    if (framing) {
      bad(n, line, framing);
      continue;
    }
    try {
      const session = sessions.get(stream) ?? {};
      const r = proto.decode(frame, { transport, session, receivedAtMs, options });
      if (r.session) sessions.set(stream, mergeSession(session, r.session));
      for (const m of r.messages) {
        output.push({ ...m, 'server.timestamp': receivedAtMs / 1000, 'protocol.id': proto.id });
        messages++;
      }
      for (const w of r.warnings) output.push({ frame: n, line, warning: w.code, reason: w.reason });
      for (const c of r.commandReplies ?? []) output.push({ frame: n, line, command_reply: c });
      for (const rep of r.replies) output.push({ frame: n, line, reply: toHex(rep) });
    } catch (e) {
      bad(n, line, toErrorInfo(e));
    }
  }
  return { output, frames, invalid, messages };
}
