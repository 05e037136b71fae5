/**
 * Ruptela device-frame decoder (worker side). Checks the frame (length + CRC-16/KERMIT, frame.ts),
 * reads the IMEI and dispatches on the command byte. A frame that fails a check throws an
 * EdgeError and is never acknowledged; a valid frame of a command this module does not decode
 * yet returns no messages, no reply and an EDGE_DECODE_UNSUPPORTED warning.
 *
 * ```
 *  0      2              10     11                2+len   4+len
 *  | len  | IMEI u64 BE  | cmd  | payload         | CRC16 |      len ≥ 9
 *  | len  | cmd | payload                         | CRC16 |      len 2..8: no IMEI (cmd 30 only, V#20)
 * ```
 *
 * The IMEI is a plain binary integer published as a decimal string without zero padding
 * (14-digit IMEIs exist, T#15). Messages built from server-side facts (identification, files)
 * use the receive time as their timestamp.
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { fromHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import { cleanText } from '../../src/protocol/message.js';
import type { CommandReply, DecodeContext, DecodeResult, DecodeWarning } from '../../src/protocol/types.js';
import { DEVICE_CMD, DEVICE_CMD_NAMES, FIXED_REPLY_HEX, MIN_DEVICE_LEN, MIN_IMEI_LEN } from './constants.js';
import { decodeDtc } from './dtc.js';
import { decodeFiles } from './files.js';
import { checkFrame } from './frame.js';
import { decodeDynamicIdentification, decodeIdentification } from './identification.js';
import { decodeRecords } from './records.js';
import { labelDdd } from './ddd.js';
import { decodeAnnouncement, decodeCardRequest, decodeFragment, type TachoResult } from './tacho.js';

/** Parsed once; each reply is a fresh copy because reply buffers may be transferred across threads. */
const REPLY = {
  records: fromHex(FIXED_REPLY_HEX.recordsAck),
  identification: fromHex(FIXED_REPLY_HEX.identificationAck),
  heartbeat: fromHex(FIXED_REPLY_HEX.heartbeatAck),
  dtc: fromHex(FIXED_REPLY_HEX.dtcAck),
} as const;

function unsupported(cmd: number, warnings: DecodeWarning[], session?: { ident: string }): DecodeResult {
  warnings.push({
    code: 'EDGE_DECODE_UNSUPPORTED',
    reason: `ruptela command ${cmd} (${DEVICE_CMD_NAMES[cmd] ?? 'unknown'}) is not decoded yet`,
  });
  return session === undefined ? { messages: [], replies: [], warnings } : { messages: [], replies: [], session, warnings };
}

/** Text replies 2/3/4/7 answer 102/103/104/108 (ref §5.3); the text is the command's result. */
const TEXT_REPLY_CMDS: ReadonlySet<number> = new Set([
  DEVICE_CMD.configurationReply,
  DEVICE_CMD.versionReply,
  DEVICE_CMD.firmwareReply,
  DEVICE_CMD.textReply,
]);

function optionNumber(ctx: DecodeContext, key: string, dflt: number): number {
  const v = ctx.options[key];
  return typeof v === 'number' ? v : dflt;
}

function tachoResult(t: TachoResult, session: { ident: string }, warnings: DecodeWarning[]): DecodeResult {
  const result: DecodeResult = { messages: [], replies: t.replies, session: t.tacho === undefined ? session : { ...session, tacho: t.tacho }, warnings };
  if (t.effects.length > 0) result.effects = t.effects;
  if (t.commandReplies.length > 0) result.commandReplies = t.commandReplies;
  return result;
}

export function decode(frame: Uint8Array, ctx: DecodeContext): DecodeResult {
  const len = checkFrame(frame, MIN_DEVICE_LEN);
  const warnings: DecodeWarning[] = [];
  const end = 2 + len;
  if (len < MIN_IMEI_LEN) {
    const cmd = frame[2]!;
    if (cmd === DEVICE_CMD.garminStatus) return unsupported(cmd, warnings);
    throw new EdgeError('EDGE_DECODE_INVALID', `length ${len} leaves no room for an IMEI; only cmd 30 is sent without one, got cmd ${cmd}`, 2);
  }
  const r = new ByteReader(frame, 0, end);
  r.skip(2, 'length');
  const ident = r.u64('IMEI').toString();
  const cmd = r.u8('command');
  const session = { ident };
  const receivedAtS = ctx.receivedAtMs / 1000;

  switch (cmd) {
    case DEVICE_CMD.records:
    case DEVICE_CMD.recordsExtended: {
      const messages = decodeRecords(r, cmd === DEVICE_CMD.recordsExtended, ident, warnings);
      return { messages, replies: [REPLY.records.slice()], session, warnings };
    }
    case DEVICE_CMD.dtc: {
      const messages = decodeDtc(r, ident, warnings);
      return { messages, replies: [REPLY.dtc.slice()], session, warnings };
    }
    case DEVICE_CMD.identification:
      return {
        messages: [decodeIdentification(r, ident, receivedAtS, warnings)],
        replies: [REPLY.identification.slice()],
        session,
        warnings,
      };
    case DEVICE_CMD.dynamicIdentification:
      return {
        messages: [decodeDynamicIdentification(r, ident, receivedAtS, warnings)],
        replies: [REPLY.identification.slice()],
        session,
        warnings,
      };
    case DEVICE_CMD.heartbeat:
      if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) in a heartbeat ignored` });
      return { messages: [], replies: [REPLY.heartbeat.slice()], session, warnings };
    case DEVICE_CMD.setIoResult: {
      const result = r.u8('set-IO result');
      if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after the set-IO result ignored` });
      // 0 = success, 1 = failed, 2 = not supported: the inverse of the ACK convention (ref §4.2)
      const commandReplies: CommandReply[] = [{ replyKey: 'ruptela:17', executed: result === 0, response: result }];
      return { messages: [], replies: [], session, warnings, commandReplies };
    }
    case DEVICE_CMD.files: {
      const f = decodeFiles(r, ident, receivedAtS, warnings, ctx.session);
      const result: DecodeResult = { messages: f.messages, replies: f.replies, session: { ...session, ...f.session }, warnings };
      if (f.commandReplies.length > 0) result.commandReplies = f.commandReplies;
      if (f.effects.length > 0) result.effects = f.effects;
      return result;
    }
    case DEVICE_CMD.tachoTransaction:
      return tachoResult(decodeCardRequest(r, { cardTimeoutMs: optionNumber(ctx, 'tacho_card_timeout_s', 20) * 1000, apduReplySubId: optionNumber(ctx, 'tacho_apdu_reply_sub_id', 3) }, warnings), session, warnings);
    case DEVICE_CMD.tachoFileInfo:
      return tachoResult(decodeAnnouncement(r, ctx.session, warnings), session, warnings);
    case DEVICE_CMD.tachoData:
      return tachoResult(decodeFragment(r, ctx.session, labelDdd, warnings), session, warnings);
    default:
      if (TEXT_REPLY_CMDS.has(cmd)) {
        const text = r.ascii(r.remaining, 'reply text');
        return { messages: [], replies: [], session, warnings, commandReplies: [{ replyKey: `ruptela:${cmd}`, executed: true, response: cleanText(text) }] };
      }
      return unsupported(cmd, warnings, session);
  }
}
