/**
 * Piscina worker for the pool bench's design alternatives (the runtime's own worker is
 * src/pool/worker.ts): how frames arrive (one transferred ArrayBuffer vs per-frame cloned
 * Uint8Arrays) and what comes back (JSON strings, as the runtime does, vs message objects that
 * the main thread must then serialise itself).
 */
import { decodeFrames } from '../../src/pool/decode-frames.js';
import type { FrameOutcome } from '../../src/pool/task-types.js';
import { ContextCache } from '../../src/pool/context-cache.js';
import { buildDecodeTask, type BenchFrame } from './decode-task.js';
import { getProtocol } from '../../src/protocol/registry.js';
import type { Message } from '../../src/protocol/types.js';

export interface VariantTask {
  input: 'transfer' | 'clone';
  output: 'strings' | 'objects';
  protocolId: string;
  channelId: string;
  options: Record<string, unknown>;
  /** input = transfer: all frames in one buffer (offsets in frames). */
  buffer: ArrayBuffer | null;
  /** input = clone: one Uint8Array per frame (structured-cloned, offsets unused). */
  bytes: Uint8Array[] | null;
  frames: BenchFrame[];
}

const cache = new ContextCache();

export interface ObjectOutcome {
  idents: string[];
  messages: Message[];
  replies: Uint8Array[];
}

export default async function variantTask(t: VariantTask): Promise<FrameOutcome[] | ObjectOutcome[]> {
  const proto = await getProtocol(t.protocolId);
  if (t.output === 'strings') {
    if (t.input === 'transfer') return decodeFrames(proto, buildDecodeTask(t.protocolId, t.channelId, t.options, t.buffer!, t.frames), cache);
    // Same serialisation code, one single-frame task per cloned frame.
    return t.frames.map((f, i) => {
      const b = t.bytes![i]!;
      const task = buildDecodeTask(t.protocolId, t.channelId, t.options, b.buffer as ArrayBuffer, [{ ...f, offset: b.byteOffset, length: b.length }]);
      return decodeFrames(proto, task, cache)[0]!;
    });
  }
  const all = t.input === 'transfer' ? new Uint8Array(t.buffer!) : null;
  return t.frames.map((f, i) => {
    const frame = all ? all.subarray(f.offset, f.offset + f.length) : t.bytes![i]!;
    const r = proto.decode(frame, { transport: f.transport, session: f.session, receivedAtMs: f.receivedAtMs, options: t.options });
    const idents: string[] = [];
    for (const m of r.messages) {
      // The envelope as object fields: the main thread's JSON.stringify then yields the same payload.
      m['server.timestamp'] = f.receivedAtMs / 1000;
      m['channel.id'] = Number(t.channelId);
      m['protocol.id'] = proto.id;
      m.peer = f.peer;
      idents.push(String(m.ident));
    }
    return { idents, messages: r.messages, replies: r.replies };
  });
}
