import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';

/**
 * Runs a compiled child script (`dist/test/support/<script>`) with `args`, hands each line it prints
 * to `onLine`, and kills it with SIGKILL as soon as `enough()` holds: the crash the durability tests
 * need. Rejects when `enough()` does not hold within `timeoutMs` (with `timeoutMessage()`) or the
 * child exits by itself; resolves once the killed child is gone.
 */
export async function killChildWhen(
  script: string,
  args: string[],
  onLine: (line: string) => void,
  enough: () => boolean,
  timeoutMessage: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/test/support', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(timeoutMessage())), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) onLine(l);
      if (enough() && !child.killed) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code) => {
      if (!child.killed) reject(new Error(`child exited by itself (${code})`));
    });
  });
  await new Promise((r) => child.once('close', r));
}
