import { EdgeError, toErrorInfo } from '../errors.js';
import type { CommandReply, DecodeContext, FramePart, Message, ProtocolModule } from '../protocol/types.js';
import { mergeSession } from '../protocol/session.js';
import { EnvelopeWriter } from '../message/envelope.js';
import type { ContextCache } from './context-cache.js';
import { META_FIELDS, M_CONN, M_LENGTH, M_OFFSET, M_RECEIVED, M_VERSION, M_FLAGS, FLAG_REASSEMBLED, type ConnContext, type DecodeTask, type FrameOutcome, type WatchedValue } from './task-types.js';

/**
 * Decodes one task's frames and serialises the messages with their envelope (src/message/).
 * Shared by the worker entry and the inline (no-pool) mode, so both paths run the same code.
 *
 * Frames of one connection in a task are decoded in order, each seeing the session as the frames
 * before it left it. A connection whose context version this worker does not hold gets a context
 * miss for that frame and every later frame of it in the task: the pool sends them again with the
 * context (context-cache.ts). The cache is only written from contexts the main thread sent, so a
 * version always means the same content.
 */
const MISS: FrameOutcome = Object.freeze({ idents: [], payloads: [], replies: [], contextMiss: true }) as FrameOutcome;

export function partOf(proto: ProtocolModule, part: string): FramePart {
  if (!part) return proto;
  const p = proto.parts?.find((x) => x.id === part);
  if (!p) throw new EdgeError('EDGE_DECODE_INTERNAL', `protocol ${proto.id} has no part "${part}"`);
  return p;
}

function replyMessage(c: CommandReply, receivedAtMs: number): Message {
  return { timestamp: receivedAtMs / 1000, 'command.reply': c.replyKey, 'command.executed': c.executed, 'command.response': c.response };
}

export function decodeFrames(proto: ProtocolModule, task: DecodeTask, cache: ContextCache): FrameOutcome[] {
  const bytes = new Uint8Array(task.buffer);
  const meta = task.meta;
  const n = meta.length / META_FIELDS;
  const out: FrameOutcome[] = new Array(n);
  for (const c of task.contexts) cache.set(c);
  let part: FramePart;
  try {
    part = partOf(proto, task.part);
  } catch (e) {
    const error = toErrorInfo(e);
    return out.fill({ idents: [], payloads: [], replies: [], error });
  }
  const envelope = new EnvelopeWriter(task.channelId, proto.id);
  /** The context each connection's next frame in this task sees (sessions patched by earlier frames). */
  const running = new Map<number, ConnContext | null>();
  const watch = task.watch ?? null;
  for (let i = 0; i < n; i++) {
    const m = i * META_FIELDS;
    const conn = meta[m + M_CONN]!;
    let ctx = running.get(conn);
    if (ctx === undefined) {
      ctx = cache.get(conn, meta[m + M_VERSION]!) ?? null;
      running.set(conn, ctx);
    }
    if (ctx === null) {
      out[i] = MISS;
      continue;
    }
    const offset = meta[m + M_OFFSET]!;
    const frame = bytes.subarray(offset, offset + meta[m + M_LENGTH]!);
    const receivedAtMs = meta[m + M_RECEIVED]!;
    try {
      const dctx: DecodeContext = { transport: ctx.transport, session: ctx.session, receivedAtMs, options: task.options };
      if (meta[m + M_FLAGS]! & FLAG_REASSEMBLED) dctx.reassembled = true;
      if (ctx.nonce !== undefined) dctx.nonce = ctx.nonce;
      const r = part.decode(frame, dctx);
      if (r.session) {
        const next = mergeSession(ctx.session, r.session);
        if (next !== ctx.session) running.set(conn, (ctx = { ...ctx, session: next }));
      }
      const suffix = envelope.frameSuffix(receivedAtMs, ctx.peer);
      // A device's reply to a command is a message too (the runtime adds command.id/name when it
      // closes a command), so the message stream can be joined to the command's lifecycle.
      const messages = r.commandReplies?.length ? [...r.messages, ...r.commandReplies.map((c) => replyMessage(c, receivedAtMs))] : r.messages;
      let wv: WatchedValue[] | undefined;
      const idents: string[] = new Array(messages.length);
      const payloads: string[] = new Array(messages.length);
      for (let k = 0; k < messages.length; k++) {
        const msg = messages[k]!;
        let ident = msg.ident;
        if (typeof ident !== 'string' || ident === '') {
          if (!ctx.session.ident) throw new EdgeError('EDGE_DECODE_INVALID', 'the frame carries a message but the device ident is not known yet');
          ident = ctx.session.ident;
          msg.ident = ident;
        }
        idents[k] = ident;
        if (watch) watchValues(msg, watch, receivedAtMs, (wv ??= []));
        payloads[k] = envelope.payload(msg, ident, suffix);
      }
      const o: FrameOutcome = { idents, payloads, replies: r.replies };
      if (watch) o.watched = { names: watch, values: wv ?? [] };
      if (r.session) o.session = r.session;
      if (r.warnings.length) o.warnings = r.warnings;
      if (r.commandReplies?.length) o.commandReplies = r.commandReplies;
      if (r.effects?.length) o.effects = r.effects;
      out[i] = o;
    } catch (e) {
      out[i] = { idents: [], payloads: [], replies: [], error: toErrorInfo(e) };
    }
  }
  return out;
}

/** Device time and the watched values of one message (task-types.ts `WatchedValues`). */
function watchValues(msg: Message, names: readonly string[], receivedAtMs: number, out: WatchedValue[]): void {
  const ts = msg.timestamp;
  out.push(typeof ts === 'number' ? ts : receivedAtMs / 1000);
  for (const n of names) {
    const v = msg[n];
    out.push(v === undefined ? null : typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
  }
}
