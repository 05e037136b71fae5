import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

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
