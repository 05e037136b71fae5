import { constants } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { topicLevel } from '../mqtt/topics.js';

/**
 * Where file pieces that devices upload (`file-chunk` decode effects: tacho DDD files, photos,
 * video) are stored. A piece is written at its offset and synced before its callback fires, which is
 * what the frame's ACK waits for: a device deletes what it was told is received.
 *
 * Files grow under `{dir}/{channel}/{ident}/{key}.part` and are renamed to `{key}` when the final
 * piece is stored; the path is returned so the caller can announce it. Path levels are sanitised
 * like topic levels, so a device cannot write outside its folder.
 */
export interface StoredFile {
  path: string;
  bytes: number;
}

export interface MediaStore {
  write(channelId: string, ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean, cb: (err: Error | null, file: StoredFile | null) => void): void;
}

export class FileMediaStore implements MediaStore {
  constructor(
    private readonly dir: string,
    private readonly fsync = true,
  ) {}

  write(channelId: string, ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean, cb: (err: Error | null, file: StoredFile | null) => void): void {
    this.writeAsync(channelId, ident, key, offset, bytes, final).then((f) => cb(null, f), (e: Error) => cb(e, null));
  }

  private async writeAsync(channelId: string, ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean): Promise<StoredFile | null> {
    const folder = join(this.dir, safeLevel(channelId), safeLevel(ident));
    await mkdir(folder, { recursive: true });
    const path = join(folder, safeLevel(key));
    // read-write, created if missing, not O_APPEND: Linux ignores the position of writes in append mode
    const fh = await open(`${path}.part`, constants.O_RDWR | constants.O_CREAT, 0o644);
    let size: number;
    try {
      // positional write: a piece sent again after a lost ACK lands on the same bytes
      await fh.write(bytes, 0, bytes.length, offset);
      if (this.fsync) await fh.datasync();
      size = (await fh.stat()).size;
    } finally {
      await fh.close();
    }
    if (!final) return null;
    await rename(`${path}.part`, path);
    return { path, bytes: size };
  }
}

function safeLevel(s: string): string {
  const t = topicLevel(s);
  return t === '.' || t === '..' ? '_' : t;
}
