/**
 * The camera part: the separate TCP connection on which Teltonika's camera add-ons (DualCam,
 * DashCam, ADAS, DSM) upload photos and videos (ref §7; vendor "DualCam Communication Protocol").
 * Every packet is `u16 command | u16 length | data`, except the device's 16-byte init packet, the
 * only device packet that starts with 0x0000:
 *
 * ```
 *  init   0000 | u16 protocol id | u64 IMEI | u32 settings (bit 26 photo front, 27 photo rear,
 *                                              28 video front, 29 video rear, 25 ask for a path) [S]
 *  device 0001 START (u32 packets, u16 blank) · 0003 SYNC (u32 position) · 0004 DATA (bytes + u16 CRC)
 *         0005 end of file [S] · 000b metadata · 000d file path (ASCII)
 *  server 0008 FILE REQUEST (name) · 0002 RESUME (u32 position) · 0005 COMPLETE (u32 0) · 0000 CLOSE
 *         000c FILE PATH REQUEST (u16 0) [S]
 * ```
 *
 * The server leads: it asks for each file the init offers, in the order photo front, photo rear,
 * video front, video rear; START says how many 1024-byte packets follow (values ≥ 8192 are byte
 * sizes [U, ref §7.5]); RESUME names where to start: packet 1 / byte 0, or after the last good
 * packet when a DATA packet's CRC is wrong (CRC-16/KERMIT of the chunk, or running over the file:
 * the vendor text allows both readings, ref §10.10, so either is accepted). Each good DATA packet is
 * a `file-chunk` effect at its byte offset: it is stored (synced) by the media store before the next
 * reply, and the last one completes the file and announces it (`media.image.1/2`, `media.video.1/2`
 * for front/rear, with `camera.file.name` and `camera.source`). Transfer state is small and lives in
 * the link's session (`camera`); resuming a file on a new connection is not done (ref §10.10: the
 * protocol has no file id).
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import { crc16Kermit } from '../../src/codec/crc.js';
import { toHex } from '../../src/codec/hex.js';
import { EdgeError, type ErrorInfo } from '../../src/errors.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type DecodeContext, type DecodeEffect, type DecodeResult, type DecodeWarning, type MediaKind, type Message, type ProtocolPart } from '../../src/protocol/types.js';

export const CAM = {
  close: 0x0000,
  start: 0x0001,
  resume: 0x0002,
  sync: 0x0003,
  data: 0x0004,
  complete: 0x0005,
  fileRequest: 0x0008,
  repeatInit: 0x0009,
  queryMetadata: 0x000a,
  metadata: 0x000b,
  pathRequest: 0x000c,
  pathResponse: 0x000d,
} as const;

const DEVICE_CMDS: ReadonlySet<number> = new Set([CAM.start, CAM.sync, CAM.data, CAM.complete, CAM.metadata, CAM.pathResponse]);
const INIT_BYTES = 16;
const PACKET_BYTES = 1024;
/** START values below this count 1024-byte packets, larger ones bytes (Traccar's rule, ref §7.5). */
const PACKET_MODE_LIMIT = 8192;
const MAX_CAMERA_FRAME = 4 + PACKET_BYTES * 4 + 2;

/** Settings bits → the file identifiers the server requests, in request order [S: Traccar's bit positions]. */
const OFFERS: readonly [number, string][] = [
  [26, '%photof'],
  [27, '%photor'],
  [28, '%videof'],
  [29, '%videor'],
];
const PATH_BIT = 25;

interface CameraFile {
  name: string;
  /** START value; absent until START. */
  total?: number;
  bytes?: boolean;
  got: number;
  offset: number;
  crc: number;
}
interface CameraState {
  queue: string[];
  file: CameraFile | null;
}

export function splitCamera(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 4) return SPLIT_NEED_MORE;
  const cmd = (buf[start]! << 8) | buf[start + 1]!;
  if (cmd === 0) return n < INIT_BYTES ? SPLIT_NEED_MORE : INIT_BYTES;
  if (!DEVICE_CMDS.has(cmd)) return SPLIT_INVALID;
  const total = 4 + ((buf[start + 2]! << 8) | buf[start + 3]!);
  if (total > MAX_CAMERA_FRAME) return SPLIT_INVALID;
  return n < total ? SPLIT_NEED_MORE : total;
}

function explainCamera(buf: Uint8Array, start: number, end: number): ErrorInfo {
  const cmd = end - start >= 2 ? (buf[start]! << 8) | buf[start + 1]! : -1;
  if (cmd >= 0 && !DEVICE_CMDS.has(cmd)) return { code: 'EDGE_FRAME_LENGTH', reason: `0x${cmd.toString(16).padStart(4, '0')} is not a camera device command`, offset: 0 };
  return { code: 'EDGE_FRAME_LENGTH', reason: `camera packet longer than ${MAX_CAMERA_FRAME} bytes`, offset: 2 };
}

function packet(cmd: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  out[0] = cmd >>> 8;
  out[1] = cmd & 0xff;
  out[2] = data.length >>> 8;
  out[3] = data.length & 0xff;
  out.set(data, 4);
  return out;
}
const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
const fileRequest = (name: string) => packet(CAM.fileRequest, Uint8Array.from(name, (c) => c.charCodeAt(0) & 0xff));

/** What a file is, from its identifier or path: kind, front/rear, the announce prefix, a name with an extension. */
export function describeFile(name: string): { kind: MediaKind; source: string; announce: string; fileName: string } {
  const m = /^%(photo|video)([fr])$/.exec(name);
  if (m) {
    const kind: MediaKind = m[1] === 'photo' ? 'image' : 'video';
    const rear = m[2] === 'r';
    return { kind, source: rear ? 'rear' : 'front', announce: `media.${kind}.${rear ? 2 : 1}`, fileName: kind === 'image' ? 'camera.jpg' : 'camera.h265' };
  }
  const ext = /\.([a-z0-9]{1,8})$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  const kind: MediaKind = ['jpg', 'jpeg', 'png'].includes(ext) ? 'image' : ['mp4', 'h264', 'h265', 'avi', 'mov'].includes(ext) ? 'video' : 'file';
  return { kind, source: 'path', announce: `media.${kind === 'file' ? 'file' : kind}.1`, fileName: ext ? `camera.${ext}` : 'camera' };
}

function stateOf(ctx: DecodeContext): CameraState {
  const s = ctx.session.camera as CameraState | undefined;
  return s ?? { queue: [], file: null };
}

/** After a file: the next one the init offered, or COMPLETE (nothing more is wanted). */
function next(state: CameraState): { reply: Uint8Array; state: CameraState } {
  const [name, ...rest] = state.queue;
  if (name === undefined) return { reply: packet(CAM.complete, u32(0)), state: { queue: [], file: null } };
  return { reply: fileRequest(name), state: { queue: rest, file: { name, got: 0, offset: 0, crc: 0 } } };
}

function position(f: CameraFile): number {
  return f.bytes ? f.offset : f.got + 1;
}

export function decodeCamera(frame: Uint8Array, ctx: DecodeContext): DecodeResult {
  const warnings: DecodeWarning[] = [];
  if (frame.length < 4) throw new EdgeError('EDGE_DECODE_TRUNCATED', `camera packet of ${frame.length} byte(s)`, 0);
  const cmd = (frame[0]! << 8) | frame[1]!;
  if (cmd === 0) return decodeInit(frame, ctx, warnings);
  const len = (frame[2]! << 8) | frame[3]!;
  if (len + 4 !== frame.length) throw new EdgeError('EDGE_FRAME_LENGTH', `length field ${len} announces ${len + 4} bytes, got ${frame.length}`, 2);
  const ident = ctx.session.ident;
  if (typeof ident !== 'string') throw new EdgeError('EDGE_DECODE_INVALID', 'camera packet before the init packet: the device is unknown', 0);
  const r = new ByteReader(frame, 4, frame.length);
  const state = stateOf(ctx);
  const f = state.file;
  const result = (replies: Uint8Array[], camera: CameraState, messages: Message[] = [], effects: DecodeEffect[] = []): DecodeResult => {
    const out: DecodeResult = { messages, replies, session: { camera }, warnings };
    if (effects.length > 0) out.effects = effects;
    return out;
  };
  switch (cmd) {
    case CAM.pathResponse: {
      const path = r.ascii(len, 'file path').replace(/\0+$/, '');
      if (!/^[\x20-\x7e]{1,255}$/.test(path)) throw new EdgeError('EDGE_DECODE_INVALID', 'file path is not 1..255 printable characters', 4);
      return result([fileRequest(path)], { queue: state.queue, file: { name: path, got: 0, offset: 0, crc: 0 } });
    }
    case CAM.start: {
      const total = r.u32('file packet count');
      if (f === null) throw new EdgeError('EDGE_DECODE_INVALID', 'START without a file request', 0);
      if (total === 0) return result([next(state).reply], next(state).state);
      // the same file started again on this connection (after a lost SYNC): resume after what arrived
      const same = f.total === total;
      const file: CameraFile = same ? f : { name: f.name, total, bytes: total >= PACKET_MODE_LIMIT, got: 0, offset: 0, crc: 0 };
      return result([packet(CAM.resume, u32(position(file)))], { queue: state.queue, file });
    }
    case CAM.sync: {
      const at = r.u32('position');
      if (f?.total === undefined) throw new EdgeError('EDGE_DECODE_INVALID', 'SYNC before START', 0);
      if (at !== position(f)) warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `SYNC names position ${at}, the server asked for ${position(f)}` });
      return result([], state);
    }
    case CAM.data: {
      if (f?.total === undefined) throw new EdgeError('EDGE_DECODE_INVALID', 'DATA before START', 0);
      if (len < 3) throw new EdgeError('EDGE_DECODE_TRUNCATED', 'DATA without bytes and CRC', 2);
      const end = frame.length - 2;
      const wire = (frame[end]! << 8) | frame[end + 1]!;
      const chunk = crc16Kermit(frame, 4, end);
      const running = crc16Kermit(frame, 4, end, f.crc);
      if (wire !== chunk && wire !== running) {
        warnings.push({ code: 'EDGE_DECODE_CHECKSUM', reason: `DATA CRC 0x${wire.toString(16)} matches neither the chunk (0x${chunk.toString(16)}) nor the file so far (0x${running.toString(16)}); asked again from ${position(f)}` });
        return result([packet(CAM.resume, u32(position(f)))], state);
      }
      const bytes = frame.slice(4, end);
      const file: CameraFile = { ...f, got: f.got + 1, offset: f.offset + bytes.length, crc: running };
      const final = file.bytes ? file.offset >= f.total : file.got >= f.total;
      const effect = chunkEffect(f.name, f.offset, bytes, final);
      if (!final) return result([], { queue: state.queue, file }, [], [effect]);
      const n = next(state);
      return result([n.reply], n.state, [], [effect]);
    }
    case CAM.complete: {
      // the device ends the file [S: Traccar]: what arrived is the file
      const n = next(state);
      if (f === null || f.offset === 0) return result([n.reply], n.state);
      return result([n.reply], n.state, [], [chunkEffect(f.name, f.offset, new Uint8Array(0), true)]);
    }
    case CAM.metadata: {
      // layout partly unknown (ref §7.4): kept raw, never blocks the transfer
      const m: Message = { ident, timestamp: ctx.receivedAtMs / 1000, 'camera.metadata.hex': toHex(r.rest()) };
      return result([], state, [m]);
    }
    default:
      throw new EdgeError('EDGE_DECODE_INVALID', `0x${cmd.toString(16).padStart(4, '0')} is not a camera device command`, 0);
  }
}

function chunkEffect(name: string, offset: number, bytes: Uint8Array, final: boolean): DecodeEffect {
  const d = describeFile(name);
  const key = `camera-${name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80)}`;
  const effect: DecodeEffect = { kind: 'file-chunk', key, offset, bytes, final };
  if (final) {
    effect.file = { kind: d.kind, name: d.fileName };
    effect.announce = d.announce;
    effect.meta = { 'camera.file.name': name, 'camera.source': d.source };
  }
  return effect;
}

function decodeInit(frame: Uint8Array, ctx: DecodeContext, warnings: DecodeWarning[]): DecodeResult {
  if (frame.length !== INIT_BYTES) throw new EdgeError('EDGE_FRAME_LENGTH', `init packet of ${frame.length} bytes, expected ${INIT_BYTES}`, 0);
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const protocolId = v.getUint16(2);
  const ident = v.getBigUint64(4).toString();
  const settings = v.getUint32(12);
  const offered = OFFERS.filter(([bit]) => (settings >>> bit) & 1).map(([, name]) => name);
  const m: Message = { ident, timestamp: ctx.receivedAtMs / 1000, 'camera.protocol.id': protocolId, 'camera.settings': settings, 'camera.files.offered': offered.join(',') };
  if ((settings >>> PATH_BIT) & 1) {
    // the camera names the file by path first (DSM pictures) [S]
    return { messages: [m], replies: [packet(CAM.pathRequest, Uint8Array.of(0, 0))], session: { ident, camera: { queue: [], file: null } }, warnings };
  }
  const n = next({ queue: offered, file: null });
  // nothing offered: CLOSE instead of COMPLETE (the device then hangs up)
  const reply = offered.length === 0 ? packet(CAM.close) : n.reply;
  return { messages: [m], replies: [reply], session: { ident, camera: n.state }, warnings };
}

export const cameraPart: ProtocolPart = {
  id: 'camera',
  title: 'Teltonika camera file transfer (DualCam, DashCam, ADAS, DSM)',
  transports: ['tcp'],
  defaultPorts: { tcp: 5028 },
  maxFrameBytes: MAX_CAMERA_FRAME,
  split: splitCamera,
  explainInvalid: explainCamera,
  decode: decodeCamera,
};
