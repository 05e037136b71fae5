import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import { askEveryProcess, serveQueries, type PrimarySide } from './cluster-query.js';

/** A stand-in for the cluster module of a primary with workers that answer (or not) as told. */
function primary(count: number, behave: (index: number, q: { qid: number; kind: string; arg: unknown }) => Record<string, unknown> | null) {
  const bus = new EventEmitter();
  const sent: { to: number; m: Record<string, unknown> }[] = [];
  const workers: NodeJS.Dict<Worker> = {};
  for (let index = 0; index < count; index++) {
    const id = 100 + index;
    const w = {
      id,
      isConnected: () => true,
      send(m: Record<string, unknown>) {
        sent.push({ to: index, m });
        if (m.type === 'edge-channel:query') {
          const a = behave(index, m as unknown as { qid: number; kind: string; arg: unknown });
          if (a) setImmediate(() => bus.emit('message', w, { type: 'edge-channel:answer', qid: m.qid, index, ...a }));
        }
        return true;
      },
    } as unknown as Worker;
    workers[String(id)] = w;
  }
  const side: PrimarySide = { workers, on: (e, fn) => bus.on(e, fn), off: (e, fn) => bus.off(e, fn) };
  const ask = (from: number, kind: string, arg: unknown) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const before = sent.length;
      bus.emit('message', workers[String(100 + from)], { type: 'edge-channel:ask', id: 7, kind, arg });
      const t = setInterval(() => {
        const r = sent.slice(before).find((s) => s.to === from && s.m.type === 'edge-channel:result');
        if (r) {
          clearInterval(t);
          resolve(r.m);
        }
      }, 5);
    });
  return { side, ask, sent };
}

test('the primary passes a question to every process and returns their answers by index, with the arguments', async () => {
  const p = primary(3, (index, q) => ({ value: { index, kind: q.kind, arg: q.arg } }));
  const stop = serveQueries(3, 1_000, p.side);
  try {
    const r = await p.ask(0, 'channels', { limit: 5 });
    assert.equal(r.id, 7);
    assert.deepEqual(r.result, {
      answers: [0, 1, 2].map((index) => ({ index, value: { index, kind: 'channels', arg: { limit: 5 } } })),
      missing: [],
    });
  } finally {
    stop();
  }
});

test('a process that fails, one that does not answer and one not running are listed as missing, with the reason', async () => {
  // four processes planned; index 3 is being restarted (not among the workers)
  const p = primary(3, (index) => (index === 1 ? { error: 'boom' } : index === 2 ? null : { value: 'ok' }));
  const stop = serveQueries(4, 200, p.side);
  try {
    const r = await p.ask(0, 'devices', null);
    assert.deepEqual(r.result, {
      answers: [{ index: 0, value: 'ok' }],
      missing: [
        { index: 1, reason: 'boom' },
        { index: 2, reason: 'no answer (not running, or slower than 200 ms)' },
        { index: 3, reason: 'no answer (not running, or slower than 200 ms)' },
      ],
    });
  } finally {
    stop();
  }
});

test('without a primary (no IPC channel) the question is refused with a code', async () => {
  await assert.rejects(askEveryProcess('channels', null, 100), (e: Error & { code?: string }) => e.code === 'EDGE_PROCESSES_UNANSWERED');
});
