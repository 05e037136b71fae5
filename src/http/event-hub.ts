/**
 * The web console's live feed (`GET /api/v1/events`, Server-Sent Events): one source shared by every
 * open console, filtered per client, written in batches.
 *
 * Why this shape: the feed must cost nothing while nobody looks, so the source (the MQTT
 * subscriptions, src/app/features/console.ts) is started by the first client and stopped when the
 * last one leaves; and ten consoles on a busy channel must not mean ten socket writes per message,
 * so each event's text is built once and appended to the buffers of the clients that want it, and a
 * single timer writes each buffer every `flushMs`. A client that does not read (a stalled tab) is
 * bounded: past `maxBufferBytes` its events are dropped and counted, and it is told how many.
 */

export type LiveType = 'message' | 'connection' | 'command' | 'media' | 'relay' | 'channel' | 'asset' | 'instance';

export interface LiveEvent {
  type: LiveType;
  channel: string | null;
  ident: string | null;
  /** The command status, connection event or channel log name. */
  sub: string | null;
  /** The payload as published (a JSON text). */
  payload: string;
}

/** Where events come from: started by the first client, stopped after the last one left. */
export interface LiveSource {
  start(emit: (e: LiveEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

export interface LiveFilter {
  channel: string | null;
  ident: string | null;
  types: ReadonlySet<LiveType> | null;
}

/** The writable side of one SSE response. */
export interface LiveSink {
  write(chunk: string): void;
  /** Bytes the socket has not sent yet (a client that stopped reading). */
  readonly pending: number;
}

interface Client {
  filter: LiveFilter;
  sink: LiveSink;
  buf: string[];
  bytes: number;
  dropped: number;
}

export interface EventHubOptions {
  flushMs?: number;
  maxBufferBytes?: number;
  maxClients?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  pingMs?: number;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | null = null;
  private sinceFlushMs = 0;
  /** The source's state: a start or stop in progress is awaited before the next one. */
  private running: Promise<void> = Promise.resolve();
  private started = false;
  private readonly o: Required<EventHubOptions>;
  /** Events received from the source and bytes written, for the console bench and tests. */
  readonly counters = { events: 0, written: 0, dropped: 0 };

  constructor(
    private readonly source: LiveSource,
    o: EventHubOptions = {},
  ) {
    this.o = { flushMs: 100, maxBufferBytes: 1 << 20, maxClients: 64, pingMs: 15_000, ...o };
  }

  get size(): number {
    return this.clients.size;
  }

  /** Whether the source is subscribed (true from the first client until the last one left). */
  get active(): boolean {
    return this.started;
  }

  /** Adds a client; resolves to its removal once the source is started (or null: too many clients). */
  async add(filter: LiveFilter, sink: LiveSink): Promise<(() => void) | null> {
    if (this.clients.size >= this.o.maxClients) return null;
    const c: Client = { filter, sink, buf: [], bytes: 0, dropped: 0 };
    this.clients.add(c);
    if (this.clients.size === 1) this.transition(true);
    if (!this.timer) this.timer = setInterval(() => this.flush(), this.o.flushMs);
    await this.running;
    return () => this.remove(c);
  }

  private remove(c: Client): void {
    if (!this.clients.delete(c) || this.clients.size > 0) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.transition(false);
  }

  /** Starts or stops the source, one transition after the other; a failed start is retried by the next client. */
  private transition(on: boolean): void {
    this.running = this.running.then(async () => {
      const want = this.clients.size > 0;
      if (on !== want || this.started === want) return;
      try {
        if (want) await this.source.start((e) => this.publish(e));
        else await this.source.stop();
        this.started = want;
      } catch {
        // the broker refused or is away: the clients see no events; the next client tries again
      }
    });
  }

  /** One event from the source: its text built once, appended to every client that wants it. */
  publish(e: LiveEvent): void {
    this.counters.events++;
    let text: string | null = null;
    for (const c of this.clients) {
      const f = c.filter;
      if ((f.channel !== null && f.channel !== e.channel) || (f.ident !== null && e.ident !== null && f.ident !== e.ident) || (f.types !== null && !f.types.has(e.type))) continue;
      // a connection event names its ident in the payload only: matched by text, no parse
      if (f.ident !== null && e.ident === null && e.type === 'connection' && !e.payload.includes(`"ident":${JSON.stringify(f.ident)}`)) continue;
      if (c.bytes + c.sink.pending > this.o.maxBufferBytes) {
        c.dropped++;
        this.counters.dropped++;
        continue;
      }
      text ??= sse(e);
      c.buf.push(text);
      c.bytes += text.length;
    }
  }

  /** Writes every client's batch (and, now and then, a keep-alive comment). */
  flush(): void {
    this.sinceFlushMs += this.o.flushMs;
    const ping = this.sinceFlushMs >= this.o.pingMs;
    if (ping) this.sinceFlushMs = 0;
    for (const c of this.clients) {
      if (c.dropped > 0 && c.bytes + c.sink.pending < this.o.maxBufferBytes / 2) {
        c.buf.push(`event: dropped\ndata: {"count":${c.dropped}}\n\n`);
        c.dropped = 0;
      }
      if (c.buf.length === 0) {
        if (ping) c.sink.write(': ping\n\n');
        continue;
      }
      const chunk = c.buf.join('');
      c.buf = [];
      c.bytes = 0;
      this.counters.written += chunk.length;
      c.sink.write(chunk);
    }
  }

  /** Ends every stream's bookkeeping (the server closes the sockets) and stops the source. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clients.clear();
    this.transition(false);
    await this.running;
  }
}

/** One SSE event: the payload is a one-line JSON text (the server's own), so it is embedded as it is. */
function sse(e: LiveEvent): string {
  const p = e.payload;
  const payload = p.length > 0 && (p[0] === '{' || p[0] === '[') && !p.includes('\n') ? p : JSON.stringify(p);
  return `event: ${e.type}\ndata: {"channel":${JSON.stringify(e.channel)},"ident":${JSON.stringify(e.ident)},"sub":${JSON.stringify(e.sub)},"payload":${payload}}\n\n`;
}
