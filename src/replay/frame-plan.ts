import { toErrorInfo, type ErrorInfo } from '../errors.js';
import type { CutFrame } from '../net/cut-frames.js';
import { mergeSession } from '../protocol/session.js';
import type { ProtocolModule, SessionState } from '../protocol/types.js';

/**
 * What a simulated device sends and what it must get back: frames cut with the protocol's own
 * splitter, and the exact replies computed by decoding each frame locally. A frame the local
 * decoder rejects is marked invalid (the server must not acknowledge it).
 */
export interface PlannedFrame {
  bytes: Uint8Array;
  expected: Uint8Array | null;
  invalid: ErrorInfo | null;
  /** Messages the server should publish for it. */
  messages: number;
  /** Not a device frame: bytes the server must send on its own (a session file's `<` line), awaited before the next frame. */
  server?: boolean;
}

export function planFrames(proto: ProtocolModule, frames: CutFrame[], transport: 'tcp' | 'udp', ident?: string, options: Readonly<Record<string, unknown>> = proto.defaultOptions): PlannedFrame[] {
  let session: SessionState = {};
  return frames.map((f) => {
    if (f.server) return { bytes: f.bytes, expected: f.bytes, invalid: null, messages: 0, server: true };
    const bytes = ident && proto.rewriteIdent && !f.invalid ? proto.rewriteIdent(f.bytes, ident) : f.bytes;
    if (f.invalid) return { bytes, expected: null, invalid: f.invalid, messages: 0 };
    try {
      const r = proto.decode(bytes, { transport, session, receivedAtMs: 0, options });
      if (r.session) session = mergeSession(session, r.session);
      const total = r.replies.reduce((n, x) => n + x.length, 0);
      const expected = new Uint8Array(total);
      let o = 0;
      for (const x of r.replies) {
        expected.set(x, o);
        o += x.length;
      }
      return { bytes, expected, invalid: null, messages: r.messages.length };
    } catch (e) {
      return { bytes, expected: null, invalid: toErrorInfo(e), messages: 0 };
    }
  });
}
