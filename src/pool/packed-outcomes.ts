import type { FrameOutcome, WatchedValue } from './task-types.js';

/**
 * A decode task's outcomes as they cross back from the worker: columns instead of one object per
 * frame. Structured clone pays per object and per typed array (each Uint8Array reply became its own
 * ArrayBuffer on the main thread); here a task is two string arrays, one Uint32Array and one
 * Uint8Array whatever its frame count, plus an object only for the rare frame that carries more
 * than messages and replies. bench/README.md ("Throughput (issue #15)") has the measurements: posting
 * and receiving 32 one-record outcomes took ~218 µs as objects and ~19 µs as columns; the pool bench's
 * main-thread cost per record fell from 2.07 to 1.52 µs.
 *
 *   index: per frame [messages, replies], then the byte length of every reply in order
 *   idents / payloads: every frame's messages, frame after frame
 *   replyBytes: every reply, back to back
 *   extras: per frame, the fields beyond the common ones (null when no frame has any)
 */
export interface PackedOutcomes {
  n: number;
  index: Uint32Array;
  idents: string[];
  payloads: string[];
  replyBytes: Uint8Array;
  extras: (FrameExtras | null)[] | null;
  /** Every frame's watched values back to back (FrameOutcome.watched), or null without a watch list. */
  watched: WatchedValue[] | null;
}

export type FrameExtras = Omit<FrameOutcome, 'idents' | 'payloads' | 'replies' | 'watched'>;

/** Worker side: columns out of the per-frame outcomes of decodeFrames(). */
export function packOutcomes(outcomes: FrameOutcome[]): PackedOutcomes {
  const n = outcomes.length;
  let replies = 0;
  let replyLen = 0;
  let messages = 0;
  for (const o of outcomes) {
    replies += o.replies.length;
    for (const r of o.replies) replyLen += r.length;
    messages += o.payloads.length;
  }
  const index = new Uint32Array(2 * n + replies);
  const idents: string[] = new Array(messages);
  const payloads: string[] = new Array(messages);
  const replyBytes = new Uint8Array(replyLen);
  let extras: (FrameExtras | null)[] | null = null;
  let watched: WatchedValue[] | null = null;
  let m = 0;
  let ri = 2 * n;
  let off = 0;
  for (let i = 0; i < n; i++) {
    const o = outcomes[i]!;
    index[2 * i] = o.payloads.length;
    index[2 * i + 1] = o.replies.length;
    for (let k = 0; k < o.payloads.length; k++, m++) {
      idents[m] = o.idents[k]!;
      payloads[m] = o.payloads[k]!;
    }
    if (o.watched) {
      watched ??= [];
      for (const v of o.watched.values) watched.push(v);
    }
    for (const r of o.replies) {
      index[ri++] = r.length;
      replyBytes.set(r, off);
      off += r.length;
    }
    if (o.session || o.warnings || o.commandReplies || o.effects || o.error || o.contextMiss) {
      extras ??= new Array<FrameExtras | null>(n).fill(null);
      const x: FrameExtras = {};
      if (o.session) x.session = o.session;
      if (o.warnings) x.warnings = o.warnings;
      if (o.commandReplies) x.commandReplies = o.commandReplies;
      if (o.effects) x.effects = o.effects;
      if (o.error) x.error = o.error;
      if (o.contextMiss) x.contextMiss = o.contextMiss;
      extras[i] = x;
    }
  }
  return { n, index, idents, payloads, replyBytes, extras, watched };
}

/**
 * Main-thread side: the per-frame outcomes again (replies are views into one buffer). `watch` is
 * the task's watch list: it gives the stride of `watched`. A frame that failed has no messages and
 * so no watched values.
 */
export function unpackOutcomes(p: PackedOutcomes, watch: readonly string[] | null = null): FrameOutcome[] {
  const { n, index, idents, payloads, replyBytes, extras, watched } = p;
  const stride = watch ? watch.length + 1 : 0;
  let w = 0;
  const out: FrameOutcome[] = new Array(n);
  let m = 0;
  let ri = 2 * n;
  let off = 0;
  for (let i = 0; i < n; i++) {
    const messages = index[2 * i]!;
    const nReplies = index[2 * i + 1]!;
    const replies: Uint8Array[] = new Array(nReplies);
    for (let k = 0; k < nReplies; k++) {
      const len = index[ri++]!;
      replies[k] = replyBytes.subarray(off, off + len);
      off += len;
    }
    const o: FrameOutcome = messages === 1
      ? { idents: [idents[m]!], payloads: [payloads[m]!], replies }
      : { idents: idents.slice(m, m + messages), payloads: payloads.slice(m, m + messages), replies };
    m += messages;
    if (watch && watched && !extras?.[i]?.error) {
      o.watched = { names: watch, values: watched.slice(w, w + messages * stride) };
      w += messages * stride;
    }
    const x = extras?.[i];
    if (x) Object.assign(o, x);
    out[i] = o;
  }
  return out;
}
