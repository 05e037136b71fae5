/**
 * What follows a 0x0200 that reports active-safety alarms with attachments (Subiao T/JSATL12 §4.5,
 * README.md "Alarm attachments"): for each such alarm a 0x9208 on the device's connection, written
 * right after the 0x8001 (a `server-frame` effect), and an `upload` `expect` effect so the runtime
 * remembers the pair (alarm identification, alarm number) until the upload finishes or times out.
 *
 * The alarm number (32 bytes, "chosen by the platform") is derived, not drawn: the first 32 hex
 * digits of SHA-256 over the listener's salt, the ident, the item and its identification, as ASCII.
 * Derived keeps the decoder pure (no random source), makes a re-sent 0x0200 (lost ACK) name the same
 * upload instead of opening a second one, and stays unique because the identification holds the
 * alarm's time and sequence. The salt is drawn by the runtime once per channel start and handed over
 * with the address, so a number cannot be computed by someone who knows the alarm (the attachment
 * link has no authentication of its own); the runtime also accepts an upload only for a number it
 * issued to that device.
 *
 * Where the device uploads: the runtime puts the attachment listener's address into the session of
 * every main-link connection (`serverParts.attachments`: the part's `advertise_host`, else the local
 * address the device connected to, and the listener's port). Without it (no attachment listener
 * configured, or the CLI decoding offline) nothing is requested and the alarm is published as usual.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../src/codec/hex.js';
import type { DecodeEffect, MessageValue, SessionState } from '../../src/protocol/types.js';
import type { SafetyAlarm } from './active-safety.js';
import { ALARM_NUMBER_BYTES, uploadRequestBody } from './attachments/layouts.js';

/** The attachment listener's address as the runtime writes it into the main link's session. */
export interface PartAddress {
  host: string;
  tcp_port: number;
  /** Random per channel start (hex); mixed into alarm numbers. */
  salt: string;
}

export function attachmentServer(session: Readonly<SessionState>): PartAddress | null {
  const parts = session.serverParts as Record<string, unknown> | undefined;
  const a = parts?.attachments as Partial<PartAddress> | undefined;
  if (!a || typeof a.host !== 'string' || a.host === '' || typeof a.tcp_port !== 'number' || a.tcp_port <= 0) return null;
  return { host: a.host, tcp_port: a.tcp_port, salt: typeof a.salt === 'string' ? a.salt : '' };
}

/** 32 ASCII hex digits naming one alarm's upload. */
export function alarmNumberFor(salt: string, ident: string, alarm: SafetyAlarm): Uint8Array {
  const digest = createHash('sha256').update(`jt808-alarm|${salt}|${ident}|${alarm.source}|${alarm.alarmId}|${toHex(alarm.identification)}`).digest('hex');
  const out = new Uint8Array(ALARM_NUMBER_BYTES);
  for (let i = 0; i < ALARM_NUMBER_BYTES; i++) out[i] = digest.charCodeAt(i);
  return out;
}

/** The alarm's fields for the message that links it to its stored files. */
export function alarmMeta(alarm: SafetyAlarm, alarmNumber: Uint8Array): Record<string, MessageValue> {
  const p = alarm.source;
  const meta: Record<string, MessageValue> = {
    'alarm.source': p,
    'alarm.number': String.fromCharCode(...alarmNumber),
    [`${p}.alarm.id`]: alarm.alarmId,
    [`${p}.alarm.label`]: toHex(alarm.identification),
    [`${p}.alarm.attachments.count`]: alarm.attachments,
  };
  if (alarm.type !== null) meta[`${p}.alarm.type.enum`] = alarm.type;
  return meta;
}

/**
 * 0x9208 frames (built by `frame(msgId, body)`, which numbers them with the platform serial) and
 * `expect` effects for the alarms that announce attachments.
 */
export function attachmentRequests(alarms: readonly SafetyAlarm[], ident: string, session: Readonly<SessionState>, frame: (msgId: number, body: Uint8Array) => Uint8Array): DecodeEffect[] {
  const server = attachmentServer(session);
  if (!server) return [];
  const effects: DecodeEffect[] = [];
  for (const alarm of alarms) {
    if (alarm.attachments === 0) continue;
    const number = alarmNumberFor(server.salt, ident, alarm);
    effects.push({ kind: 'upload', upload: { op: 'expect', key: toHex(number), meta: alarmMeta(alarm, number) } });
    effects.push({ kind: 'server-frame', bytes: frame(0x9208, uploadRequestBody(server.host, server.tcp_port, 0, alarm.identification, number)) });
  }
  return effects;
}
