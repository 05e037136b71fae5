import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ProtocolModule, SessionState, Transport } from '../protocol/types.js';
import { decodeFrames } from './decode-frames.js';
import type { DecodeTask, FrameMeta, FrameOutcome } from './task-types.js';

/**
 * Batches frames per event-loop tick into one worker task per channel, copies their bytes into a
 * single ArrayBuffer that is transferred (not cloned) to the worker, and calls each frame's
 * callback with its outcome. Emits 'full' when more than `maxPending` frames wait and 'drain'
 * when the backlog falls under half of it, so listeners can pause device sockets.
 *
 * Socket Buffers are slices of Node's shared pool; transferring their ArrayBuffer would detach
 * the pool, hence the copy (it is also what makes one task per tick cheap: one allocation).
 */
export interface PoolFrame {
  bytes: Uint8Array;
  conn: number;
  peer: string;
  transport: Transport;
  receivedAtMs: number;
  session: SessionState;
  done: (o: FrameOutcome) => void;
}

interface ChannelQueue {
  protocol: ProtocolModule;
  channelId: string;
  options: Record<string, unknown>;
  frames: PoolFrame[];
}

export interface DecodePoolOptions {
  /** Worker threads; 0 = cores; 'inline' decodes on the main thread (tests, benches, CLI). */
  threads: number | 'inline';
  maxBatchFrames: number;
  maxPending: number;
}

const WORKER_URL = new URL('./worker.js', import.meta.url).href;

export class DecodePool extends EventEmitter {
  private readonly piscina: Piscina | null;
  private readonly queues = new Map<string, ChannelQueue>();
  private scheduled = false;
  private pending = 0;
  private full = false;
  readonly threads: number;

  constructor(private readonly opts: DecodePoolOptions) {
    super();
    if (opts.threads === 'inline') {
      this.piscina = null;
      this.threads = 0;
    } else {
      this.threads = opts.threads > 0 ? opts.threads : availableParallelism();
      this.piscina = new Piscina({ filename: WORKER_URL, minThreads: this.threads, maxThreads: this.threads, idleTimeout: 60_000 });
    }
  }

  get pendingFrames(): number {
    return this.pending;
  }

  get isFull(): boolean {
    return this.full;
  }

  /** Queues frames of one connection; they land in the same task, in order. */
  submit(protocol: ProtocolModule, channelId: string, options: Record<string, unknown>, frames: PoolFrame[]): void {
    let q = this.queues.get(channelId);
    if (!q) {
      q = { protocol, channelId, options, frames: [] };
      this.queues.set(channelId, q);
    }
    for (const f of frames) q.frames.push(f);
    this.pending += frames.length;
    if (!this.full && this.pending > this.opts.maxPending) {
      this.full = true;
      this.emit('full');
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    for (const q of this.queues.values()) {
      while (q.frames.length > 0) {
        // Keep one connection's frames in one task: cut only between connections.
        let n = Math.min(q.frames.length, this.opts.maxBatchFrames);
        while (n < q.frames.length && n > 0 && q.frames[n]!.conn === q.frames[n - 1]!.conn) n++;
        const batch = q.frames.splice(0, n);
        this.runBatch(q, batch);
      }
    }
  }

  private runBatch(q: ChannelQueue, batch: PoolFrame[]): void {
    let total = 0;
    for (const f of batch) total += f.bytes.length;
    const buffer = new ArrayBuffer(total);
    const view = new Uint8Array(buffer);
    const metas: FrameMeta[] = new Array(batch.length);
    let off = 0;
    for (let i = 0; i < batch.length; i++) {
      const f = batch[i]!;
      view.set(f.bytes, off);
      metas[i] = { offset: off, length: f.bytes.length, conn: f.conn, peer: f.peer, transport: f.transport, receivedAtMs: f.receivedAtMs, session: f.session };
      off += f.bytes.length;
    }
    const task: DecodeTask = { protocolId: q.protocol.id, channelId: q.channelId, options: q.options, buffer, frames: metas };
    const deliver = (outcomes: FrameOutcome[]) => {
      this.pending -= batch.length;
      for (let i = 0; i < batch.length; i++) batch[i]!.done(outcomes[i]!);
      if (this.full && this.pending < this.opts.maxPending / 2) {
        this.full = false;
        this.emit('drain');
      }
    };
    if (!this.piscina) {
      deliver(decodeFrames(q.protocol, task));
      return;
    }
    this.piscina.run(task, { transferList: [buffer] }).then(deliver, (e: unknown) => {
      const reason = e instanceof Error ? e.message : String(e);
      deliver(batch.map(() => ({ idents: [], payloads: [], replies: [], error: { code: 'EDGE_DECODE_INTERNAL' as const, reason: `worker failed: ${reason}` } })));
    });
  }

  async close(): Promise<void> {
    if (this.piscina) await this.piscina.destroy();
  }
}
