import { EdgeError, toErrorInfo } from '../errors.js';
import type { ProtocolModule, SessionState } from '../protocol/types.js';
import { mergeSession } from '../protocol/session.js';
import { messageId } from '../reliability/message-id.js';
import type { DecodeTask, FrameOutcome } from './task-types.js';

/**
 * Decodes one task's frames and serialises the messages. Shared by the worker entry and the
 * inline (no-pool) mode, so both paths run the same code.
 *
 * The envelope is appended to the decoder's JSON rather than building a new object per message:
 * one string concat instead of an object copy (keys: message.id, server.timestamp, channel.id,
 * protocol.id, peer). message.id is stable across resends of the same record (message-id.ts).
 */
export function decodeFrames(proto: ProtocolModule, task: DecodeTask): FrameOutcome[] {
  const bytes = new Uint8Array(task.buffer);
  const sessions = new Map<number, SessionState>();
  const channelJson = /^\d+$/.test(task.channelId) && task.channelId.length < 16 ? task.channelId : JSON.stringify(task.channelId);
  const protoJson = JSON.stringify(proto.id);
  const out: FrameOutcome[] = new Array(task.frames.length);
  for (let i = 0; i < task.frames.length; i++) {
    const f = task.frames[i]!;
    const session = sessions.get(f.conn) ?? f.session;
    const frame = bytes.subarray(f.offset, f.offset + f.length);
    try {
      const r = proto.decode(frame, { transport: f.transport, session, receivedAtMs: f.receivedAtMs, options: task.options });
      let next = session;
      if (r.session) {
        next = mergeSession(session, r.session);
        if (next !== session) sessions.set(f.conn, next);
      }
      const suffix = `,"server.timestamp":${f.receivedAtMs / 1000},"channel.id":${channelJson},"protocol.id":${protoJson},"peer":${JSON.stringify(f.peer)}}`;
      const idents: string[] = new Array(r.messages.length);
      const payloads: string[] = new Array(r.messages.length);
      for (let m = 0; m < r.messages.length; m++) {
        const msg = r.messages[m]!;
        let ident = msg.ident;
        if (typeof ident !== 'string' || ident === '') {
          if (!next.ident) throw new EdgeError('EDGE_DECODE_INVALID', 'the frame carries a message but the device ident is not known yet');
          ident = next.ident;
          msg.ident = ident;
        }
        idents[m] = ident;
        const json = JSON.stringify(msg);
        const idField = `,"message.id":${JSON.stringify(messageId(task.channelId, ident, msg.timestamp, json))}`;
        payloads[m] = json.length > 2 ? json.slice(0, -1) + idField + suffix : '{' + idField.slice(1) + suffix;
      }
      const o: FrameOutcome = { idents, payloads, replies: r.replies };
      if (r.session) o.session = r.session;
      if (r.warnings.length) o.warnings = r.warnings;
      if (r.commandReplies?.length) o.commandReplies = r.commandReplies;
      out[i] = o;
    } catch (e) {
      out[i] = { idents: [], payloads: [], replies: [], error: toErrorInfo(e) };
    }
  }
  return out;
}
