/**
 * Server → terminal commands (encode) and their mirror (parseCommand). Every command frame uses
 * the terminal's header version and phone from the session (`jt808Version`, `ident`) and the
 * session's `platformSerial` as its serial.
 *
 * ```
 *  0x8300 text message     flags u8 | text (ASCII; GBK is not encoded)
 *  0x8103 set parameters   count u8 | (id u32 | len u8 | value) × count
 *  0x8104 query parameters (empty body)
 *  0x8801 take photo       channel u8 | command u16 | interval u16 | save u8 | resolution u8 | quality u8
 *                          | brightness u8 | contrast u8 | saturation u8 | chroma u8
 *  0x9101 live video       ip len u8 | ip | tcp u16 | udp u16 | channel u8 | data type u8 | stream u8
 *  0x9201 playback         ip len u8 | ip | tcp u16 | udp u16 | channel u8 | av type u8 | stream u8 | storage u8
 *                          | mode u8 | speed u8 | start BCD[6] | end BCD[6]
 *  0x9205 query recordings channel u8 | start BCD[6] | end BCD[6] | alarm u64 | av type u8 | stream u8 | storage u8
 *  custom                  text → 0x8300 (flags u8 | text); data → any message id with the given body bytes
 * ```
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { ByteWriter } from '../../src/codec/byte-writer.js';
import { toHex, fromHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import type { CommandPropertySpec, CommandRequest, CommandSpec, EncodedCommand, SessionState } from '../../src/protocol/types.js';
import { bcdTimeAt, bcdTimeBytes } from './bcd-time.js';
import { MSG } from './constants.js';
import { buildFrame, phoneFromIdent, readHeader, unescapeFrame } from './frame.js';
import { parameterList, replyKeyOf } from './responses.js';
import { UPLOAD_RESULT_REQUEST } from './attachments/decoder.js';
import { encodeUploadResult } from './attachments/result-encoder.js';

const int = (description: string, min: number, max: number, required = false): CommandPropertySpec => ({ type: 'integer', required, description, min, max });
const str = (description: string, required = true): CommandPropertySpec => ({ type: 'string', required, description });
const TZ = int('zone of the BCD times sent to the device, minutes east of UTC (default 480, as the decode option)', -720, 840);
const IP_PORTS = {
  server_ip: { type: 'string' as const, required: false, description: "address the terminal streams to (host name or IP, ASCII); absent: this server's stream listener (channel stream_tcp_port), whose video the server plays (live) or records (playback)" },
  tcp_port: int("TCP port of the media server (0 = none); absent: this server's stream listener", 0, 65535),
  udp_port: int('UDP port of the media server (default 0 = none)', 0, 65535),
  channel: int('logical camera channel', 1, 255, true),
};

export const commands: readonly CommandSpec[] = [
  {
    name: 'text_message',
    description: '0x8300: show or speak a text on the terminal (answered by 0x0001)',
    properties: { text: str('ASCII text (GBK text is not encoded yet)'), flags: int('flag byte: bit 0 emergency, 2 display, 3 TTS, 4 advertising screen (default 1)', 0, 255) },
    replyKey: 'jt808:8300',
  },
  {
    name: 'custom',
    description: 'Any text (0x8300 text message, answered by 0x0001), or raw body bytes under any platform message id for operators who know their terminal (answered by 0x0001 naming that id; a terminal that answers otherwise leaves the command to its timeout)',
    properties: {
      text: str('ASCII text sent as 0x8300 (give text or data)', false),
      flags: int('0x8300 flag byte (default 1)', 0, 255),
      message_id: int('message id of a raw command (with data), e.g. 33536 = 0x8300', 0, 65535),
      data: { type: 'hex', required: false, description: 'raw message body, hex (with message_id)' },
    },
    replyKey: 'jt808:8300',
  },
  {
    name: 'set_parameters',
    description: '0x8103: set terminal parameters (answered by 0x0001)',
    properties: { parameters: str('comma-separated id=value pairs, id and value in hex, e.g. "0001=0000001e,0013=3132372e302e302e31"') },
    replyKey: 'jt808:8103',
  },
  { name: 'query_parameters', description: '0x8104: read all terminal parameters (answered by 0x0104, response = id=value pairs)', properties: {}, replyKey: 'jt808:8104' },
  {
    name: 'take_photo',
    description: '0x8801: take photos now (answered by 0x0805, response = media ids)',
    properties: {
      channel: int('camera channel', 1, 255, true),
      count: int('photos to take (default 1); 0 stops, 65535 records video', 0, 65535),
      interval_s: int('seconds between photos or video length (default 0)', 0, 65535),
      save: { type: 'boolean', required: false, description: 'keep on the terminal instead of uploading (default false)' },
      resolution: int('1 320×240, 2 640×480, 3 800×600, 4 1024×768, 5 176×144, 6 352×288, 7 704×288, 8 704×576 (default 1)', 0, 255),
      quality: int('1 best .. 10 most compressed (default 5)', 1, 10),
      brightness: int('0..255 (default 128)', 0, 255),
      contrast: int('0..127 (default 64)', 0, 127),
      saturation: int('0..127 (default 64)', 0, 127),
      chroma: int('0..255 (default 128)', 0, 255),
    },
    replyKey: 'jt808:8801',
  },
  {
    name: 'start_videostream',
    description: '0x9101 (JT/T 1078): open a live audio/video stream to a media server (answered by 0x0001)',
    properties: { ...IP_PORTS, data_type: int('0 audio+video, 1 video, 2 talk, 3 listen, 4 broadcast, 5 transparent (default 0)', 0, 5), stream: int('0 main, 1 sub stream (default 0)', 0, 1) },
    replyKey: 'jt808:9101',
  },
  {
    name: 'stop_videostream',
    description: '0x9102 (JT/T 1078): control a live stream: close it (default), pause, resume, switch main/sub stream (answered by 0x0001)',
    properties: {
      channel: int('logical camera channel', 1, 255, true),
      control: int('0 close (default), 1 switch stream, 2 pause, 3 resume, 4 close talk', 0, 4),
      close_type: int('with control 0: 0 audio and video (default), 1 audio only, 2 video only', 0, 2),
      stream: int('with control 1: 0 main, 1 sub (default 0)', 0, 1),
    },
    replyKey: 'jt808:9102',
  },
  {
    name: 'playback_video',
    description: '0x9201 (JT/T 1078): play back stored audio/video to a media server (answered by 0x0001)',
    properties: {
      ...IP_PORTS,
      av_type: int('0 audio+video, 1 audio, 2 video, 3 video or audio+video (default 0)', 0, 3),
      stream: int('0 main or sub, 1 main, 2 sub (default 0)', 0, 2),
      storage: int('0 main or backup, 1 main, 2 backup (default 0)', 0, 2),
      mode: int('0 normal, 1 fast forward, 2 key-frame rewind, 3 key-frame play, 4 single-frame upload (default 0)', 0, 4),
      speed: int('0 none, 1 ×1, 2 ×2, 3 ×4, 4 ×8, 5 ×16 (default 0)', 0, 5),
      start: int('start, Unix seconds (0 = no limit)', 0, 4102444799, true),
      end: int('end, Unix seconds (0 = no limit)', 0, 4102444799, true),
      timezone_offset_minutes: TZ,
    },
    replyKey: 'jt808:9201',
  },
  {
    name: 'video_timeline',
    description: '0x9205 (JT/T 1078): list stored recordings (answered by 0x1205, response = JSON list)',
    properties: {
      channel: int('logical channel, 0 = all', 0, 255, true),
      start: int('start, Unix seconds (0 = no limit)', 0, 4102444799, true),
      end: int('end, Unix seconds (0 = no limit)', 0, 4102444799, true),
      alarm_flags: { type: 'hex', required: false, description: '64-bit alarm filter, 16 hex digits (default all zero = any)' },
      av_type: int('0 audio+video, 1 audio, 2 video, 3 video or audio+video (default 0)', 0, 3),
      stream: int('0 main or sub, 1 main, 2 sub (default 0)', 0, 2),
      storage: int('0 main or backup, 1 main, 2 backup (default 0)', 0, 2),
      timezone_offset_minutes: TZ,
    },
    replyKey: 'jt808:9205',
  },
];

const SPECS = new Map(commands.map((c) => [c.name, c]));
const MSG_OF: Readonly<Record<string, number>> = {
  text_message: MSG.textMessage,
  set_parameters: MSG.setParameters,
  query_parameters: MSG.queryParameters,
  take_photo: MSG.takePhoto,
  start_videostream: MSG.liveVideoRequest,
  stop_videostream: MSG.liveVideoControl,
  playback_video: MSG.playbackRequest,
  video_timeline: MSG.queryRecordings,
};

function invalid(reason: string): never {
  throw new EdgeError('EDGE_COMMAND_INVALID', reason);
}

/** Validated properties: unknown names, wrong types and out-of-range values are EDGE_COMMAND_INVALID. */
function checked(spec: CommandSpec, props: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(props)) if (!(k in spec.properties)) invalid(`${spec.name}: unknown property "${k}"`);
  for (const [k, p] of Object.entries(spec.properties)) {
    const v = props[k];
    if (v === undefined) {
      if (p.required) invalid(`${spec.name}.${k} is required (${p.description})`);
      continue;
    }
    if (p.type === 'integer') {
      if (typeof v !== 'number' || !Number.isInteger(v) || (p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) invalid(`${spec.name}.${k} expects an integer ${p.min}..${p.max}, got ${JSON.stringify(v)}`);
    } else if (p.type === 'boolean') {
      if (typeof v !== 'boolean') invalid(`${spec.name}.${k} expects true or false`);
    } else if (typeof v !== 'string') invalid(`${spec.name}.${k} expects a string`);
  }
  return props;
}

function ascii(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) invalid(`${what} must be printable ASCII (GBK text is not encoded yet)`);
    out[i] = c;
  }
  return out;
}

function ipPorts(w: ByteWriter, p: Record<string, unknown>): void {
  const ip = ascii(p.server_ip as string, 'server_ip');
  if (ip.length === 0 || ip.length > 255) invalid('server_ip must be 1..255 characters');
  w.u8(ip.length).bytes(ip).u16(p.tcp_port as number).u16((p.udp_port as number | undefined) ?? 0).u8(p.channel as number);
}

/**
 * 0x9101/0x9201 without `server_ip`: the camera streams to this server's stream listener, which the
 * channel writes into every main link's session (`serverParts.stream`: its advertise_host or the
 * local address the terminal reached, and the port). Both or neither of server_ip and tcp_port.
 */
function ownStreamServer(p: Record<string, unknown>, session: Readonly<SessionState>): boolean {
  if (p.server_ip !== undefined) {
    if (p.tcp_port === undefined) invalid('tcp_port goes with server_ip (or leave both out to stream to this server)');
    return false;
  }
  if (p.tcp_port !== undefined) invalid('server_ip goes with tcp_port (or leave both out to stream to this server)');
  const parts = session.serverParts as Record<string, { host?: unknown; tcp_port?: unknown }> | undefined;
  const s = parts?.stream;
  if (!s || typeof s.host !== 'string' || typeof s.tcp_port !== 'number') invalid('no server_ip given and this channel has no stream listener (config stream_tcp_port)');
  p.server_ip = s.host;
  p.tcp_port = s.tcp_port;
  return true;
}

const PARAM = /^([0-9a-f]{1,8})=((?:[0-9a-f]{2})*)$/i;

function body(name: string, p: Record<string, unknown>): Uint8Array {
  const w = new ByteWriter(64);
  const tz = (p.timezone_offset_minutes as number | undefined) ?? 480;
  switch (name) {
    case 'text_message':
      w.u8((p.flags as number | undefined) ?? 1).bytes(ascii(p.text as string, 'text'));
      break;
    case 'set_parameters': {
      const pairs = (p.parameters as string).split(',').filter((s) => s !== '');
      if (pairs.length === 0 || pairs.length > 255) invalid('set_parameters.parameters needs 1..255 id=value pairs');
      w.u8(pairs.length);
      for (const pair of pairs) {
        const m = PARAM.exec(pair.trim());
        if (!m) invalid(`set_parameters.parameters: "${pair}" is not id=value in hex`);
        const v = fromHex(m[2]!);
        if (v.length > 255) invalid(`set_parameters.parameters: value of ${m[1]} exceeds 255 bytes`);
        w.u32(parseInt(m[1]!, 16)).u8(v.length).bytes(v);
      }
      break;
    }
    case 'query_parameters':
      break;
    case 'take_photo':
      w.u8(p.channel as number)
        .u16((p.count as number | undefined) ?? 1)
        .u16((p.interval_s as number | undefined) ?? 0)
        .u8(p.save === true ? 1 : 0)
        .u8((p.resolution as number | undefined) ?? 1)
        .u8((p.quality as number | undefined) ?? 5)
        .u8((p.brightness as number | undefined) ?? 128)
        .u8((p.contrast as number | undefined) ?? 64)
        .u8((p.saturation as number | undefined) ?? 64)
        .u8((p.chroma as number | undefined) ?? 128);
      break;
    case 'stop_videostream':
      w.u8(p.channel as number)
        .u8((p.control as number | undefined) ?? 0)
        .u8((p.close_type as number | undefined) ?? 0)
        .u8((p.stream as number | undefined) ?? 0);
      break;
    case 'start_videostream':
      ipPorts(w, p);
      w.u8((p.data_type as number | undefined) ?? 0).u8((p.stream as number | undefined) ?? 0);
      break;
    case 'playback_video':
      ipPorts(w, p);
      w.u8((p.av_type as number | undefined) ?? 0)
        .u8((p.stream as number | undefined) ?? 0)
        .u8((p.storage as number | undefined) ?? 0)
        .u8((p.mode as number | undefined) ?? 0)
        .u8((p.speed as number | undefined) ?? 0)
        .bytes(bcdTimeBytes(p.start as number, tz))
        .bytes(bcdTimeBytes(p.end as number, tz));
      break;
    default: {
      // video_timeline
      const alarm = (p.alarm_flags as string | undefined) ?? '0000000000000000';
      if (!/^[0-9a-f]{16}$/i.test(alarm)) invalid('video_timeline.alarm_flags expects 16 hex digits');
      w.u8(p.channel as number)
        .bytes(bcdTimeBytes(p.start as number, tz))
        .bytes(bcdTimeBytes(p.end as number, tz))
        .bytes(fromHex(alarm.toLowerCase()))
        .u8((p.av_type as number | undefined) ?? 0)
        .u8((p.stream as number | undefined) ?? 0)
        .u8((p.storage as number | undefined) ?? 0);
    }
  }
  const out = w.finish();
  if (out.length > 1023) invalid(`${name}: a ${out.length}-byte body exceeds the 1023-byte limit (sub-packaged commands are not sent)`);
  return out;
}

/** `custom`: the message id and body it sends (text → 0x8300, data → as given). */
function customBody(p: Record<string, unknown>): { msgId: number; body: Uint8Array } {
  if ((p.text === undefined) === (p.data === undefined)) invalid('custom: give exactly one of text or data');
  if (p.text !== undefined) {
    if (p.message_id !== undefined) invalid('custom: message_id goes with data, text is always 0x8300');
    return { msgId: MSG.textMessage, body: body('text_message', { text: p.text, flags: p.flags }) };
  }
  if (p.message_id === undefined || p.flags !== undefined) invalid('custom: data needs message_id (and no flags)');
  const data = p.data as string;
  if (!/^([0-9a-f]{2})*$/i.test(data)) invalid('custom.data must be hex bytes');
  const b = fromHex(data.toLowerCase());
  if (b.length > 1023) invalid(`custom: a ${b.length}-byte body exceeds the 1023-byte limit (sub-packaged commands are not sent)`);
  return { msgId: p.message_id as number, body: b };
}

export function encode(command: CommandRequest, session: Readonly<SessionState>): EncodedCommand {
  if (command.name === UPLOAD_RESULT_REQUEST) return encodeUploadResult(command, session);
  const spec = SPECS.get(command.name);
  if (!spec) throw new EdgeError('EDGE_COMMAND_UNKNOWN', `jt808 has no command "${command.name}"; known: ${[...SPECS.keys()].join(', ')}`);
  // a copy: filling in this server's stream address must not change the queued command's properties
  const props = checked(spec, { ...(command.properties ?? {}) });
  const custom = spec.name === 'custom' ? customBody(props) : null;
  const version = session.jt808Version === 2019 ? 2019 : 2013;
  const ident = typeof session.ident === 'string' ? session.ident : '';
  const phone = phoneFromIdent(ident, version);
  if (!phone) invalid(`the terminal's ident ${JSON.stringify(ident)} is not known or does not fit a ${version} header (the device must have sent a frame first)`);
  const serial = typeof session.platformSerial === 'number' ? session.platformSerial & 0xffff : 0;
  // The device's answer (0x0001, 0x0104, 0x0805, 0x1205) names this serial: the reply key carries it,
  // so the command queue correlates by serial, not by arrival order.
  if (custom) return { bytes: buildFrame(custom.msgId, phone, serial, custom.body, version), replyKey: replyKeyOf(custom.msgId, serial) };
  const own = (spec.name === 'start_videostream' || spec.name === 'playback_video') && ownStreamServer(props, session);
  const out: EncodedCommand = { bytes: buildFrame(MSG_OF[spec.name]!, phone, serial, body(spec.name, props), version), replyKey: spec.replyKey === null ? null : `${spec.replyKey}#${serial}` };
  // the device's 0x0001 is only the first step: the clip recorded to the media store ends a
  // playback to this server; the uploaded photo (0x0801 stored) ends a take_photo that is not saved
  if (own && spec.name === 'playback_video') out.then = 'stream:playback';
  if (spec.name === 'take_photo' && props.save !== true && ((props.count as number | undefined) ?? 1) > 0 && ((props.count as number | undefined) ?? 1) !== 0xffff) out.then = 'media:image';
  return out;
}

/** Inverse of encode: a server frame back to the command (optional properties written out explicitly). */
export function parseCommand(bytes: Uint8Array): CommandRequest {
  const f = unescapeFrame(bytes);
  const { header: h } = readHeader(f, false);
  const r = new ByteReader(f, 0, f.length - 2);
  r.pos = h.bodyStart;
  const timeAt = (tz: number) => {
    const at = r.pos;
    r.skip(6, 'BCD time');
    return bcdTimeAt(f, at, tz) ?? 0;
  };
  const ipPortsBack = () => {
    const n = r.u8('ip length');
    return { server_ip: r.ascii(n, 'ip'), tcp_port: r.u16('tcp port'), udp_port: r.u16('udp port'), channel: r.u8('channel') };
  };
  let out: CommandRequest;
  switch (h.msgId) {
    case MSG.textMessage: {
      const flags = r.u8('flags');
      out = { name: 'text_message', properties: { text: r.ascii(r.remaining, 'text'), flags } };
      break;
    }
    case MSG.setParameters:
      out = { name: 'set_parameters', properties: { parameters: parameterList(r, r.u8('parameter count')) } };
      break;
    case MSG.queryParameters:
      out = { name: 'query_parameters', properties: {} };
      break;
    case MSG.takePhoto:
      out = {
        name: 'take_photo',
        properties: {
          channel: r.u8('channel'),
          count: r.u16('command'),
          interval_s: r.u16('interval'),
          save: r.u8('save flag') === 1,
          resolution: r.u8('resolution'),
          quality: r.u8('quality'),
          brightness: r.u8('brightness'),
          contrast: r.u8('contrast'),
          saturation: r.u8('saturation'),
          chroma: r.u8('chroma'),
        },
      };
      break;
    case MSG.liveVideoRequest:
      out = { name: 'start_videostream', properties: { ...ipPortsBack(), data_type: r.u8('data type'), stream: r.u8('stream') } };
      break;
    case MSG.liveVideoControl:
      out = { name: 'stop_videostream', properties: { channel: r.u8('channel'), control: r.u8('control'), close_type: r.u8('close type'), stream: r.u8('stream') } };
      break;
    case MSG.playbackRequest: {
      // the zone is not on the wire: times are read back as UTC+8, the encoder's default
      const props: Record<string, unknown> = { ...ipPortsBack(), av_type: r.u8('av type'), stream: r.u8('stream'), storage: r.u8('storage'), mode: r.u8('mode'), speed: r.u8('speed') };
      props.start = timeAt(480);
      props.end = timeAt(480);
      out = { name: 'playback_video', properties: props };
      break;
    }
    case MSG.queryRecordings: {
      const channel = r.u8('channel');
      const start = timeAt(480);
      const end = timeAt(480);
      out = { name: 'video_timeline', properties: { channel, start, end, alarm_flags: toHex(r.bytes(8, 'alarm flags')), av_type: r.u8('av type'), stream: r.u8('stream'), storage: r.u8('storage') } };
      break;
    }
    default:
      // any other platform message: the raw `custom` form gives these bytes back
      out = { name: 'custom', properties: { message_id: h.msgId, data: toHex(r.rest()) } };
  }
  if (r.remaining > 0) throw new EdgeError('EDGE_DECODE_TRAILING', `${r.remaining} byte(s) after the command body`, r.offset);
  return out;
}

