import { EdgeError } from '../errors.js';
import type { ProtocolModule } from '../protocol/types.js';

/**
 * --part ID: the protocol as one of its family's further listeners sees its bytes (e.g. jt808's
 * `attachments`, the alarm attachment server: 7E frames and `30 31 63 64` file chunks), so a capture
 * taken on that port can be decoded and replayed offline. The part's framing and decoder replace the
 * main listener's; options, id and simulations stay the protocol's. Absent: the protocol itself.
 */
export function protocolPart(proto: ProtocolModule, partId: string | undefined): ProtocolModule {
  if (partId === undefined) return proto;
  const part = proto.parts?.find((p) => p.id === partId);
  if (!part) throw new EdgeError('EDGE_CLI_USAGE', `--part: protocol ${proto.id} has no part "${partId}" (it has: ${(proto.parts ?? []).map((p) => p.id).join(', ') || 'none'})`);
  const { rewriteIdent: _r, resealFrame: _s, resendRequest: _q, ...rest } = proto;
  return { ...rest, transports: part.transports, maxFrameBytes: part.maxFrameBytes, split: part.split, explainInvalid: part.explainInvalid, decode: part.decode, ...(part.resendRequest ? { resendRequest: part.resendRequest } : {}) };
}
