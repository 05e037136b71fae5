import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { EdgeError } from '../errors.js';
import type { CommandRequest, EncodedCommand, ProtocolModule, SessionState } from '../protocol/types.js';
import { ContextCache } from './context-cache.js';
import { decodeFrames } from './decode-frames.js';
import { runDddTask } from './ddd-task.js';
import { META_FIELDS, M_CONN, M_LENGTH, M_OFFSET, M_RECEIVED, M_VERSION, M_FLAGS, FLAG_REASSEMBLED, type ConnContext, type DecodeTask, type DddTask, type DddTaskOutcome, type EncodeOutcome, type EncodeTask, type FrameOutcome } from './task-types.js';
import { MinHeap } from '../util/min-heap.js';
import { defaultDecodeThreads } from '../util/decode-threads.js';
import { adaptPiscina } from './piscina-gc.js';
import { unpackOutcomes, type PackedOutcomes } from './packed-outcomes.js';

/**
 * Batches frames per event-loop tick into one worker task per channel and listener part, copies
 * their bytes into a single ArrayBuffer that is transferred (not cloned) to the worker, and calls
 * each frame's callback with its outcome. Emits 'full' when more than `maxPending` frames wait and
 * 'drain' when the backlog falls under half of it, so listeners can pause device sockets.
 *
 * Socket Buffers are slices of Node's shared pool; transferring their ArrayBuffer would detach
 * the pool, hence the copy (it is also what makes one task per tick cheap: one allocation).
 *
 * Connection contexts (peer, transport, session) travel only when they changed since they were
 * last sent, or after a worker reported a miss (context-cache.ts); per-frame metadata is numbers.
 */
export interface PoolConnection {
  readonly num: number;
  /** Grows whenever peer, transport or session change. */
  contextVersion: number;
  /** The last version sent to any worker (the pool updates it). */
  contextSent: number;
  context(): ConnContext;
}

export interface PoolFrame {
  bytes: Uint8Array;
  connection: PoolConnection;
  receivedAtMs: number;
  /** Joined from parts by the runtime (`reassemble` effects). */
  reassembled?: boolean;
  done: (o: FrameOutcome) => void;
}

interface ChannelQueue {
  protocol: ProtocolModule;
  part: string;
  channelId: string;
  options: Record<string, unknown>;
  /** Groups of one connection's frames, lowest priority value first. */
  groups: MinHeap<PoolFrame[]>;
}

export interface DecodePoolOptions {
  /** Worker threads; 0 = cores − 1, at least 1 (defaultDecodeThreads); 'inline' decodes on the main thread (tests, benches, CLI). */
  threads: number | 'inline';
  maxBatchFrames: number;
  /**
   * Bytes per task at most (config pool.max_batch_bytes; whole groups only, so one connection's
   * group may exceed it). Unset: no cap.
   */
  maxBatchBytes?: number;
  maxPending: number;
  /**
   * ms a first frame may wait for others before its task goes out (config pool.batch_wait_ms; 0 =
   * the same event-loop turn). At low rates every frame is otherwise its own task: a worker wake-up
   * and a result message each, which is most of the CPU a record costs there.
   */
  batchWaitMs?: number;
}

const WORKER_URL = new URL('./worker.js', import.meta.url).href;

/**
 * Groups whose priority (recently attained service) is over this many times the first one's go to
 * the next task. A live device (~100 bytes a second) and a device flushing its black box (~1 KB
 * frames back to back) differ by ~10×; devices at the same rate stay well inside 4×.
 */
const URGENT_RATIO = 4;
/** Groups under the mean priority divided by this pass a closed gate (`admit`). */
const GATE_URGENT_RATIO = 2;

export class DecodePool extends EventEmitter {
  private readonly piscina: Piscina | null;
  private readonly queues = new Map<string, ChannelQueue>();
  private scheduled = false;
  /** The batch-wait timer while a flush waits for more frames (batchWaitMs > 0). */
  private waitTimer: NodeJS.Timeout | null = null;
  private readonly flushNow = (): void => {
    this.waitTimer = null;
    this.flush();
  };
  private pending = 0;
  /** Moving mean of the priorities submitted (the last ~64 groups): what counts as urgent. */
  private meanPriority = -1;
  private inflightTasks = 0;
  private readonly maxInflightTasks: number;
  private full = false;
  /** Inline mode's stand-in for a worker's context cache. */
  private readonly inlineContexts = new ContextCache();
  readonly threads: number;
  /** Frames decoded a second time because a worker lacked their connection's context. */
  contextMisses = 0;
  /**
   * Parameter names whose values come back with every message (FrameOutcome.watched), or null
   * for none: set by the assets service when it has automatic rules (and to get device time).
   */
  watch: readonly string[] | null = null;
  /**
   * Asked before each task goes out: false holds the frames here, undecoded and ordered by urgency,
   * until `resume()` (the runtime asks the publisher whether its queue has room). Null: no gate.
   */
  admit: (() => boolean) | null = null;

  constructor(private readonly opts: DecodePoolOptions) {
    super();
    if (opts.threads === 'inline') {
      this.piscina = null;
      this.threads = 0;
    } else {
      this.threads = opts.threads > 0 ? opts.threads : defaultDecodeThreads(availableParallelism());
      this.piscina = new Piscina({ filename: WORKER_URL, minThreads: this.threads, maxThreads: this.threads, idleTimeout: 60_000 });
      adaptPiscina(this.piscina);
    }
    // Frames wait in our priority queue, not in Piscina's FIFO, so they can still be reordered
    // (and batched bigger under load). One task per thread: bench/pool measured the same
    // throughput as two (132.9k vs 130.0k rec/s, 2 threads × 256) and the after-load bench a
    // lower live-device p99 (247 vs 344 ms), since fewer storm frames sit ahead in the workers.
    this.maxInflightTasks = this.piscina ? this.threads : Infinity;
  }

  get pendingFrames(): number {
    return this.pending;
  }

  get isFull(): boolean {
    return this.full;
  }

  /**
   * Queues frames of one connection; they land in the same task, in order. Lower `priority` is
   * decoded sooner: the channel passes the connection's recently attained service, so a live
   * device is not queued behind thousands of devices flushing their black box (after-load).
   * `part` names the protocol family's listener that cut the frames ('' = the main one).
   */
  submit(protocol: ProtocolModule, channelId: string, options: Record<string, unknown>, frames: PoolFrame[], priority = 0, part = ''): void {
    const key = part ? `${channelId}\u0000${part}` : channelId;
    let q = this.queues.get(key);
    if (!q) {
      q = { protocol, part, channelId, options, groups: new MinHeap<PoolFrame[]>() };
      this.queues.set(key, q);
    }
    q.groups.push(priority, frames);
    this.meanPriority = this.meanPriority < 0 ? priority : this.meanPriority + (priority - this.meanPriority) / 64;
    this.pending += frames.length;
    if (!this.full && this.pending > this.opts.maxPending) {
      this.full = true;
      this.emit('full');
    }
    if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.opts.batchWaitMs ?? 0;
      if (wait > 0 && this.pending < this.opts.maxBatchFrames) this.waitTimer = setTimeout(this.flushNow, wait);
      else setImmediate(this.flushNow);
    } else if (this.waitTimer && this.pending >= this.opts.maxBatchFrames) {
      // a full task's worth is here: no reason to wait longer
      clearTimeout(this.waitTimer);
      this.waitTimer = null;
      setImmediate(this.flushNow);
    }
  }

  /** Encodes a command in a worker (inline: here). Throws EdgeError EDGE_COMMAND_UNKNOWN / _INVALID. */
  async encode(protocol: ProtocolModule, command: CommandRequest, session: SessionState): Promise<EncodedCommand> {
    if (!this.piscina) return protocol.encode(command, session);
    const task: EncodeTask = { protocolId: protocol.id, command, session };
    const o = (await this.piscina.run(task, { name: 'encodeTask' })) as EncodeOutcome;
    if (o.error) throw EdgeError.fromInfo(o.error);
    return { bytes: o.bytes, replyKey: o.replyKey, ...(o.then ? { then: o.then } : {}) };
  }

  /**
   * Parses a stored tachograph file in a worker (inline: here): a 100 KB vehicle-unit file takes a
   * few ms, which the main thread (sockets, ACKs) should not spend. The bytes are transferred.
   */
  async parseDdd(task: DddTask): Promise<DddTaskOutcome> {
    if (!this.piscina) return runDddTask(task);
    const buf = task.bytes.byteOffset === 0 && task.bytes.byteLength === task.bytes.buffer.byteLength ? task.bytes : task.bytes.slice();
    return (await this.piscina.run({ ...task, bytes: buf }, { name: 'dddTask', transferList: [buf.buffer as ArrayBuffer] })) as DddTaskOutcome;
  }

  /** Frames still waiting go out on the next turn (the gate opened again, or a task came back). */
  resume(): void {
    if (this.pending > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const maxBytes = this.opts.maxBatchBytes ?? Infinity;
    for (const q of this.queues.values()) {
      while (q.groups.size > 0 && this.inflightTasks < this.maxInflightTasks) {
        // Urgent groups (under half the usual priority: a live device among devices flushing their
        // black box) pass the gate; `break`, not `return`: another channel's queue may hold one.
        if (this.admit && q.groups.peekPriority()! * GATE_URGENT_RATIO > this.meanPriority && !this.admit()) break;
        // Whole groups only: one connection's frames stay in one task, in order.
        const batch: PoolFrame[] = [];
        let bytes = 0;
        // A task ends where the priorities jump (URGENT_RATIO): a live device's frame is decoded in
        // a small task of its own instead of waiting for a task of storm frames (after-load bench).
        const cut = (q.groups.peekPriority() ?? 0) * URGENT_RATIO;
        while (q.groups.size > 0 && batch.length < this.opts.maxBatchFrames && bytes < maxBytes && (batch.length === 0 || q.groups.peekPriority()! <= cut)) {
          for (const f of q.groups.pop()!) {
            batch.push(f);
            bytes += f.bytes.length;
          }
        }
        this.runBatch(q, batch, false);
      }
    }
  }

  /** `resend`: a retry after a context miss, which carries every context of its frames. */
  private runBatch(q: ChannelQueue, batch: PoolFrame[], resend: boolean): void {
    let total = 0;
    for (const f of batch) total += f.bytes.length;
    const buffer = new ArrayBuffer(total);
    const view = new Uint8Array(buffer);
    const meta = new Float64Array(batch.length * META_FIELDS);
    const contexts: ConnContext[] = [];
    let off = 0;
    let lastConn: PoolConnection | null = null;
    for (let i = 0; i < batch.length; i++) {
      const f = batch[i]!;
      const c = f.connection;
      view.set(f.bytes, off);
      const m = i * META_FIELDS;
      meta[m + M_OFFSET] = off;
      meta[m + M_LENGTH] = f.bytes.length;
      meta[m + M_CONN] = c.num;
      meta[m + M_RECEIVED] = f.receivedAtMs;
      meta[m + M_VERSION] = c.contextVersion;
      meta[m + M_FLAGS] = f.reassembled ? FLAG_REASSEMBLED : 0;
      if (c !== lastConn && (resend || c.contextSent !== c.contextVersion)) {
        contexts.push(c.context());
        c.contextSent = c.contextVersion;
      }
      lastConn = c;
      off += f.bytes.length;
    }
    const task: DecodeTask = { protocolId: q.protocol.id, part: q.part, channelId: q.channelId, options: q.options, buffer, meta, contexts, watch: this.watch };
    this.inflightTasks++;
    const deliver = (outcomes: FrameOutcome[]) => {
      this.inflightTasks--;
      let retry: PoolFrame[] | null = null;
      for (let i = 0; i < batch.length; i++) {
        const o = outcomes[i]!;
        if (o.contextMiss) (retry ??= []).push(batch[i]!);
        else {
          this.pending--;
          batch[i]!.done(o);
        }
      }
      if (retry) {
        // Frames after a miss of the same connection missed too, so their order holds.
        this.contextMisses += retry.length;
        if (resend) {
          // cannot happen: the task carried every context; fail loudly rather than loop
          for (const f of retry) {
            this.pending--;
            f.done({ idents: [], payloads: [], replies: [], error: { code: 'EDGE_DECODE_INTERNAL', reason: 'connection context missing in the worker after it was sent' } });
          }
        } else this.runBatch(q, retry, true);
      }
      if (this.full && this.pending < this.opts.maxPending / 2) {
        this.full = false;
        this.emit('drain');
      }
      this.resume();
    };
    if (!this.piscina) {
      deliver(decodeFrames(q.protocol, task, this.inlineContexts));
      return;
    }
    this.piscina.run(task, { transferList: [buffer, meta.buffer as ArrayBuffer] }).then((p: PackedOutcomes) => deliver(unpackOutcomes(p, task.watch ?? null)), (e: unknown) => {
      const reason = e instanceof Error ? e.message : String(e);
      deliver(batch.map(() => ({ idents: [], payloads: [], replies: [], error: { code: 'EDGE_DECODE_INTERNAL' as const, reason: `worker failed: ${reason}` } })));
    });
  }

  async close(): Promise<void> {
    if (this.waitTimer) {
      // frames waiting for company go out now, not after the workers are gone
      clearTimeout(this.waitTimer);
      this.flushNow();
    }
    if (this.piscina) await this.piscina.destroy();
  }
}
