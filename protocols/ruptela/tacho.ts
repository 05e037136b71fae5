/**
 * Remote tachograph download, device side (ref §8.2; README "Tachograph download"):
 *
 * ```
 * cmd 10 card APDU (V#10):     status i32 | subId u8 (3 = APDU) | packetStatus u8 | reserved u16 | command APDU
 * cmd 12 file announcement (V#8): storage u8 | size u32 | read time u32 | from u32 | to u32 | file CRC u16 | index u16
 * cmd 11 fragment (V#9):       index u16 | up to 1009 bytes of the DDD file
 * ```
 *
 * The decoder stays pure: the transfer's small state (key, announced size, bytes received, last
 * index, DDD label) is the connection's `session.tacho`; file bytes leave as `file-chunk` effects,
 * so a fragment's 111 ACK goes out only once its bytes are synced (the runtime holds a frame's
 * replies until its durable effects are done). A card APDU leaves as a `relay` effect to the card
 * bridge; the bridge's answer comes back to the device as command `tacho_card_response`.
 *
 * Transfer rules (the public reference leaves most of these open; chosen here, documented, tested):
 * - cmd 12 is always answered 111 ack 1 index 0xFFFF ("from the beginning", V#37) and starts a new
 *   transfer, replacing any unfinished one: a file the device has is stored, requested or not.
 *   An announced size of 0 is rejected (ack 2) — there is nothing to store.
 * - The first fragment after an announcement must have index 0 or 1 (the index base is unknown);
 *   each next one index + 1; its bytes go at the bytes received so far.
 * - The same index as the last one again (a lost ACK) is ACKed again without a second write.
 * - A gap, an out-of-order index or more bytes than announced fails the transfer: 111 ack 2 (the
 *   device drops the file), the waiting command ends executed false, the partial file stays ".part".
 * - A fragment with no announced transfer on this connection (a reconnect mid-transfer: the session
 *   is per connection) is rejected with ack 2; the download starts over (README).
 * - The file is complete when the bytes received equal the announced size.
 */
import type { ByteReader } from '../../src/codec/byte-reader.js';
import { toHex } from '../../src/codec/hex.js';
import type { CommandReply, DecodeEffect, DecodeWarning, FileChunkEffect, MessageValue, SessionState } from '../../src/protocol/types.js';
import { TACHO_ACK, TACHO_SUB_APDU, tachoAck } from './tacho-frames.js';

/** The reply key of `request_tachograph_file`: closed by the runtime when a `tacho` file is stored. */
export const TACHO_REPLY_KEY = 'media:tacho';
export const CARD_SERVICE = 'tacho-card';
export const CARD_ANSWER_COMMAND = 'tacho_card_response';
const FROM_START = 0xffff;
/**
 * The answer a refused card request gets (README "Company card access"): a response APDU with the
 * ISO 7816-4 status 69 85 "conditions of use not satisfied", as a card that will not take part
 * would answer. The protocol has no refusal frame of its own; the tachograph then fails the
 * authentication and the device reports the exchange as failed [G: no public capture of a refusal].
 */
export const CARD_REFUSAL = '6985';

/** Per-connection transfer state (`session.tacho`); null after a failure. */
export interface TachoTransfer {
  key: string;
  size: number;
  received: number;
  /** Index of the last fragment written; -1 before the first. */
  last: number;
  storage: number;
  readTime: number;
  from: number;
  to: number;
  /** DDD label read from the first bytes (ddd.ts), once the first fragment is in. */
  source: string | null;
  generation: number | null;
  done: boolean;
}

export interface TachoOptions {
  cardTimeoutMs: number;
  apduReplySubId: number;
}

export interface TachoResult {
  replies: Uint8Array[];
  effects: DecodeEffect[];
  commandReplies: CommandReply[];
  /** `session.tacho` patch; undefined = unchanged. */
  tacho?: TachoTransfer | null;
}

/** Status codes of cmd 10 (ref §8.2 [V]). */
const STATUS: Readonly<Record<number, string>> = {
  0: 'OK',
  [-1]: 'bad value',
  [-2]: 'bad parameter',
  [-3]: 'timeout',
  [-4]: 'negative answer',
  [-5]: 'busy',
  [-6]: 'driver card in flash',
  [-7]: 'bad SubID',
  [-8]: 'internal error',
};

const fail = (reason: string): CommandReply => ({ replyKey: TACHO_REPLY_KEY, executed: false, response: reason });
const finishCard = (reason: string): DecodeEffect => ({ kind: 'relay', service: CARD_SERVICE, request: { payload: null, finish: true, reason }, answer: null });

/** cmd 10: a company-card APDU to relay, or a status the device reports about the exchange. */
export function decodeCardRequest(r: ByteReader, opts: TachoOptions, warnings: DecodeWarning[]): TachoResult {
  const status = r.i32('status');
  const subId = r.u8('subId');
  const packetStatus = r.u8('packet status');
  r.skip(2, 'reserved');
  const apdu = r.rest();
  const out: TachoResult = { replies: [], effects: [], commandReplies: [] };
  if (status !== 0) {
    // the device gave up on the exchange: the card session ends and so does the request [G]
    const reason = `the device reported status ${status} (${STATUS[status] ?? 'unknown'}) in the card exchange`;
    out.effects.push(finishCard(reason));
    out.commandReplies.push(fail(reason));
    return out;
  }
  if (subId !== TACHO_SUB_APDU || apdu.length < 4) {
    warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `ruptela cmd 10 subId ${subId} with ${apdu.length} byte(s) is not a card APDU (subId 3, at least 4 bytes); not relayed` });
    return out;
  }
  out.effects.push({
    kind: 'relay',
    service: CARD_SERVICE,
    request: { payload: toHex(apdu), finish: false, 'packet.status': packetStatus },
    answer: { command: CARD_ANSWER_COMMAND, properties: { sub_id: opts.apduReplySubId }, timeoutMs: opts.cardTimeoutMs, replyKey: TACHO_REPLY_KEY, refusal: CARD_REFUSAL },
  });
  return out;
}

/** cmd 12: the device has downloaded a file and announces it. */
export function decodeAnnouncement(r: ByteReader, session: Readonly<SessionState>, warnings: DecodeWarning[]): TachoResult {
  const storage = r.u8('storage');
  const size = r.u32('file size');
  const readTime = r.u32('read time');
  const from = r.u32('period start');
  const to = r.u32('period end');
  r.u16('file CRC'); // algorithm unknown [U]; the vendor example carries 0
  const index = r.u16('packet index');
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after the tacho file announcement ignored` });
  // the authentication is over once the device has a file: the card session can close
  const effects: DecodeEffect[] = [finishCard('the device announced a downloaded file')];
  if (size === 0) {
    const reason = 'the device announced an empty tachograph file; rejected (ack 2)';
    warnings.push({ code: 'EDGE_DECODE_INVALID', reason });
    return { replies: [tachoAck(TACHO_ACK.reject, index)], effects, commandReplies: [fail(reason)], tacho: null };
  }
  const before = session.tacho as TachoTransfer | null | undefined;
  if (before && !before.done) warnings.push({ code: 'EDGE_DECODE_PARTIAL', reason: `a new tacho file announcement replaces the unfinished transfer ${before.key} (${before.received} of ${before.size} bytes)` });
  if (index !== FROM_START) warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `announcement index 0x${index.toString(16)}: resuming is not supported, the transfer starts from the beginning` });
  const tacho: TachoTransfer = { key: `ddd-${readTime}-${size}`, size, received: 0, last: -1, storage, readTime, from, to, source: null, generation: null, done: false };
  return { replies: [tachoAck(TACHO_ACK.accept, FROM_START)], effects, commandReplies: [], tacho };
}

/** cmd 11: one fragment of the announced file. */
export function decodeFragment(r: ByteReader, session: Readonly<SessionState>, label: (first: Uint8Array) => { source: string; generation: number | null; ddd: boolean }, warnings: DecodeWarning[]): TachoResult {
  const index = r.u16('packet index');
  const data = r.rest();
  const t = session.tacho as TachoTransfer | null | undefined;
  const reject = (reason: string, endsCommand: boolean): TachoResult => {
    warnings.push({ code: 'EDGE_DECODE_INVALID', reason });
    return { replies: [tachoAck(TACHO_ACK.reject, index)], effects: [], commandReplies: endsCommand ? [fail(reason)] : [], tacho: null };
  };
  if (!t) {
    // no transfer on this connection: a reconnect mid-transfer (or a device out of step). The command, if
    // any, was queued again when the old connection closed and starts the download over.
    return reject(`tacho fragment ${index} without an announced file on this connection; rejected (ack 2)`, false);
  }
  if (t.last >= 0 && index === t.last) {
    return { replies: [tachoAck(TACHO_ACK.accept, index)], effects: [], commandReplies: [] }; // a repeat: ACK again, no write
  }
  if (t.done) return reject(`tacho fragment ${index} after the complete file ${t.key}; rejected (ack 2)`, false);
  if (data.length === 0) return reject(`tacho fragment ${index} carries no data`, true);
  const expected = t.last < 0 ? null : t.last + 1;
  if (expected === null ? index > 1 : index !== expected) {
    return reject(`tacho fragment ${index} where ${expected === null ? '0 or 1' : expected} was expected (gap or out of order); transfer ${t.key} failed`, true);
  }
  if (t.received + data.length > t.size) {
    return reject(`tacho fragment ${index} brings the file to ${t.received + data.length} bytes, more than the ${t.size} announced; transfer ${t.key} failed`, true);
  }
  const next: TachoTransfer = { ...t, received: t.received + data.length, last: index };
  if (t.last < 0) {
    const l = label(data);
    next.source = l.source;
    next.generation = l.generation;
    if (!l.ddd) warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `tacho file ${t.key} does not start like a DDD file (VU 76 TREP or card EF_ICC header); stored as is` });
  }
  const final = next.received === t.size;
  next.done = final;
  const effect: FileChunkEffect = { kind: 'file-chunk', key: t.key, offset: t.received, bytes: data, final };
  if (final) {
    const meta: Record<string, MessageValue> = {
      'media.tacho.source': next.source,
      'media.tacho.generation': next.generation,
      'media.tacho.storage.enum': t.storage,
      'media.tacho.read.timestamp': t.readTime,
      'media.tacho.period.begin': t.from,
      'media.tacho.period.end': t.to,
    };
    // the warning travels with the file's message too: decode warnings alone are only counted per interval
    if (next.source === 'unknown') meta['media.tacho.warning'] = 'the file does not start like a DDD download (VU 76 TREP or card EF_ICC header)';
    effect.meta = meta;
    effect.file = { kind: 'tacho', name: `${t.key}.ddd` };
    effect.announce = 'media.tacho';
  }
  return { replies: [tachoAck(TACHO_ACK.accept, index)], effects: [effect], commandReplies: [], tacho: next };
}
