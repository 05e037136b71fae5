import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/paths.js';
import { waitFor } from './harness.js';

/**
 * The real `edge-channel start --processes N` as a child process (the primary, which forks the
 * processes): its config written to a temporary directory (also its working directory, so data
 * directories left relative land there), its log lines parsed as they come (every process writes
 * to the primary's stdout, each line tagged with `process`: "primary", "p0", "p1"…).
 */
export interface LogLine {
  level: number;
  msg: string;
  process?: string;
  pid?: number;
  [k: string]: unknown;
}

export interface MultiProcess {
  child: ChildProcess;
  dir: string;
  lines: LogLine[];
  /** Everything written to stdout and stderr (for failure messages). */
  output(): string;
  /** Resolves with the child's exit status (or its signal name). */
  exited: Promise<number | string>;
  /** The first log line that matches, waiting for it. */
  waitLine(what: string, match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  close(): Promise<void>;
}

export function startMultiProcess(config: Record<string, unknown>, args: string[] = []): MultiProcess {
  const dir = mkdtempSync(join(tmpdir(), 'edge-processes-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/cli.js'), 'start', '--config', file, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let out = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      if (!p.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        // a line cut by another process's write: kept in output() only
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return {
    child,
    dir,
    lines,
    output: () => out,
    exited,
    waitLine: (what, match, timeoutMs = 20_000) => waitFor(what, () => lines.find(match), timeoutMs),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a process with this id still exists (signal 0 checks without sending). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which of `pids` holds the server side of a loopback TCP connection (Linux /proc): the socket
 * whose local port is `serverPort` and remote port `clientPort`, found in /proc/net/tcp by inode
 * and then among each process's descriptors. null when none of them holds it (or not on Linux).
 */
export function connectionHolder(serverPort: number, clientPort: number, pids: readonly number[]): number | null {
  const hexPort = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | null = null;
  try {
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[1]!.endsWith(`:${hexPort(serverPort)}`) && f[2]!.endsWith(`:${hexPort(clientPort)}`)) inode = f[9]!;
    }
  } catch {
    return null;
  }
  if (!inode) return null;
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // not ours to read, or gone
    }
  }
  return null;
}
