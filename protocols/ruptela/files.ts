/**
 * Files (camera / fatigue-sensor pictures), cmd 37, ref §7.4 and §5.1 (137).
 *
 * ```
 * payload: sub u8 | source u8 | ...
 *   sub 0 quantity reply:        count u16                                  (V#22)
 *   sub 2 file part:             name 8 ASCII | total u16 | current u16 | data   (T#5)
 *   sub 3 delete-by-name reply:  name 8 ASCII | status u8 (1 = OK)           (V#23)
 *   sub 4 delete-by-range reply: status u8 (1 = OK)                          (V#24)
 * next-part request 137: len | 0x89 | sub 2 | source | name 8 | part u16 | CRC   (reply to T#5:
 *   000d 89 02 00 3544444131464144 0001 bb29)
 * ```
 *
 * A part becomes a message describing it (name, index, total, chunk size) and a `file-chunk`
 * effect: the media store writes it at its offset before the part is answered, and the last part
 * (current == total − 1) completes the picture, which is announced as `media.image.1.*` (the same
 * names as the JT/T 808 alarm photos). Parts are requested one after the other, so a part's offset
 * is the sum of the earlier parts' sizes: the session carries it (`cameraFile`: name, next part,
 * offset), which is safe because the device sends part n+1 only after the request that answers
 * part n. A part that does not follow the one before on this connection cannot be placed: it is
 * published, not stored, with an EDGE_DECODE_PARTIAL warning.
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { toHex } from '../../src/codec/hex.js';
import type { CommandReply, DecodeEffect, DecodeWarning, Message, SessionState } from '../../src/protocol/types.js';
import { SERVER_CMD } from './constants.js';
import { wrapFrame } from './frame.js';
import { textOrHex } from './identification.js';

export const FILES_REPLY_KEY = 'ruptela:37';

export interface FilesResult {
  messages: Message[];
  replies: Uint8Array[];
  commandReplies: CommandReply[];
  effects: DecodeEffect[];
  /** Session keys to patch (`cameraFile` while a picture is transferred). */
  session: Partial<SessionState>;
}

interface CameraFile {
  name: string;
  next: number;
  offset: number;
}

function cameraFileOf(s: Readonly<SessionState>): CameraFile | null {
  const c = s.cameraFile as Partial<CameraFile> | null | undefined;
  return c && typeof c.name === 'string' && typeof c.next === 'number' && typeof c.offset === 'number' ? { name: c.name, next: c.next, offset: c.offset } : null;
}

export function decodeFiles(r: ByteReader, ident: string, timestamp: number, warnings: DecodeWarning[], prev: Readonly<SessionState> = {}): FilesResult {
  const out: FilesResult = { messages: [], replies: [], commandReplies: [], effects: [], session: {} };
  const sub = r.u8('files sub-command');
  const source = r.u8('files source');
  switch (sub) {
    case 0:
      out.commandReplies.push({ replyKey: FILES_REPLY_KEY, executed: true, response: r.u16('file count') });
      break;
    case 2: {
      const name = r.bytes(8, 'file name');
      const total = r.u16('total parts');
      const current = r.u16('current part');
      const chunk = r.rest();
      out.messages.push({
        ident,
        timestamp,
        'file.name': textOrHex(name),
        'file.source.enum': source,
        'file.part': current,
        'file.parts': total,
        'file.chunk.size': chunk.length,
      });
      const fileKey = `${source}-${toHex(name)}`;
      const before = cameraFileOf(prev);
      const offset = current === 0 ? 0 : before && before.name === fileKey && before.next === current ? before.offset : null;
      if (offset === null) {
        warnings.push({ code: 'EDGE_DECODE_PARTIAL', reason: `file part ${current} of ${total} arrived without the parts before it on this connection: published, not stored` });
      } else if (current < total) {
        const final = current + 1 >= total;
        const chunkEffect: DecodeEffect = { kind: 'file-chunk', key: `camera-${fileKey}`, offset, bytes: chunk, final };
        if (final) {
          chunkEffect.file = { kind: 'image', name: `${textOrHex(name)}.jpg` };
          chunkEffect.announce = 'media.image.1';
          chunkEffect.meta = { 'file.name': textOrHex(name), 'file.source.enum': source, 'file.parts': total };
        }
        out.effects.push(chunkEffect);
        out.session.cameraFile = final ? null : { name: fileKey, next: current + 1, offset: offset + chunk.length };
      }
      if (current + 1 < total) {
        const body = new Uint8Array(13);
        body[0] = SERVER_CMD.files;
        body[1] = 2;
        body[2] = source;
        body.set(name, 3);
        body[11] = (current + 1) >>> 8;
        body[12] = (current + 1) & 0xff;
        out.replies.push(wrapFrame(body));
      }
      break;
    }
    case 3: {
      r.bytes(8, 'file name'); // the deleted file's name; the status is what the command waits for
      const status = r.u8('delete status');
      out.commandReplies.push({ replyKey: FILES_REPLY_KEY, executed: status === 1, response: status });
      break;
    }
    case 4: {
      const status = r.u8('delete status');
      out.commandReplies.push({ replyKey: FILES_REPLY_KEY, executed: status === 1, response: status });
      break;
    }
    default:
      warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `ruptela command 37 (files) sub ${sub} is not decoded yet` });
      return out;
  }
  if (r.remaining > 0) warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after files sub ${sub} ignored` });
  return out;
}
