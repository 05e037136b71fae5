/**
 * Requests for sub-packages that did not arrive (the runtime's reassembler decides when; this
 * builds the frame, `ProtocolModule.resendRequest`, main thread, pure):
 *
 * ```
 *  0x8800 (answer to 0x0801):  media id u32 | count u8 | packet index u16 × count      (JT/T 808-2013 §8.55)
 *  0x8003 (any other message): first serial u16 | count u8 (2019: u16) | packet index u16 × count   (§8.10)
 * ```
 *
 * Packet indices are the 1-based sub-package numbers of the header. A 0x0801 whose first packet
 * arrived is asked for with 0x8800 (the media id is in that packet's body); any other sub-packaged
 * message, or a 0x0801 whose first packet is the missing one (no media id to name), with 0x8003,
 * naming the message by the serial of its first packet. The 2019 edition widened the 0x8003 count to
 * a WORD (go-jt808 reads it so); no capture of a 2019 0x8003 was available to confirm it.
 *
 * The request uses the serial the session's next reply will use and does not advance it (as
 * commands do, README "Commands"): the terminal does not answer 0x8800/0x8003, it sends the packets.
 *
 * The decoder hands the runtime a small context with each sub-package (`reassemble` effect `resend`):
 *
 * ```
 *  version u8 (13 / 19) | msg id u16 | first serial u16 | phone length u8 | phone | [media id u32]
 * ```
 */
import { EdgeError } from '../../src/errors.js';
import type { SessionState } from '../../src/protocol/types.js';
import { MSG } from './constants.js';
import { buildFrame } from './frame.js';
import { mediaResponseBody } from './multimedia.js';
import { platformSerialOf } from './session-messages.js';

export function resendContext(version: 2013 | 2019, msgId: number, firstSerial: number, phone: Uint8Array, mediaId: number | null): Uint8Array {
  const out = new Uint8Array(6 + phone.length + (mediaId === null ? 0 : 4));
  const v = new DataView(out.buffer);
  out[0] = version === 2019 ? 19 : 13;
  v.setUint16(1, msgId);
  v.setUint16(3, firstSerial);
  out[5] = phone.length;
  out.set(phone, 6);
  if (mediaId !== null) v.setUint32(6 + phone.length, mediaId);
  return out;
}

export function resendRequest(context: Uint8Array, missing: readonly number[], count: number, session: Readonly<SessionState>): Uint8Array | null {
  if (context.length < 6 || (context[0] !== 13 && context[0] !== 19)) throw new EdgeError('EDGE_DECODE_INVALID', 'not a jt808 re-send context');
  const version = context[0] === 19 ? 2019 : 2013;
  const v = new DataView(context.buffer, context.byteOffset, context.byteLength);
  const msgId = v.getUint16(1);
  const firstSerial = v.getUint16(3);
  const phoneLen = context[5]!;
  if (context.length < 6 + phoneLen) throw new EdgeError('EDGE_DECODE_INVALID', 'jt808 re-send context shorter than its phone field');
  const phone = context.subarray(6, 6 + phoneLen);
  const mediaId = context.length >= 10 + phoneLen ? v.getUint32(6 + phoneLen) : null;
  const ids = missing.filter((i) => Number.isInteger(i) && i >= 0 && i < count).map((i) => i + 1);
  if (ids.length === 0) return null;
  const serial = platformSerialOf(session);
  if (msgId === MSG.multimediaData && mediaId !== null) return buildFrame(MSG.multimediaDataResponse, phone, serial, mediaResponseBody(mediaId, ids.slice(0, 255)), version);
  // 0x8003: the body must fit the 1023-byte length field
  const wide = version === 2019;
  const list = ids.slice(0, wide ? 509 : 255);
  const head = wide ? 4 : 3;
  const body = new Uint8Array(head + 2 * list.length);
  const b = new DataView(body.buffer);
  b.setUint16(0, firstSerial);
  if (wide) b.setUint16(2, list.length);
  else body[2] = list.length;
  list.forEach((id, i) => b.setUint16(head + 2 * i, id));
  return buildFrame(MSG.resendRequest, phone, serial, body, version);
}
