/**
 * Piscina worker entry: decodes a batch of frames. Workers own decoding and encoding only;
 * they never touch sockets or MQTT.
 */
import { getProtocol } from '../protocol/registry.js';
import { decodeFrames } from './decode-frames.js';
import type { DecodeTask, FrameOutcome } from './task-types.js';

export default async function decodeTask(task: DecodeTask): Promise<FrameOutcome[]> {
  const proto = await getProtocol(task.protocolId);
  return decodeFrames(proto, task);
}
