/**
 * JT/T 808 device-frame decoder (worker side): un-escape, check (frame.ts), then dispatch on the
 * message id. Every message that the standard acknowledges with 0x8001 gets it, carrying the
 * platform's own serial from the session (`platformSerial`, incremented per reply); registration
 * gets 0x8100 with the terminal's auth code (issued and checked through credential effects,
 * session-messages.ts); a complete 0x0801 is stored as a file and gets 0x8800.
 *
 * ```
 *  7E | msgId | attr | [ver] | phone | serial | [total | index] | body | XOR | 7E   (frame.ts)
 * ```
 *
 * Sub-packaged messages: each sub-package is acknowledged with 0x8001 and handed to the runtime as a
 * `reassemble` effect (key: message id + first serial; the first part carries the header; each part a
 * re-send context, resend.ts, so the runtime can ask for missing parts). Once all parts are in, the
 * runtime decodes the joined message (`ctx.reassembled`, readJoinedHeader): its messages are
 * published and only non-general answers (0x8800) are sent, since every part already got its 0x8001.
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
import { MSG, MSG_NAMES, RESULT_FAIL, RESULT_OK } from './constants.js';
import { buildFrame, identFromPhone, readHeader, readJoinedHeader, unescapeFrame, type Header } from './frame.js';
import { decodeBasic, decodeLocation, type LocationContext } from './location.js';
import { decodeMediaHeader, mediaFileEffect, mediaResponseBody, MEDIA_HEADER_BYTES } from './multimedia.js';
import { readOptions } from './options.js';
import { resendContext } from './resend.js';
import { generalResponse, parameterAnswer, photoAnswer, recordingList, recordingListMessage } from './responses.js';
import { decodeElockLocation } from './elock.js';
import { decodeAvCapabilities, decodeDriverIdentity } from './driver-identity.js';
import { authCodeFor, decodeAuthentication, decodeRegistration, issuedAuthCode, platformSerialOf, registrationAnswer } from './session-messages.js';

/** Session keys this protocol keeps (plain JSON, see README "Session"). */
export interface Jt808Session extends SessionState {
  platformSerial?: number;
  jt808Version?: 2013 | 2019;
  /** This connection's 0x0102 was answered with success: commands may go to the terminal (`commandsReady`). */
  authenticated?: boolean;
}

/** Terminals ignore platform commands until their authentication was answered (JT/T 808 §8.5 flow). */
export function jt808CommandsReady(session: Readonly<SessionState>): boolean {
  return (session as Jt808Session).authenticated === true;
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
    this.frames.push(this.build(msgId, body));
    this.serial = (this.serial + 1) & 0xffff;
  }
  /** A frame with the next serial, not added (one of alternatives the runtime chooses from). */
  build(msgId: number, body: Uint8Array): Uint8Array {
    return buildFrame(msgId, this.h.phone, this.serial, body, this.h.version);
  }
  /** 0x8001 body: terminal serial | terminal msg id | result. */
  generalBody(result = RESULT_OK): Uint8Array {
    const h = this.h;
    return Uint8Array.of(h.serial >>> 8, h.serial & 0xff, h.msgId >>> 8, h.msgId & 0xff, result);
  }
  general(result = RESULT_OK): void {
    if (this.noGeneral) return;
    this.add(MSG.platformGeneralResponse, this.generalBody(result));
  }
  /** One serial spent on a reply the runtime chooses (credential-check alternatives). */
  skip(): void {
    this.serial = (this.serial + 1) & 0xffff;
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
  const effects: DecodeEffect[] = [];
  let answered = false;
  const loc: LocationContext = { ident, receivedAtS, options, warnings };

  switch (id) {
    case MSG.location: {
      const alarms: SafetyAlarm[] | undefined = options.active_safety ? [] : undefined;
      messages.push(decodeLocation(f, r.pos, end, alarms ? { ...loc, alarms } : loc));
      r.pos = end;
      replies.general();
      // after the 0x8001: the invitation to upload the alarm's attachments (alarm-server-frames.ts)
      if (alarms && alarms.length > 0) {
        const invitations = attachmentRequests(alarms, ident, ctx.session, (msgId, body) => replies.serverFrame(msgId, body));
        if (invitations.length > 0) {
          effects.push(...invitations);
          answered = true; // the 0x9208 frames took platform serials too
        }
      }
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
    case MSG.elockLocation:
    case MSG.elockLocationBlind:
      messages.push(decodeElockLocation(f, r.pos, end, ident, id === MSG.elockLocationBlind, warnings));
      r.pos = end;
      // [G] the standard 0x8001 answers it (the locks' own answer format is not public)
      replies.general();
      break;
    case MSG.driverIdentity: {
      const m: Message = { ident, timestamp: receivedAtS };
      decodeDriverIdentity(r, f, h.version, options.timezone_offset_minutes, m);
      messages.push(m);
      replies.general();
      break;
    }
    case MSG.avCapabilities: {
      const m: Message = { ident, timestamp: receivedAtS };
      decodeAvCapabilities(r, m);
      messages.push(m);
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
      const issued = options.auth_code !== 'derived';
      const code = issued ? issuedAuthCode(ctx.nonce, ident) : authCodeFor(ident);
      // issued: the runtime stores the code before this 0x8100 is written (credential-issue is durable)
      if (issued) effects.push({ kind: 'credential-issue', code });
      replies.add(MSG.registrationResponse, registrationAnswer(h.serial, code));
      break;
    }
    case MSG.authentication: {
      const m: Message = { ident, timestamp: receivedAtS };
      const code = decodeAuthentication(r, h.version, m);
      messages.push(m);
      if (options.auth_code === 'derived') {
        m['auth.code.valid'] = code === authCodeFor(ident);
        // derived mode answers every 0x0102 with success, so the terminal counts as authenticated
        session.authenticated = true;
        replies.general();
        break;
      }
      // the runtime compares with the stored code, writes one of these and adds auth.code.valid
      const accepted = [replies.build(MSG.platformGeneralResponse, replies.generalBody(RESULT_OK))];
      const rejected = [replies.build(MSG.platformGeneralResponse, replies.generalBody(RESULT_FAIL))];
      replies.skip();
      answered = true;
      // accept (migration from another platform): any code is answered with success and recorded
      const acceptAny = options.auth_code === 'accept';
      effects.push({ kind: 'credential-check', code, accepted, rejected, field: 'auth.code.valid', acceptedSession: { authenticated: true }, ...(acceptAny ? { acceptAny } : {}) });
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
      m.media = true;
      Object.assign(m, m0);
      // the message is the stored file's announcement (published by the runtime once the file is safe)
      const { ident: _i, ...meta } = m;
      effects.push(mediaFileEffect(m, f.slice(r.pos, end), meta));
      r.pos = end;
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
    case MSG.recordingList: {
      const reply = recordingList(r, f, options.timezone_offset_minutes);
      commandReplies = [reply];
      const m: Message = { ident, timestamp: receivedAtS };
      recordingListMessage(reply, m);
      messages.push(m);
      break;
    }
    default:
      return unsupported(`(${MSG_NAMES[id] ?? 'unknown'}) is not decoded`);
  }
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after the 0x${id.toString(16).padStart(4, '0')} body ignored` });
  if (replies.frames.length > 0 || answered) session.platformSerial = replies.nextSerial;
  const out: DecodeResult = { messages, replies: replies.frames, session, warnings };
  if (commandReplies) out.commandReplies = commandReplies;
  if (effects.length > 0) out.effects = effects;
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
  // the first packet of a 0x0801 names the media id, which 0x8800 repeats when asking for packets
  const mediaId = index === 1 && h.msgId === MSG.multimediaData && end - h.bodyStart >= 4 ? new DataView(f.buffer, f.byteOffset + h.bodyStart, 4).getUint32(0) : null;
  const resend = resendContext(h.version, h.msgId, firstSerial, h.phone, mediaId);
  return { messages: [], replies: replies.frames, session, warnings, effects: [{ kind: 'reassemble', key: `${h.msgId.toString(16)}:${firstSerial}`, index: index - 1, count: total, bytes, resend }] };
}
