import type { ConnContext } from './task-types.js';

/**
 * A worker's copy of connection contexts (peer, transport, session), keyed by connection number and
 * stamped with the version the main thread gave them. Per-frame metadata carries only the version;
 * a frame whose version is not here comes back as a context miss and is sent again with its context.
 * A miss is always safe, so the cache is bounded by simple FIFO eviction (closed connections age out).
 *
 * Why not send the session with each frame (the first design): structured-cloning an object per
 * frame was a measurable share of the main thread's per-record cost (bench/pool, postTask), and a
 * session changes a handful of times per connection lifetime (identification, authentication).
 */
export class ContextCache {
  private readonly map = new Map<number, ConnContext>();

  constructor(private readonly max = 100_000) {}

  get(conn: number, version: number): ConnContext | undefined {
    const c = this.map.get(conn);
    return c && c.version === version ? c : undefined;
  }

  set(c: ConnContext): void {
    if (!this.map.has(c.conn) && this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(c.conn, c);
  }

  get size(): number {
    return this.map.size;
  }
}
