/**
 * JT/T 808 device-frame decoder (worker side): un-escape, check (frame.ts), then dispatch on the
 * message id. Every message that the standard acknowledges with 0x8001 gets it, carrying the
 * platform's own serial from the session (`platformSerial`, incremented per reply); registration
 * gets 0x8100 with the terminal's auth code; a complete 0x0801 gets 0x8800.
 *
 * ```
 *  7E | msgId | attr | [ver] | phone | serial | [total | index] | body | XOR | 7E   (frame.ts)
 * ```
 *
 * Sub-packaged messages: each sub-package is acknowledged with 0x8001 and handed to the runtime as a
 * `reassemble` effect (key: message id + first serial; the first part carries the header). Once all
 * parts are in, the runtime decodes the joined message (`ctx.reassembled`, readJoinedHeader): its
 * messages are published and only non-general answers (0x8800) are sent, since every part already got
 * its 0x8001.
 *
 * Not decoded (valid frame → no message, no reply, EDGE_DECODE_UNSUPPORTED warning, so it is
 * logged and not acknowledged): RSA-encrypted bodies and message ids outside the support matrix in
 * README.md.
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { EdgeError } from '../../src/errors.js';
import type { CommandReply, DecodeContext, DecodeEffect, DecodeResult, DecodeWarning, Message, SessionState } from '../../src/protocol/types.js';
import type { SafetyAlarm } from './active-safety.js';
import { attachmentRequests } from './alarm-server-frames.js';
import { BASIC_BLOCK_BYTES } from './basic-block.js';
import { MSG, MSG_NAMES, RESULT_OK } from './constants.js';
import { buildFrame, identFromPhone, readHeader, readJoinedHeader, unescapeFrame, type Header } from './frame.js';
import { decodeBasic, decodeLocation, type LocationContext } from './location.js';
import { decodeMediaHeader, mediaResponseBody, MEDIA_HEADER_BYTES } from './multimedia.js';
import { readOptions } from './options.js';
import { generalResponse, parameterAnswer, photoAnswer, recordingList } from './responses.js';
import { authCodeFor, decodeAuthentication, decodeRegistration } from './session-messages.js';

/** Session keys this protocol keeps (plain JSON, see README "Session"). */
export interface Jt808Session extends SessionState {
  platformSerial?: number;
  jt808Version?: 2013 | 2019;
}

function platformSerialOf(s: Readonly<SessionState>): number {
  const v = s.platformSerial;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : 0;
}

class Replies {
  readonly frames: Uint8Array[] = [];
  private serial: number;
  constructor(
    private readonly h: Header,
    session: Readonly<SessionState>,
    /** A joined message: its parts were each answered with 0x8001 already. */
    private readonly noGeneral = false,
  ) {
    this.serial = platformSerialOf(session);
  }
  add(msgId: number, body: Uint8Array): void {
    this.frames.push(buildFrame(msgId, this.h.phone, this.serial, body, this.h.version));
    this.serial = (this.serial + 1) & 0xffff;
  }
  /** 0x8001: terminal serial | terminal msg id | result. */
  general(result = RESULT_OK): void {
    if (this.noGeneral) return;
    const h = this.h;
    this.add(MSG.platformGeneralResponse, Uint8Array.of(h.serial >>> 8, h.serial & 0xff, h.msgId >>> 8, h.msgId & 0xff, result));
  }
  get nextSerial(): number {
    return this.serial;
  }
  /** A server-initiated frame (e.g. 0x9208) numbered in the same platform serial sequence, not a reply. */
  serverFrame(msgId: number, body: Uint8Array): Uint8Array {
    const f = buildFrame(msgId, this.h.phone, this.serial, body, this.h.version);
    this.serial = (this.serial + 1) & 0xffff;
    return f;
  }
}

export function decode(wire: Uint8Array, ctx: DecodeContext): DecodeResult {
  const options = readOptions(ctx.options);
  const joined = ctx.reassembled === true;
  const f = joined ? wire : unescapeFrame(wire);
  const { header: h, checkMismatch } = joined ? { header: readJoinedHeader(wire), checkMismatch: null } : readHeader(f, options.lenient_check);
  const warnings: DecodeWarning[] = [];
  if (checkMismatch) {
    warnings.push({ code: 'EDGE_DECODE_CHECKSUM', reason: `XOR check byte ${checkMismatch[0].toString(16)} on the wire, ${checkMismatch[1].toString(16)} computed: accepted because lenient_check is on` });
  }
  const ident = identFromPhone(h.phoneHex);
  const session: Jt808Session = { ident, jt808Version: h.version };
  const end = joined ? f.length : f.length - 2;
  const receivedAtS = ctx.receivedAtMs / 1000;
  const id = h.msgId;

  const unsupported = (why: string): DecodeResult => {
    warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `jt808 message 0x${id.toString(16).padStart(4, '0')} ${why}` });
    return { messages: [], replies: [], session, warnings };
  };
  if (h.encrypted) return unsupported('has an encrypted body (RSA), which is not supported');
  if (h.subpackage && !joined) return subpackage(f, h, end, ctx.session, session, warnings);

  const r = new ByteReader(f, 0, end);
  r.pos = h.bodyStart;
  const replies = new Replies(h, ctx.session, joined);
  const messages: Message[] = [];
  let commandReplies: CommandReply[] | undefined;
  let effects: DecodeEffect[] | undefined;
  const loc: LocationContext = { ident, receivedAtS, options, warnings };

  switch (id) {
    case MSG.location: {
      const alarms: SafetyAlarm[] | undefined = options.active_safety ? [] : undefined;
      messages.push(decodeLocation(f, r.pos, end, alarms ? { ...loc, alarms } : loc));
      r.pos = end;
      replies.general();
      // after the 0x8001: the invitation to upload the alarm's attachments (alarm-server-frames.ts)
      if (alarms && alarms.length > 0) effects = attachmentRequests(alarms, ident, ctx.session, (msgId, body) => replies.serverFrame(msgId, body));
      break;
    }
    case MSG.batchLocation: {
      const count = r.u16('batch count');
      const buffered = r.u8('batch type') === 1;
      for (let i = 0; i < count; i++) {
        const len = r.u16(`batch item ${i + 1} length`);
        const at = r.pos;
        r.skip(len, `batch item ${i + 1}`);
        const m = decodeLocation(f, at, at + len, loc);
        m['message.buffered.status'] = buffered;
        messages.push(m);
      }
      replies.general();
      break;
    }
    case MSG.heartbeat:
    case MSG.logout:
      replies.general();
      break;
    case MSG.registration: {
      const m: Message = { ident, timestamp: receivedAtS };
      decodeRegistration(r, h.version, m);
      messages.push(m);
      const code = authCodeFor(ident);
      const body = new Uint8Array(3 + code.length);
      body[0] = h.serial >>> 8;
      body[1] = h.serial & 0xff;
      body[2] = RESULT_OK;
      for (let i = 0; i < code.length; i++) body[3 + i] = code.charCodeAt(i);
      replies.add(MSG.registrationResponse, body);
      break;
    }
    case MSG.authentication: {
      const m: Message = { ident, timestamp: receivedAtS };
      decodeAuthentication(r, h.version, ident, m);
      messages.push(m);
      replies.general();
      break;
    }
    case MSG.multimediaEvent: {
      const m: Message = { ident, timestamp: receivedAtS, 'message.type': 'media_event' };
      decodeMediaHeader(f, r.pos, end, m);
      r.skip(MEDIA_HEADER_BYTES, 'multimedia header');
      messages.push(m);
      replies.general();
      break;
    }
    case MSG.multimediaData: {
      const m0: Message = {};
      const mediaId = decodeMediaHeader(f, r.pos, end, m0);
      r.skip(MEDIA_HEADER_BYTES, 'multimedia header');
      const m = decodeBasic(f, r.pos, end, loc);
      r.skip(BASIC_BLOCK_BYTES, 'multimedia location');
      m['message.type'] = 'media_data';
      Object.assign(m, m0);
      m['media.size'] = r.remaining;
      m['media.stored'] = false;
      r.pos = end;
      messages.push(m);
      replies.add(MSG.multimediaDataResponse, mediaResponseBody(mediaId, []));
      break;
    }
    case MSG.terminalGeneralResponse:
      commandReplies = [generalResponse(r)];
      break;
    case MSG.parameterQueryResponse:
      commandReplies = [parameterAnswer(r)];
      break;
    case MSG.photoResponse:
      commandReplies = [photoAnswer(r)];
      break;
    case MSG.recordingList:
      commandReplies = [recordingList(r, f, options.timezone_offset_minutes)];
      break;
    default:
      return unsupported(`(${MSG_NAMES[id] ?? 'unknown'}) is not decoded`);
  }
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after the 0x${id.toString(16).padStart(4, '0')} body ignored` });
  if (replies.frames.length > 0 || effects?.length) session.platformSerial = replies.nextSerial;
  const out: DecodeResult = { messages, replies: replies.frames, session, warnings };
  if (commandReplies) out.commandReplies = commandReplies;
  if (effects?.length) out.effects = effects;
  return out;
}

/** One sub-package: its 0x8001, and its bytes for the runtime to join (the first one with the header). */
function subpackage(f: Uint8Array, h: Header, end: number, prev: Readonly<SessionState>, session: Jt808Session, warnings: DecodeWarning[]): DecodeResult {
  const { total, index } = h.subpackage!;
  if (total < 1 || index < 1 || index > total) throw new EdgeError('EDGE_DECODE_INVALID', `sub-package ${index} of ${total} is not a valid part number`, h.bodyStart - 4);
  const firstSerial = (h.serial - (index - 1)) & 0xffff;
  const bytes = index === 1 ? f.slice(1, end) : f.slice(h.bodyStart, end);
  const replies = new Replies(h, prev);
  replies.general();
  session.platformSerial = replies.nextSerial;
  return { messages: [], replies: replies.frames, session, warnings, effects: [{ kind: 'reassemble', key: `${h.msgId.toString(16)}:${firstSerial}`, index: index - 1, count: total, bytes }] };
}
