import type { SessionState, Transport } from '../../src/protocol/types.js';
import { META_FIELDS, type ConnContext, type DecodeTask } from '../../src/pool/task-types.js';

/** A frame as the benches describe it; `buildDecodeTask` packs a list into the pool's task layout. */
export interface BenchFrame {
  offset: number;
  length: number;
  conn: number;
  peer: string;
  transport: Transport;
  receivedAtMs: number;
  session: SessionState;
}

/** A decode task whose contexts travel with it (version 1 per connection), as on a worker's first sight. */
export function buildDecodeTask(protocolId: string, channelId: string, options: Record<string, unknown>, buffer: ArrayBuffer, frames: readonly BenchFrame[]): DecodeTask {
  const meta = new Float64Array(frames.length * META_FIELDS);
  const contexts = new Map<number, ConnContext>();
  frames.forEach((f, i) => {
    meta.set([f.offset, f.length, f.conn, f.receivedAtMs, 1, 0], i * META_FIELDS);
    if (!contexts.has(f.conn)) contexts.set(f.conn, { conn: f.conn, version: 1, peer: f.peer, transport: f.transport, session: f.session });
  });
  return { protocolId, part: '', channelId, options, buffer, meta, contexts: [...contexts.values()] };
}
