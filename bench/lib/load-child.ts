import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadEvent, LoadMessage, LoadReplies, LoadReply, LoadRequest } from './load-protocol.js';

/**
 * Starts bench/lib/load-worker.js in its own process and talks to it over IPC.
 *
 * The child is started through `bash -c 'ulimit -n N; exec node …'` so it can hold more sockets
 * than the bench process's soft limit allows (ulimit is per process; raising the soft limit up to
 * the hard one needs no privilege). The IPC channel (fd 3, NODE_CHANNEL_FD) survives the exec.
 */
export interface LoadChild {
  readonly pid: number;
  call<K extends LoadRequest['type']>(req: Extract<LoadRequest, { type: K }>): Promise<LoadReplies[K]>;
  /** Called for the child's measure-start / measure-end notes. */
  onEvent: ((e: LoadEvent['event']) => void) | null;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./load-worker.js', import.meta.url));

export async function startLoadChild(opts: { nofile?: number; nodeArgs?: string[] } = {}): Promise<LoadChild> {
  const limit = opts.nofile ? `ulimit -n ${opts.nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; ` : '';
  const child: ChildProcess = spawn('bash', ['-c', `${limit}exec "$0" "$@"`, process.execPath, ...(opts.nodeArgs ?? []), WORKER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const self = { onEvent: null } as { onEvent: ((e: LoadEvent['event']) => void) | null };
  child.on('message', (m: LoadReply | LoadEvent) => {
    if ('event' in m) {
      self.onEvent?.(m.event);
      return;
    }
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(`load child: ${m.error}`));
  });
  child.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`load child exited (${code ?? signal})`));
    waiting.clear();
  });
  return Object.assign(self, {
    pid: child.pid!,
    call<K extends LoadRequest['type']>(req: Extract<LoadRequest, { type: K }>): Promise<LoadReplies[K]> {
      const id = nextId++;
      return new Promise<LoadReplies[K]>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, req } satisfies LoadMessage);
      });
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.disconnect();
      });
    },
  });
}
