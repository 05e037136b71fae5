import { constants, readFileSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EdgeError, type ErrorCode } from '../errors.js';
import { parseRecords, type ParsedRecord } from './record-format.js';

/**
 * A rename (or an unlink, or a new file) is durable only once its folder's entry is on disk: after a
 * power cut the file system may otherwise bring back the old name. One fsync of the folder.
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old content or the new, never a mix:
 * written to `{path}.tmp`, synced, renamed over `path`, folder synced (without `fsync`, only the
 * rename's atomicity against a process crash remains). The temporary file is removed on failure.
 * Used by the stores that keep a compacted log or a record per file (commands, credentials, assets).
 */
export async function replaceFile(path: string, data: Uint8Array | string, fsync: boolean): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      if (fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  if (fsync) await syncDir(dirname(path));
}

/** What an append-only record log (src/storage/record-format.ts) held when its store opened. */
export interface LoadedRecordLog {
  records: ParsedRecord[];
  /** Size of the file as read: appends continue after it. */
  bytes: number;
  damaged: [number, number][];
  /** Set when `damaged` is not empty: how many bytes in how many ranges, for the store's corrupt report. */
  damage: string | null;
}

/**
 * Opens a store's record log for reading at start: a `{path}.tmp` left by a compaction that crashed
 * before its rename is removed (the log itself is intact), a missing log is empty, and bytes that are
 * not valid records (a write torn by a crash, or damage) are reported for the store to drop.
 */
export function readRecordLog(path: string, failCode: ErrorCode): LoadedRecordLog {
  try {
    unlinkSync(`${path}.tmp`);
  } catch {
    // none
  }
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new EdgeError(failCode, `cannot read ${path}: ${(e as Error).message}`);
    buf = Buffer.alloc(0);
  }
  const { records, damaged } = parseRecords(buf, 0, true);
  const damagedBytes = damaged.reduce((n, [a, b]) => n + b - a, 0);
  const damage = damaged.length > 0 ? `${path}: ${damagedBytes} bytes in ${damaged.length} range(s) are not valid records (a write torn by a crash, or damage); dropped` : null;
  return { records, bytes: buf.length, damaged, damage };
}
