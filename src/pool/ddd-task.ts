import { toErrorInfo } from '../errors.js';
import { downloadOutcome } from '../tacho/ddd/download-messages.js';
import { parseDdd, summarize } from '../tacho/ddd/index.js';
import type { DddTask, DddTaskOutcome } from './task-types.js';

/**
 * A stored tachograph file: the document, its summary fields and (when asked) its activity
 * messages; a corrupt or truncated file is its EDGE_DDD_* error with the file offset, never a throw.
 * Runs in a worker (worker.ts `dddTask`) or inline (DecodePool without threads).
 */
export function runDddTask(task: DddTask): DddTaskOutcome {
  try {
    const doc = parseDdd(task.bytes, { roots: task.roots, strict: task.strict });
    return { ok: downloadOutcome(doc, summarize(doc), task.activities) };
  } catch (e) {
    return { error: toErrorInfo(e) };
  }
}
