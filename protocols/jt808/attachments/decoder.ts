/**
 * Decoder of the attachment connection (the `attachments` part, worker side). Frames are either
 * JT/T 808 messages or raw data chunks (splitter.ts); each becomes an `upload` effect for the
 * runtime, which keeps the upload's state on the main thread (ARCHITECTURE.md "Uploads"):
 *
 * | frame | reply | effect |
 * |---|---|---|
 * | 0x1210 file list | 0x8001 | `open` (alarm number → key, the files) — an unknown number fails the frame |
 * | 0x1211 file info | 0x8001 | `file` (kind from the type byte, size) |
 * | data chunk | none (the flow has no chunk ACK) | `piece` (stored before the next frame is answered) |
 * | 0x1212 file done | 0x9212, encoded once the runtime knows the missing ranges | `check` |
 * | 0x0002 heartbeat | 0x8001 | none |
 *
 * The ranges that arrived are main-thread state: a decoder sees one frame, and frames of one link
 * may be decoded by different workers in one batch, so neither the decoder nor the session can know
 * them. The decoder therefore hands the runtime a request (`reply`) that the runtime completes with
 * `missing` and sends back through the protocol's encoder (`encodeUploadResult`).
 */
import { ByteReader } from '../../../src/codec/byte-reader.js';
import { toHex } from '../../../src/codec/hex.js';
import { EdgeError } from '../../../src/errors.js';
import { cleanText } from '../../../src/protocol/message.js';
import type { DecodeContext, DecodeEffect, DecodeResult, DecodeWarning, SessionState } from '../../../src/protocol/types.js';
import { MSG, RESULT_OK } from '../constants.js';
import { buildFrame, identFromPhone, readHeader, unescapeFrame } from '../frame.js';
import { readOptions } from '../options.js';
import { CHUNK_HEADER_BYTES, CHUNK_MAGIC, kindOfType, readChunkHeader, readFileInfo, readFileList } from './layouts.js';

/** The internal request the runtime completes and encodes as 0x9212 (not a user command: encoder.ts). */
export const UPLOAD_RESULT_REQUEST = 'attachment_upload_result';

function platformSerialOf(s: Readonly<SessionState>): number {
  const v = s.platformSerial;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : 0;
}

export function decodeAttachment(wire: Uint8Array, ctx: DecodeContext): DecodeResult {
  if (wire[0] === CHUNK_MAGIC[0]) return decodeChunk(wire);
  const options = readOptions(ctx.options);
  const f = unescapeFrame(wire);
  const { header: h, checkMismatch } = readHeader(f, options.lenient_check);
  const warnings: DecodeWarning[] = [];
  if (checkMismatch) warnings.push({ code: 'EDGE_DECODE_CHECKSUM', reason: `XOR check byte ${checkMismatch[0].toString(16)} on the wire, ${checkMismatch[1].toString(16)} computed: accepted because lenient_check is on` });
  const ident = identFromPhone(h.phoneHex);
  const session: SessionState = { ident, jt808Version: h.version };
  if (h.encrypted || h.subpackage) {
    warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `jt808 attachment message 0x${h.msgId.toString(16).padStart(4, '0')} is ${h.encrypted ? 'encrypted' : 'sub-packaged'}, which the attachment server does not read` });
    return { messages: [], replies: [], session, warnings };
  }
  const r = new ByteReader(f, 0, f.length - 2);
  r.pos = h.bodyStart;
  let serial = platformSerialOf(ctx.session);
  const replies: Uint8Array[] = [];
  const general = () => {
    replies.push(buildFrame(MSG.platformGeneralResponse, h.phone, serial, Uint8Array.of(h.serial >>> 8, h.serial & 0xff, h.msgId >>> 8, h.msgId & 0xff, RESULT_OK), h.version));
    serial = (serial + 1) & 0xffff;
  };
  const effects: DecodeEffect[] = [];
  switch (h.msgId) {
    case MSG.attachmentList: {
      const list = readFileList(r, options.alarm_identification_bytes);
      const names = new Set<string>();
      for (const file of list.files) {
        if (names.has(file.name)) throw new EdgeError('EDGE_DECODE_INVALID', `0x1210 lists the file "${file.name}" twice`, h.bodyStart);
        names.add(file.name);
      }
      effects.push({
        kind: 'upload',
        upload: {
          op: 'open',
          key: toHex(list.alarmNumber),
          files: list.files,
          meta: { 'alarm.terminal.id': cleanText(String.fromCharCode(...list.terminalId)), 'alarm.upload.info.type.enum': list.infoType },
        },
      });
      general();
      break;
    }
    case MSG.attachmentInfo: {
      const info = readFileInfo(r);
      effects.push({ kind: 'upload', upload: { op: 'file', name: info.name, kind: kindOfType(info.type), size: info.size } });
      general();
      break;
    }
    case MSG.attachmentDone: {
      const info = readFileInfo(r);
      effects.push({ kind: 'upload', upload: { op: 'check', name: info.name, reply: { name: UPLOAD_RESULT_REQUEST, properties: { file_name: info.name, file_type: info.type } } } });
      break;
    }
    case MSG.heartbeat:
      general();
      break;
    default:
      warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `jt808 message 0x${h.msgId.toString(16).padStart(4, '0')} is not part of the attachment upload` });
      return { messages: [], replies: [], session, warnings };
  }
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after the 0x${h.msgId.toString(16).padStart(4, '0')} body ignored` });
  session.platformSerial = serial;
  return { messages: [], replies, session, warnings, effects };
}

/** A raw data chunk: its bytes for the runtime; the link's open upload says which alarm it belongs to. */
function decodeChunk(b: Uint8Array): DecodeResult {
  for (let i = 0; i < 4; i++) if (b[i] !== CHUNK_MAGIC[i]) throw new EdgeError('EDGE_DECODE_INVALID', 'a data chunk starts with 30 31 63 64', i);
  const c = readChunkHeader(b, 0);
  if (b.length !== CHUNK_HEADER_BYTES + c.length) throw new EdgeError('EDGE_DECODE_INVALID', `the chunk header announces ${c.length} data bytes, ${b.length - CHUNK_HEADER_BYTES} follow`, CHUNK_HEADER_BYTES - 4);
  return { messages: [], replies: [], warnings: [], effects: [{ kind: 'upload', upload: { op: 'piece', name: c.name, offset: c.offset, bytes: b.subarray(CHUNK_HEADER_BYTES) } }] };
}
