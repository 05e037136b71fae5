import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';
import { replaceFile } from '../storage/durable-file.js';

/**
 * When each download was last done (README "Scheduled downloads"): vehicle units per channel and
 * device, driver cards per card (a driver moves between vehicles; the law counts per card). One
 * small JSON file, replaced durably (temporary file, sync, rename) on each change: a change is one
 * finished download, so a few a day per vehicle, and the whole state is a few bytes per device.
 */
export interface LastDownloads {
  vu: Record<string, number>;
  cards: Record<string, number>;
}

export class ScheduleStore {
  private readonly path: string;
  private state: LastDownloads = { vu: {}, cards: {} };
  private writing: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    private readonly fsync: boolean,
  ) {
    this.path = join(dir, 'last-downloads.json');
  }

  /** Reads the file (missing: nothing downloaded yet). A file that is not the store's JSON is EDGE_CONFIG_INVALID naming it: never silently reset. */
  load(): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new EdgeError('EDGE_CONFIG_INVALID', `tacho.dir: cannot read ${this.path}: ${(e as Error).message}`);
    }
    try {
      const v = JSON.parse(text) as Partial<LastDownloads>;
      if (!v || typeof v.vu !== 'object' || typeof v.cards !== 'object') throw new Error('not {vu, cards}');
      this.state = { vu: { ...v.vu }, cards: { ...v.cards } };
    } catch (e) {
      throw new EdgeError('EDGE_CONFIG_INVALID', `tacho.dir: ${this.path} is not the download schedule's state (${(e as Error).message}); move it away to start over`);
    }
  }

  lastVu(channelId: string, ident: string): number | null {
    return this.state.vu[vuKey(channelId, ident)] ?? null;
  }

  lastCard(card: string): number | null {
    return this.state.cards[card] ?? null;
  }

  /** Records a download; resolves once it is on disk (writes are serialised, each one the whole state). */
  record(kind: 'vu' | 'card', key: string, atMs: number): Promise<void> {
    const m = kind === 'vu' ? this.state.vu : this.state.cards;
    if ((m[key] ?? 0) >= atMs) return this.writing;
    m[key] = atMs;
    const text = JSON.stringify(this.state);
    // a failed write does not block the next one (which carries the whole state again)
    this.writing = this.writing.catch(() => undefined).then(() => replaceFile(this.path, text, this.fsync));
    return this.writing;
  }

  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }
}

export function vuKey(channelId: string, ident: string): string {
  return `${channelId}/${ident}`;
}
