import type { Message } from '../protocol/types.js';
import { messageId } from './message-id.js';
import { channelIdValue } from './naming.js';

/**
 * The message envelope: what the server adds to every decoded message. Built in the decode worker
 * as text, because appending a suffix to the decoder's JSON is one string concat where copying the
 * object is a per-key walk (bench/decode). Keys, in this order after the decoder's own:
 * `message.id` (stable across resends, message-id.ts), `server.timestamp` (receive time, s),
 * `channel.id`, `protocol.id`, `peer`.
 *
 * `channel.id` is a JSON number when the id is all digits (as users write `id: 1`), else a string.
 */
export class EnvelopeWriter {
  private readonly channelJson: string;
  private readonly protoJson: string;

  constructor(
    private readonly channelId: string,
    protocolId: string,
  ) {
    this.channelJson = JSON.stringify(channelIdValue(channelId));
    this.protoJson = JSON.stringify(protocolId);
  }

  /** The part that is the same for every message of one frame. */
  frameSuffix(receivedAtMs: number, peer: string): string {
    return `,"server.timestamp":${receivedAtMs / 1000},"channel.id":${this.channelJson},"protocol.id":${this.protoJson},"peer":${JSON.stringify(peer)}}`;
  }

  /** The published JSON of one message (its `ident` already set). */
  payload(msg: Message, ident: string, frameSuffix: string): string {
    const json = JSON.stringify(msg);
    const idField = `,"message.id":${JSON.stringify(messageId(this.channelId, ident, msg.timestamp, json))}`;
    return json.length > 2 ? json.slice(0, -1) + idField + frameSuffix : '{' + idField.slice(1) + frameSuffix;
  }
}

/**
 * Adds fields to a published payload on the main thread (the enrichment hook: assets add
 * `asset.*`, commands add `command.id`). `fields` is a JSON object text; its keys go before the
 * closing brace. Returns the payload unchanged for an empty object.
 */
export function withFields(payload: string, fields: string): string {
  if (fields.length <= 2) return payload;
  return payload.slice(0, -1) + ',' + fields.slice(1);
}
