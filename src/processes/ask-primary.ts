import { EdgeError, type ErrorCode } from '../errors.js';

let nextId = 0;

/**
 * A process of `processes` above 1 asks its primary over the cluster IPC channel: sends
 * `{type, id, ...body}` and resolves with the primary's message of `replyType` carrying that id.
 * Rejects with `code` when there is no IPC channel (not started by a primary) or no reply in time.
 */
export function askPrimary<R extends { type: string; id: number }>(type: string, body: Record<string, unknown>, replyType: string, code: ErrorCode, timeoutMs: number): Promise<R> {
  const send = process.send?.bind(process);
  if (!send) return Promise.reject(new EdgeError(code, 'not started by a primary (no IPC channel)'));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      process.off('message', onReply);
      fn();
    };
    const onReply = (m: unknown) => {
      const r = m as Partial<R> | null;
      if (r?.type === replyType && r.id === id) done(() => resolve(r as R));
    };
    const timer = setTimeout(() => done(() => reject(new EdgeError(code, `no answer from the primary within ${timeoutMs} ms`))), timeoutMs);
    process.on('message', onReply);
    send({ ...body, type, id });
  });
}
