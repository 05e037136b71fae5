import cluster, { type Worker } from 'node:cluster';
import { askPrimary } from './ask-primary.js';

/**
 * Questions process 0's HTTP API asks every process (config `processes` above 1): which channels
 * have how many connections, which devices a process has seen. Process 0 sends the question to the
 * primary (the only one that can reach every process), the primary sends it on to each running
 * process, and sends back their answers together, by process index. A process that is being
 * restarted, or does not answer in time, is listed as missing: the caller says the figures are
 * partial instead of passing part of the box off as all of it.
 */
const ASK = 'edge-channel:ask';
const QUERY = 'edge-channel:query';
const ANSWER = 'edge-channel:answer';
const RESULT = 'edge-channel:result';

/** What serveQueries uses of Node's cluster module in the primary (a test passes a stand-in). */
export interface PrimarySide {
  readonly workers?: NodeJS.Dict<Worker>;
  on(event: 'message', fn: (worker: Worker, m: unknown) => void): unknown;
  off(event: 'message', fn: (worker: Worker, m: unknown) => void): unknown;
}

export interface ProcessAnswer<T> {
  index: number;
  value: T;
}

export interface BoxAnswers<T> {
  answers: ProcessAnswer<T>[];
  /** Processes that did not answer (restarting, failed or too slow), by index, with the reason. */
  missing: { index: number; reason: string }[];
}

export type QueryHandler = (arg: unknown) => unknown;

interface Query {
  type: typeof QUERY;
  qid: number;
  kind: string;
  arg: unknown;
}
interface Answer {
  type: typeof ANSWER;
  qid: number;
  index: number;
  value?: unknown;
  error?: string;
}
interface Result {
  type: typeof RESULT;
  id: number;
  result: BoxAnswers<unknown>;
}

/** Every process: answers the primary's questions with its handlers. Returns the remover. */
export function answerQueries(index: number, handlers: Readonly<Record<string, QueryHandler>>): () => void {
  const onMessage = (m: unknown) => {
    const q = m as Partial<Query> | null;
    if (q?.type !== QUERY || typeof q.qid !== 'number' || typeof q.kind !== 'string') return;
    const { qid, kind } = q;
    Promise.resolve()
      .then(() => {
        if (!Object.hasOwn(handlers, kind)) throw new Error(`process ${index} has no answer for "${kind}"`);
        return handlers[kind]!(q.arg);
      })
      .then(
        (value) => process.send?.({ type: ANSWER, qid, index, value } satisfies Answer),
        (e: unknown) => process.send?.({ type: ANSWER, qid, index, error: e instanceof Error ? e.message : String(e) } satisfies Answer),
      );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** Process 0: every process's answer (its own included), through the primary. */
export async function askEveryProcess<T>(kind: string, arg: unknown, timeoutMs = 5_000): Promise<BoxAnswers<T>> {
  // the primary answers within its own timeout (listing the slow ones as missing); this one only covers a primary that is gone
  const r = await askPrimary<Result>(ASK, { kind, arg }, RESULT, 'EDGE_PROCESSES_UNANSWERED', timeoutMs + 1_000);
  return r.result as BoxAnswers<T>;
}

/**
 * The primary of `count` processes: passes each question on to every running process and returns
 * the answers, listing every index without one as missing. Returns the remover.
 */
export function serveQueries(count: number, timeoutMs = 5_000, c: PrimarySide = cluster): () => void {
  let nextQuery = 0;
  const pending = new Map<number, { from: Worker; id: number; waiting: Set<number>; result: BoxAnswers<unknown>; timer: NodeJS.Timeout }>();
  const finish = (qid: number) => {
    const p = pending.get(qid);
    if (!p) return;
    pending.delete(qid);
    clearTimeout(p.timer);
    p.result.answers.sort((a, b) => a.index - b.index);
    const known = new Set([...p.result.answers.map((a) => a.index), ...p.result.missing.map((x) => x.index)]);
    for (let i = 0; i < count; i++) if (!known.has(i)) p.result.missing.push({ index: i, reason: `no answer (not running, or slower than ${timeoutMs} ms)` });
    p.result.missing.sort((a, b) => a.index - b.index);
    if (p.from.isConnected()) p.from.send({ type: RESULT, id: p.id, result: p.result } satisfies Result);
  };
  const onMessage = (worker: Worker, m: unknown) => {
    const msg = m as { type?: unknown; id?: unknown; kind?: unknown; arg?: unknown; qid?: unknown; index?: unknown; value?: unknown; error?: unknown } | null;
    if (msg?.type === ASK && typeof msg.id === 'number' && typeof msg.kind === 'string') {
      const qid = nextQuery++;
      const targets = Object.values(c.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
      const timer = setTimeout(() => finish(qid), timeoutMs);
      pending.set(qid, { from: worker, id: msg.id, waiting: new Set(targets.map((w) => w.id)), result: { answers: [], missing: [] }, timer });
      for (const w of targets) w.send({ type: QUERY, qid, kind: msg.kind, arg: msg.arg } satisfies Query);
      if (targets.length === 0) finish(qid);
      return;
    }
    if (msg?.type === ANSWER && typeof msg.qid === 'number') {
      const p = pending.get(msg.qid);
      if (!p || !p.waiting.delete(worker.id)) return;
      const index = typeof msg.index === 'number' ? msg.index : -1;
      if (typeof msg.error === 'string') p.result.missing.push({ index, reason: msg.error });
      else p.result.answers.push({ index, value: msg.value });
      if (p.waiting.size === 0) finish(msg.qid);
    }
  };
  c.on('message', onMessage);
  return () => {
    c.off('message', onMessage);
    for (const qid of [...pending.keys()]) finish(qid);
  };
}
