import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs `body` with something started on a fresh temp dir (a rig, a harness: whatever has `close()`),
 * then closes it and removes the dir, also when the body fails, so no test leaves files behind.
 */
export async function withTempDir<R extends { close(): Promise<void> }>(prefix: string, start: (dir: string) => Promise<R>, body: (started: R, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const started = await start(dir);
  try {
    await body(started, dir);
  } finally {
    await started.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
