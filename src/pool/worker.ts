/**
 * Piscina worker entry: decodes a batch of frames, encodes a command, or parses a stored tachograph file. Workers own decoding and
 * encoding only; they never touch sockets or MQTT. Each worker thread keeps its own cache of
 * connection contexts (context-cache.ts).
 */
import { getProtocol } from '../protocol/registry.js';
import { toErrorInfo } from '../errors.js';
import { ContextCache } from './context-cache.js';
import { decodeFrames } from './decode-frames.js';
import { packOutcomes, type PackedOutcomes } from './packed-outcomes.js';
import { runDddTask } from './ddd-task.js';
import type { DddTask, DddTaskOutcome, DecodeTask, EncodeOutcome, EncodeTask } from './task-types.js';

const contexts = new ContextCache();

export default async function decodeTask(task: DecodeTask): Promise<PackedOutcomes> {
  const proto = await getProtocol(task.protocolId);
  return packOutcomes(decodeFrames(proto, task, contexts));
}

export async function encodeTask(task: EncodeTask): Promise<EncodeOutcome> {
  try {
    const proto = await getProtocol(task.protocolId);
    const e = proto.encode(task.command, task.session);
    return { bytes: e.bytes, replyKey: e.replyKey, ...(e.then ? { then: e.then } : {}) };
  } catch (e) {
    return { error: toErrorInfo(e) };
  }
}

/** A stored tachograph file (DecodePool.parseDdd). */
export function dddTask(task: DddTask): DddTaskOutcome {
  return runDddTask(task);
}
