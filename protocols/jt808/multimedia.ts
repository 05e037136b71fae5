/**
 * Classic multimedia (JT/T 808-2013 §8.53/§8.54): the event 0x0800 and the data 0x0801.
 *
 * ```
 *  0x0800: media id u32 | type u8 (0 image, 1 audio, 2 video) | format u8 (0 JPEG, 1 TIF, 2 MP3, 3 WAV, 4 WMV)
 *          | event u8 (0 platform command, 1 timer, 2 robbery alarm, 3 collision/rollover, ...) | channel u8
 *  0x0801: the same 8 bytes | location basic block (28) | media bytes
 *  0x8800 (reply): media id u32 [| retransmit count u8 | packet index u16 × n]
 * ```
 *
 * A complete 0x0801 (one frame, or joined from sub-packages by the runtime) becomes one `file-chunk`
 * effect: the media bytes are stored whole by the runtime's media store (sha256, atomic rename) and
 * announced by one message carrying the location and media header (`meta`) and the stored file's
 * facts under `media.<image|audio|video|file>.<channel>` (flespi's `media.image.X` naming, X = camera
 * channel). The 4-byte 0x8800 (go-jt808's form for "nothing missing") goes out once the file is
 * stored and announced. Missing packets are asked for by the runtime (resend.ts).
 */
import bp from 'binary-parser/dist/binary_parser.js';
import { EdgeError } from '../../src/errors.js';
import type { FileChunkEffect, MediaKind, Message, MessageValue } from '../../src/protocol/types.js';

export const MEDIA_HEADER_BYTES = 8;

const header = new bp.Parser().uint32be('id').uint8('type').uint8('format').uint8('event').uint8('channel');

export function decodeMediaHeader(f: Uint8Array, at: number, end: number, m: Message): number {
  if (at + MEDIA_HEADER_BYTES > end) throw new EdgeError('EDGE_DECODE_TRUNCATED', `multimedia header needs ${MEDIA_HEADER_BYTES} bytes, ${end - at} left`, at);
  const h = header.parse(f.subarray(at, at + MEDIA_HEADER_BYTES)) as { id: number; type: number; format: number; event: number; channel: number };
  m['media.id'] = h.id;
  m['media.type.enum'] = h.type;
  m['media.format.enum'] = h.format;
  m['media.event.enum'] = h.event;
  m['media.channel'] = h.channel;
  return h.id;
}

/** 0x8800 body: the media id, then (only when packets are missing) their count and 1-based indices. */
export function mediaResponseBody(mediaId: number, missing: readonly number[]): Uint8Array {
  if (missing.length > 255) throw new RangeError('0x8800 lists at most 255 packets');
  const out = new Uint8Array(missing.length === 0 ? 4 : 5 + 2 * missing.length);
  new DataView(out.buffer).setUint32(0, mediaId);
  if (missing.length > 0) {
    out[4] = missing.length;
    missing.forEach((p, i) => {
      out[5 + 2 * i] = p >>> 8;
      out[6 + 2 * i] = p & 0xff;
    });
  }
  return out;
}

/** Media type byte → the stored file's kind (3+ are not in the standard: stored as plain files). */
const KINDS: readonly MediaKind[] = ['image', 'audio', 'video'];
/** Format byte → file extension (0 JPEG, 1 TIF, 2 MP3, 3 WAV, 4 WMV); others get none. */
const EXTENSIONS = ['jpg', 'tif', 'mp3', 'wav', 'wmv'];

/**
 * The complete media as one stored file: key `media-<id>` (unique per terminal while the terminal's
 * ids do not wrap), name `<id>.<ext>`, announced as `media.<kind>.<channel>` with `meta`
 * (location + media header) on the announcement message.
 */
export function mediaFileEffect(m: Message, data: Uint8Array, meta: Record<string, MessageValue>): FileChunkEffect {
  const id = m['media.id'] as number;
  const kind = KINDS[m['media.type.enum'] as number] ?? 'file';
  const ext = EXTENSIONS[m['media.format.enum'] as number];
  return {
    kind: 'file-chunk',
    key: `media-${id}`,
    offset: 0,
    bytes: data,
    final: true,
    file: { kind, name: ext ? `${id}.${ext}` : `${id}` },
    announce: `media.${kind}.${m['media.channel'] as number}`,
    meta,
  };
}
