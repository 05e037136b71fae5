import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';

/** Runs the built CLI as a child process (without blocking the event loop: the server under test runs here). */
export function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const root = projectRoot();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
