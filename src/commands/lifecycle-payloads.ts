/**
 * JSON of lifecycle events and retained queue entries (README "Device commands"). `meta` is spliced
 * in as the text the sender wrote, never re-serialised, so it comes back byte for byte.
 */
import type { ErrorCode } from '../errors.js';
import type { MessageValue } from '../protocol/types.js';
import { channelIdValue } from '../message/naming.js';

export type CommandStatus = 'queued' | 'sent' | 'processed' | 'expired' | 'canceled' | 'rejected';

/** flespi's device event codes for command steps (330 queued, 331 removed, 332 processed, 333 expired, 334 sent); rejected has none. */
const EVENT_CODES: Partial<Record<CommandStatus, number>> = { queued: 330, canceled: 331, processed: 332, expired: 333, sent: 334 };

export interface EventFields {
  id: string | null;
  name: string | null;
  properties: unknown;
  channelId: string;
  ident: string;
  timestampMs: number;
  attempt?: number;
  ttlS?: number;
  timeoutS?: number;
  executed?: boolean;
  response?: MessageValue;
  /** Facts of what the command produced, for commands the runtime completes (a stored file). */
  result?: Record<string, MessageValue>;
  code?: ErrorCode;
  reason?: string;
  /** `rejected` with EDGE_COMMAND_DUPLICATE: the status of the first command with the id. */
  firstStatus?: string;
}

/** `{...fields, "meta": <raw>}`: the object is stringified and meta appended as raw text. */
export function withRawMeta(obj: Record<string, unknown>, meta: string | null): string {
  const s = JSON.stringify(obj);
  return `${s.slice(0, -1)}${s.length > 2 ? ',' : ''}"meta":${meta ?? 'null'}}`;
}

export function eventPayload(status: CommandStatus, f: EventFields, meta: string | null): string {
  const o: Record<string, unknown> = {};
  const code = EVENT_CODES[status];
  if (code !== undefined) o.event_code = code;
  o.status = status;
  o.id = f.id;
  o.name = f.name;
  o.properties = f.properties ?? null;
  o['channel.id'] = channelIdValue(f.channelId);
  o.ident = f.ident;
  o.timestamp = f.timestampMs / 1000;
  if (f.attempt !== undefined) o.attempt = f.attempt;
  if (f.ttlS !== undefined) o.ttl = f.ttlS;
  if (f.timeoutS !== undefined) o.timeout = f.timeoutS;
  if (f.executed !== undefined) o.executed = f.executed;
  if (f.response !== undefined) o.response = f.response;
  if (f.result !== undefined) o.result = f.result;
  if (f.code !== undefined) o.code = f.code;
  if (f.reason !== undefined) o.reason = f.reason;
  if (f.firstStatus !== undefined) o.first_status = f.firstStatus;
  return withRawMeta(o, meta);
}

export interface QueueEntryFields {
  id: string;
  name: string;
  properties: Record<string, unknown>;
  status: 'queued' | 'sent';
  attempts: number;
  queuedAtMs: number;
  expiresAtMs: number;
  timestampMs: number;
}

export function queueEntryPayload(f: QueueEntryFields, meta: string | null): string {
  return withRawMeta(
    {
      id: f.id,
      name: f.name,
      properties: f.properties,
      status: f.status,
      attempts: f.attempts,
      queued: f.queuedAtMs / 1000,
      expires: f.expiresAtMs / 1000,
      timestamp: f.timestampMs / 1000,
    },
    meta,
  );
}
