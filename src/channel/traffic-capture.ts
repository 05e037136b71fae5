import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelConfig } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import type { ChannelCounters } from './channel-stats.js';

/**
 * Raw traffic capture for support (config `channels[].capture`): every chunk a device sent (TCP, as
 * read from the socket and before framing, so a framing problem is captured too; UDP, each datagram)
 * and every byte the server wrote to it (DeviceLink.write: replies, server frames, commands), one TSV
 * row each, in a file `edge-channel decode` and `replay` read as they are:
 *
 *   time                      conn    peer             part  ident            direction       hex
 *   2026-11-29T10:00:00.123Z  tcp-7   10.0.0.5:40112         013226008765520  device->server  002e0003…
 *
 * The reader takes the `hex` column by name, skips `server->device` rows and joins the rows of one
 * `conn` into one stream (a frame may straddle two reads); a header row starts new streams (each
 * start and each rotation writes one, since connection ids restart with the process).
 *
 * Bounded: the file rotates to one `.1` file when it reaches half of `max_bytes`, so the two files
 * together never hold more than `max_bytes` and the most recent traffic is kept. Rows are buffered
 * and appended in batches (never a write per frame); a write that fails is counted, logged once per
 * minute and never reaches the channel. With `idents`, rows of a connection are held (up to 64 KiB)
 * until its ident is known, so the identification frame of a listed device is in the file.
 *
 * Disabled capture costs one null check per read and per write: links get no tap.
 */

/** What a link gives the capture for each row (DeviceLink does). */
export interface CapturedLink {
  readonly id: string;
  readonly peer: string;
  readonly part: string;
  readonly ident: string | undefined;
}

/** The per-link hook DeviceLink and the listeners call; null on a link that is not captured. */
export interface LinkTap {
  inbound(bytes: Uint8Array): void;
  outbound(bytes: Uint8Array): void;
}

export type CaptureConfig = ChannelConfig['capture'];

export const CAPTURE_HEADER = 'time\tconn\tpeer\tpart\tident\tdirection\thex\n';

/** Rows wait this long for more before they are appended (a batch per quarter second at most). */
const FLUSH_AFTER_MS = 250;
/** … or until this much is queued. */
const FLUSH_AT_BYTES = 256 * 1024;
/** Queued while the disk is slow: beyond it rows are dropped (counted), memory stays bounded. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** Rows held per link until its ident is known (idents filter). */
const MAX_HELD_BYTES = 64 * 1024;
const LOG_INTERVAL_MS = 60_000;

type Direction = 'device->server' | 'server->device';

interface HeldRow {
  atMs: number;
  direction: Direction;
  hex: string;
}

export interface CaptureDeps {
  channelId: string;
  now: () => number;
  log: Logger;
  counters: Pick<ChannelCounters, 'captureRows' | 'captureDroppedRows' | 'captureWriteErrors'>;
  /** Resolves when a previous capture of the channel (before a reload) has written its last rows. */
  after?: Promise<void>;
}

export class TrafficCapture {
  readonly file: string;
  private readonly halfBytes: number;
  private readonly idents: ReadonlySet<string> | null;
  private queue: string[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private fh: FileHandle | null = null;
  private fileBytes = 0;
  private closed = false;
  private failuresNotLogged = 0;
  private lastFailureLogMs = -Infinity;
  private lastError = '';
  private isoAtMs = NaN;
  private iso = '';

  constructor(
    readonly cfg: CaptureConfig,
    private readonly deps: CaptureDeps,
  ) {
    this.file = join(cfg.dir, `channel-${deps.channelId}.tsv`);
    this.halfBytes = Math.floor(cfg.max_bytes / 2);
    this.idents = cfg.idents.length > 0 ? new Set(cfg.idents) : null;
  }

  /** The tap for a new link (or, after a reload turned capture on, for an open one). */
  tap(link: CapturedLink): LinkTap {
    let held: HeldRow[] | null = this.idents ? [] : null;
    let heldBytes = 0;
    const row = (direction: Direction, bytes: Uint8Array) => {
      if (this.closed) return;
      const ident = link.ident;
      // a device not listed costs a set lookup, not a row
      if (this.idents && ident !== undefined && !this.idents.has(ident)) {
        held = null;
        return;
      }
      const atMs = this.deps.now();
      const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
      if (this.idents) {
        if (ident === undefined) {
          // not identified yet: keep the first rows, they hold the identification frame
          if (held && heldBytes + hex.length <= MAX_HELD_BYTES) {
            held.push({ atMs, direction, hex });
            heldBytes += hex.length;
          } else this.deps.counters.captureDroppedRows++;
          return;
        }
        if (held) {
          for (const h of held) this.append(link, ident, h.atMs, h.direction, h.hex);
          held = null;
        }
      }
      this.append(link, ident, atMs, direction, hex);
    };
    return { inbound: (b) => row('device->server', b), outbound: (b) => row('server->device', b) };
  }

  private append(link: CapturedLink, ident: string | undefined, atMs: number, direction: Direction, hex: string): void {
    // one ISO string per millisecond: formatting it costs more than the rest of the row
    if (atMs !== this.isoAtMs) {
      this.isoAtMs = atMs;
      this.iso = new Date(atMs).toISOString();
    }
    const text = `${this.iso}\t${link.id}\t${link.peer}\t${link.part}\t${ident === undefined ? '' : cell(ident)}\t${direction}\t${hex}\n`;
    // every cell is ASCII (cell() makes the ident so), so the length is the byte count
    const n = text.length;
    if (n > this.halfBytes - CAPTURE_HEADER.length || this.queuedBytes + n > MAX_QUEUED_BYTES) {
      this.deps.counters.captureDroppedRows++;
      return;
    }
    this.queue.push(text);
    this.queuedBytes += n;
    if (this.writing) return; // the running drain takes it
    if (this.queuedBytes >= FLUSH_AT_BYTES) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), FLUSH_AFTER_MS).unref();
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || this.queue.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
      // rows appended by promise callbacks after the drain's last look at the queue
      if (this.queue.length > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), FLUSH_AFTER_MS).unref();
    });
  }

  private async drain(): Promise<void> {
    if (this.deps.after) await this.deps.after;
    while (this.queue.length > 0) {
      const rows = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      const done = { rows: 0 };
      try {
        await this.writeRows(rows, done);
      } catch (e) {
        this.failed(e, rows.length - done.rows);
        // a file handle that failed once is reopened (with a new header: rows were lost) next time
        const fh = this.fh;
        this.fh = null;
        await fh?.close().catch(() => undefined);
      }
    }
  }

  /** Appends rows, rotating whenever the file would pass half of max_bytes; `done` counts rows written. */
  private async writeRows(rows: string[], done: { rows: number }): Promise<void> {
    let i = 0;
    while (i < rows.length) {
      if (!this.fh) await this.openFile();
      let text = '';
      const first = i;
      while (i < rows.length && this.fileBytes + text.length + rows[i]!.length <= this.halfBytes) text += rows[i++];
      if (text) {
        await this.fh!.write(text);
        this.fileBytes += text.length;
        this.deps.counters.captureRows += i - first;
        done.rows = i;
      }
      if (i < rows.length) await this.rotate();
    }
  }

  private async openFile(): Promise<void> {
    await mkdir(this.cfg.dir, { recursive: true });
    let fh = await open(this.file, 'a');
    let size = (await fh.stat()).size;
    if (size + CAPTURE_HEADER.length > this.halfBytes) {
      await fh.close();
      await rename(this.file, `${this.file}.1`);
      fh = await open(this.file, 'a');
      size = 0;
    }
    this.fh = fh;
    await fh.write(CAPTURE_HEADER);
    this.fileBytes = size + CAPTURE_HEADER.length;
  }

  private async rotate(): Promise<void> {
    const fh = this.fh!;
    this.fh = null;
    await fh.close();
    await rename(this.file, `${this.file}.1`);
    await this.openFile();
  }

  private failed(e: unknown, lostRows: number): void {
    const c = this.deps.counters;
    c.captureWriteErrors++;
    c.captureDroppedRows += lostRows;
    this.failuresNotLogged++;
    this.lastError = (e as NodeJS.ErrnoException).code ?? String(e);
    const nowMs = this.deps.now();
    if (nowMs - this.lastFailureLogMs >= LOG_INTERVAL_MS) this.logFailures(nowMs);
  }

  private logFailures(nowMs: number): void {
    this.deps.log.warn({ code: 'EDGE_CAPTURE_WRITE_FAILED', file: this.file, err: this.lastError, failures: this.failuresNotLogged }, 'EDGE_CAPTURE_WRITE_FAILED: traffic capture rows could not be written (further failures are logged once a minute)');
    this.lastFailureLogMs = nowMs;
    this.failuresNotLogged = 0;
  }

  /** Writes what is queued and closes the file; never rejects. Rows arriving later are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing) await this.writing;
    if (this.queue.length > 0) await this.drain();
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
    if (this.failuresNotLogged > 0) this.logFailures(this.deps.now());
  }
}

/** An ident as one TSV cell: printable ASCII only (a device-supplied string must not add columns or rows). */
function cell(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
