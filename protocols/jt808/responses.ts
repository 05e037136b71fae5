/**
 * Device answers to server commands, turned into command replies (no messages):
 *
 * ```
 *  0x0001 general response:   reply serial u16 | reply msg id u16 | result u8 (0 ok, 1 fail, 2 bad message, 3 unsupported)
 *  0x0104 parameter answer:   reply serial u16 | count u8 | (id u32 | len u8 | value) × count
 *  0x0805 take-photo answer:  reply serial u16 | result u8 | count u16 | media id u32 × count
 *  0x1205 recording list:     reply serial u16 | count u32 | item (28) × count        (JT/T 1078 §5.x)
 *           item: channel u8 | start BCD[6] | end BCD[6] | alarm u64 | av type u8 | stream u8 | storage u8 | size u32
 * ```
 *
 * Reply keys are `jt808:<command msg id, 4 hex digits>`; the queue matches them FIFO per device
 * (the reply serial is read but the contract's CommandReply has no field for it yet).
 */
import bp from 'binary-parser/dist/binary_parser.js';
import type { ByteReader } from '../../src/codec/byte-reader.js';
import { toHex } from '../../src/codec/hex.js';
import type { CommandReply, Message, MessageValue } from '../../src/protocol/types.js';
import { bcdTimeAt } from './bcd-time.js';

/** `jt808:<command id>#<serial of the command>`: what the encoder returned for that command. */
export function replyKeyOf(msgId: number, serial: number): string {
  return `jt808:${msgId.toString(16).padStart(4, '0')}#${serial}`;
}

export function generalResponse(r: ByteReader): CommandReply {
  const serial = r.u16('reply serial');
  const id = r.u16('reply message id');
  const result = r.u8('result');
  return { replyKey: replyKeyOf(id, serial), executed: result === 0, response: result };
}

/** Parameter list as `id=value` pairs (id: 4 or 8 hex digits, value: hex), the same text set_parameters takes. */
export function parameterList(r: ByteReader, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = r.u32('parameter id');
    const len = r.u8('parameter length');
    const v = r.bytes(len, `parameter 0x${id.toString(16)} value`);
    out.push(`${id.toString(16).padStart(id > 0xffff ? 8 : 4, '0')}=${toHex(v)}`);
  }
  return out.join(',');
}

export function parameterAnswer(r: ByteReader): CommandReply {
  const serial = r.u16('reply serial');
  const count = r.u8('parameter count');
  return { replyKey: replyKeyOf(0x8104, serial), executed: true, response: parameterList(r, count) };
}

export function photoAnswer(r: ByteReader): CommandReply {
  const serial = r.u16('reply serial');
  const result = r.u8('result');
  const count = r.u16('media id count');
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(r.u32('media id'));
  return { replyKey: replyKeyOf(0x8801, serial), executed: result === 0, response: ids.join(',') };
}

const recording = new bp.Parser()
  .uint8('channel')
  .skip(12) // start and end BCD[6]: read with the zone below
  .buffer('alarm', { length: 8 })
  .uint8('avType')
  .uint8('stream')
  .uint8('storage')
  .uint32be('size');

/** The list as a JSON array string: [{channel,start,end,alarm,av_type,stream,storage,size}] (times Unix s, null if zero). */
export function recordingList(r: ByteReader, f: Uint8Array, tzOffsetMin: number): CommandReply {
  const serial = r.u16('reply serial');
  const count = r.u32('recording count');
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const b = r.bytes(28, `recording ${i + 1}`);
    const x = recording.parse(b) as { channel: number; alarm: Uint8Array; avType: number; stream: number; storage: number; size: number };
    items.push({
      channel: x.channel,
      start: bcdTimeAt(f, at + 1, tzOffsetMin),
      end: bcdTimeAt(f, at + 7, tzOffsetMin),
      alarm: toHex(x.alarm),
      av_type: x.avType,
      stream: x.stream,
      storage: x.storage,
      size: x.size,
    });
  }
  return { replyKey: replyKeyOf(0x9205, serial), executed: true, response: JSON.stringify(items) };
}

/**
 * The same 0x1205 list as a message of its own (`message.type` recording_list), so a list the
 * terminal sends on its own, or one whose command is gone, is not lost: `video.recordings.count`
 * and `video.recording.<n>.*` (1-based) with the fields of the command's response.
 */
export function recordingListMessage(reply: CommandReply, m: Message): void {
  const items = JSON.parse(String(reply.response)) as Record<string, MessageValue>[];
  m['message.type'] = 'recording_list';
  m['video.recordings.count'] = items.length;
  items.forEach((it, i) => {
    for (const [k, v] of Object.entries(it)) m[`video.recording.${i + 1}.${k.replace('_', '.')}`] = v;
  });
}
