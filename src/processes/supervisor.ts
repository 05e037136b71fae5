import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../util/log.js';
import { RestartPolicy } from './restart-policy.js';

/** What a process sends its primary once its channels listen (startApp returned). */
export const READY_MESSAGE = 'edge-channel:ready';

export interface SupervisorOptions {
  count: number;
  log: Logger;
  /** The environment of process `index` (its plan and index: process-plan.ts). */
  env(index: number): Record<string, string>;
  /** A graceful stop that takes longer (the processes' shutdown_timeout_s and a margin) ends with SIGKILL. */
  stopTimeoutMs: number;
  policy?: RestartPolicy;
  now?: () => number;
}

interface Slot {
  index: number;
  worker: Worker | null;
  /** Reported ready at least once (a process that exits 2 before that could not start). */
  wasReady: boolean;
  restart: NodeJS.Timeout | null;
}

/**
 * The primary of `processes: N` (Node's cluster module): forks N processes that each run the
 * whole server (cli/start-worker.ts), starts again one that dies (restart-policy.ts), forwards
 * signals, and says with its exit status how it ended: 0 after a requested stop, 1 when a process
 * kept dying (or had to be killed at stop), 2 when a process could not start (a config or port
 * problem that a restart would only repeat). It opens no socket of its own: with `balance:
 * primary` the cluster module inside it holds the shared TCP listeners, with `reuseport` nothing.
 */
export class Supervisor {
  /** Resolves with the exit status once every process is gone. */
  readonly done: Promise<number>;
  /** Resolves once every process reported ready (the first start); never, when the start fails. */
  readonly allReady: Promise<void>;
  private readonly slots: Slot[];
  private readonly policy: RestartPolicy;
  private readonly now: () => number;
  private stopping = false;
  private status = 0;
  private killTimer: NodeJS.Timeout | null = null;
  private finish!: (status: number) => void;
  private ready!: () => void;

  constructor(private readonly o: SupervisorOptions) {
    this.slots = Array.from({ length: o.count }, (_, index) => ({ index, worker: null, wasReady: false, restart: null }));
    this.policy = o.policy ?? new RestartPolicy();
    this.now = o.now ?? Date.now;
    this.done = new Promise((r) => (this.finish = r));
    this.allReady = new Promise((r) => (this.ready = r));
  }

  start(): void {
    // Node's default on Linux, made explicit: with SCHED_NONE (NODE_CLUSTER_SCHED_POLICY=none) every
    // process would accept on one shared socket, and the kernel wakes the same few busiest ones
    cluster.schedulingPolicy = cluster.SCHED_RR;
    // the processes run this same program with the same arguments; their stdout is this one's
    cluster.setupPrimary({ silent: false });
    for (const s of this.slots) this.fork(s);
  }

  /** Process ids by index (null while one is being restarted). */
  pids(): (number | null)[] {
    return this.slots.map((s) => s.worker?.process.pid ?? null);
  }

  /** SIGHUP and the like: passed to every live process. */
  signal(sig: NodeJS.Signals): void {
    for (const s of this.slots) s.worker?.process.kill(sig);
  }

  /** Graceful stop of every process (SIGTERM: each finishes its in-flight frames), SIGKILL after stopTimeoutMs. */
  stop(status = 0): void {
    if (this.stopping) return;
    this.stopping = true;
    this.status = Math.max(this.status, status);
    for (const s of this.slots) {
      if (s.restart) clearTimeout(s.restart);
      s.restart = null;
      s.worker?.process.kill('SIGTERM');
    }
    this.killTimer = setTimeout(() => {
      const left = this.slots.filter((s) => s.worker);
      this.o.log.error({ workers: left.map((s) => `p${s.index}`) }, `${left.length} process(es) did not stop within ${this.o.stopTimeoutMs} ms; killing them`);
      this.kill();
    }, this.o.stopTimeoutMs);
    this.settleIfDone();
  }

  /** Every process killed at once (a second Ctrl-C, or the stop timeout). */
  kill(): void {
    this.stopping = true;
    this.status = Math.max(this.status, 1);
    for (const s of this.slots) s.worker?.process.kill('SIGKILL');
    this.settleIfDone();
  }

  private fork(s: Slot): void {
    s.restart = null;
    const w = cluster.fork(this.o.env(s.index));
    s.worker = w;
    w.on('message', (m: unknown) => {
      if ((m as { type?: unknown } | null)?.type !== READY_MESSAGE) return;
      const pid = w.process.pid;
      if (s.wasReady) {
        this.o.log.info({ worker: `p${s.index}`, worker_pid: pid }, `process ${s.index} is back (pid ${pid})`);
        return;
      }
      s.wasReady = true;
      this.o.log.debug({ worker: `p${s.index}`, worker_pid: pid }, `process ${s.index} ready (pid ${pid})`);
      if (this.slots.every((x) => x.wasReady)) this.ready();
    });
    w.on('error', (e: Error) => this.o.log.warn({ worker: `p${s.index}`, err: e.message }, `process ${s.index}: IPC error`));
    w.on('exit', (code: number | null, signal: string | null) => this.exited(s, w, code, signal));
  }

  private exited(s: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (s.worker !== w) return;
    s.worker = null;
    const pid = w.process.pid;
    if (this.stopping) {
      this.o.log.debug({ worker: `p${s.index}`, worker_pid: pid, exit_code: code, signal }, `process ${s.index} stopped`);
      this.settleIfDone();
      return;
    }
    if (!s.wasReady && code === 2) {
      this.o.log.fatal({ code: 'EDGE_PROCESS_CRASH_LOOP', worker: `p${s.index}`, worker_pid: pid }, `EDGE_PROCESS_CRASH_LOOP: process ${s.index} could not start (exit status 2; its log line above says why); stopping every process`);
      this.stop(2);
      return;
    }
    const nowMs = this.now();
    const wait = this.policy.exited(s.index, nowMs);
    const how = signal ? `signal ${signal}` : `exit status ${code}`;
    if (wait === null) {
      this.o.log.fatal({ code: 'EDGE_PROCESS_CRASH_LOOP', worker: `p${s.index}`, worker_pid: pid, exit_code: code, signal }, `EDGE_PROCESS_CRASH_LOOP: process ${s.index} died ${this.policy.maxExits} times within ${this.policy.windowMs / 1000} s (last: ${how}); stopping every process`);
      this.stop(1);
      return;
    }
    this.o.log.error({ code: 'EDGE_PROCESS_EXITED', worker: `p${s.index}`, worker_pid: pid, exit_code: code, signal, restart_in_ms: wait }, `EDGE_PROCESS_EXITED: process ${s.index} (pid ${pid}) exited (${how}); starting it again in ${wait} ms`);
    s.restart = setTimeout(() => this.fork(s), wait);
  }

  private settleIfDone(): void {
    if (!this.stopping || this.slots.some((s) => s.worker)) return;
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = null;
    this.finish(this.status);
  }
}
