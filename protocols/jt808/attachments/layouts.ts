/**
 * Bodies of the alarm attachment upload (Subiao T/JSATL12 §4.5 as implemented by go-jt808
 * `attachment/` and the SmallChi/JT808 SuBiao extension; the flow is in README.md "Alarm attachments"):
 *
 * ```
 *  0x9208 (server, main link)  ip len u8 | ip ASCII | tcp u16 | udp u16 | identification[N] | alarm number[32] | reserved[16]
 *  0x1210 (device, attachment) terminal id[T] | identification[N] | alarm number[32] | info type u8 | count u8
 *                              | count × (name len u8 | name | size u32)
 *  0x1211 / 0x1212 (device)    name len u8 | name | type u8 (0 picture, 1 audio, 2 video, 3 text, 4 other) | size u32
 *  0x9212 (server)             name len u8 | name | type u8 | result u8 (0 done, 1 resend) | count u8 | count × (offset u32 | length u32)
 *  data chunk (raw, no 7E)     30 31 63 64 | name[50] zero-padded | offset u32 | length u32 | data[length]
 * ```
 *
 * N is the identification width (variants.ts), T its terminal-id width. Fixed parts are read with
 * binary-parser; the variable file list with the bounds-checked reader, so a short body is a typed
 * EDGE_DECODE_TRUNCATED with the offset of the field.
 */
import bp from 'binary-parser/dist/binary_parser.js';
import { ByteReader } from '../../../src/codec/byte-reader.js';
import { ByteWriter } from '../../../src/codec/byte-writer.js';
import { EdgeError } from '../../../src/errors.js';
import type { MediaKind } from '../../../src/protocol/types.js';
import { identificationLayout, type IdentificationBytes } from './variants.js';

export const CHUNK_MAGIC = Uint8Array.of(0x30, 0x31, 0x63, 0x64);
export const CHUNK_NAME_BYTES = 50;
/** magic + name + offset + length. */
export const CHUNK_HEADER_BYTES = 4 + CHUNK_NAME_BYTES + 4 + 4;
export const ALARM_NUMBER_BYTES = 32;
/** 0x9212 lists at most this many ranges (count is a u8); the rest are asked for after the resend. */
export const MAX_RANGES_PER_RESULT = 255;

export interface AttachmentFileEntry {
  name: string;
  size: number;
}

export interface FileList {
  terminalId: Uint8Array;
  identification: Uint8Array;
  alarmNumber: Uint8Array;
  infoType: number;
  files: AttachmentFileEntry[];
}

export interface FileInfo {
  name: string;
  type: number;
  size: number;
}

export interface ChunkHeader {
  name: string;
  offset: number;
  length: number;
}

const chunkHeader = new bp.Parser()
  .skip(4)
  .buffer('name', { length: CHUNK_NAME_BYTES })
  .uint32be('offset')
  .uint32be('length');

const fileInfoTail = new bp.Parser().uint8('type').uint32be('size');

/** Printable name bytes (trailing NULs dropped); bytes outside printable ASCII are kept as latin1. */
export function nameText(b: Uint8Array): string {
  let e = b.length;
  while (e > 0 && b[e - 1] === 0) e--;
  let s = '';
  for (let i = 0; i < e; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function nameBytes(name: string, what: string): Uint8Array {
  const out = new Uint8Array(name.length);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff) throw new EdgeError('EDGE_COMMAND_INVALID', `${what} must be latin1/ASCII`);
    out[i] = c;
  }
  return out;
}

export function readChunkHeader(b: Uint8Array, at: number): ChunkHeader {
  if (b.length - at < CHUNK_HEADER_BYTES) throw new EdgeError('EDGE_DECODE_TRUNCATED', `a data chunk header needs ${CHUNK_HEADER_BYTES} bytes, ${b.length - at} left`, at);
  const h = chunkHeader.parse(b.subarray(at, at + CHUNK_HEADER_BYTES)) as { name: Uint8Array; offset: number; length: number };
  return { name: nameText(h.name), offset: h.offset, length: h.length };
}

export function readFileList(r: ByteReader, variant: IdentificationBytes): FileList {
  const layout = identificationLayout(variant);
  const terminalId = r.bytes(layout.terminalIdBytes, 'terminal id');
  const identification = r.bytes(variant, 'alarm identification');
  const alarmNumber = r.bytes(ALARM_NUMBER_BYTES, 'alarm number');
  const infoType = r.u8('info type');
  const count = r.u8('file count');
  const files: AttachmentFileEntry[] = [];
  for (let i = 0; i < count; i++) {
    const n = r.u8(`file ${i + 1} name length`);
    const name = nameText(r.bytes(n, `file ${i + 1} name`));
    files.push({ name, size: r.u32(`file ${i + 1} size`) });
  }
  return { terminalId, identification, alarmNumber, infoType, files };
}

export function readFileInfo(r: ByteReader): FileInfo {
  const n = r.u8('file name length');
  const name = nameText(r.bytes(n, 'file name'));
  r.need(5, 'file type and size');
  const t = fileInfoTail.parse(r.bytes(5, 'file type and size')) as { type: number; size: number };
  return { name, type: t.type, size: t.size };
}

/** 0x1211 type byte → media kind (3 text and 4 other are plain files). */
export function kindOfType(type: number): MediaKind {
  return type === 0 ? 'image' : type === 1 ? 'audio' : type === 2 ? 'video' : 'file';
}

/** 0x9208 body. `host` is what the device connects to (ASCII, 1..255 characters). */
export function uploadRequestBody(host: string, tcpPort: number, udpPort: number, identification: Uint8Array, alarmNumber: Uint8Array): Uint8Array {
  const ip = nameBytes(host, 'attachment host');
  if (ip.length === 0 || ip.length > 255) throw new EdgeError('EDGE_CONFIG_INVALID', `the attachment server address "${host}" must be 1..255 characters`);
  if (alarmNumber.length !== ALARM_NUMBER_BYTES) throw new RangeError('an alarm number has 32 bytes');
  return new ByteWriter(128).u8(ip.length).bytes(ip).u16(tcpPort).u16(udpPort).bytes(identification).bytes(alarmNumber).bytes(new Uint8Array(16)).finish();
}

/**
 * 0x9212 body. `missing` empty → result 0 (done); otherwise result 1 with the ranges, at most as many
 * as fit a 1023-byte body and the u8 count (the device is asked for the rest after its next 0x1212).
 */
export function uploadResultBody(name: string, type: number, missing: readonly (readonly [number, number])[]): Uint8Array {
  const nb = nameBytes(name, 'file name');
  if (nb.length > 255) throw new EdgeError('EDGE_COMMAND_INVALID', 'a file name has at most 255 bytes');
  const room = Math.min(MAX_RANGES_PER_RESULT, Math.floor((1023 - 4 - nb.length) / 8));
  const ranges = missing.slice(0, room);
  const w = new ByteWriter(16 + nb.length + 8 * ranges.length).u8(nb.length).bytes(nb).u8(type).u8(ranges.length > 0 ? 1 : 0).u8(ranges.length);
  for (const [offset, length] of ranges) w.u32(offset).u32(length);
  return w.finish();
}

/** Device-side builders (simulated dashcam, tests): the same layouts the decoder reads. */
export function fileListBody(variant: IdentificationBytes, terminalId: string, identification: Uint8Array, alarmNumber: Uint8Array, infoType: number, files: readonly AttachmentFileEntry[]): Uint8Array {
  const layout = identificationLayout(variant);
  const tid = new Uint8Array(layout.terminalIdBytes);
  tid.set(nameBytes(terminalId, 'terminal id').subarray(0, tid.length));
  if (identification.length !== variant) throw new RangeError(`the identification has ${variant} bytes`);
  const w = new ByteWriter(128).bytes(tid).bytes(identification).bytes(alarmNumber).u8(infoType).u8(files.length);
  for (const f of files) {
    const nb = nameBytes(f.name, 'file name');
    w.u8(nb.length).bytes(nb).u32(f.size);
  }
  return w.finish();
}

export function fileInfoBody(name: string, type: number, size: number): Uint8Array {
  const nb = nameBytes(name, 'file name');
  return new ByteWriter(16 + nb.length).u8(nb.length).bytes(nb).u8(type).u32(size).finish();
}

export function chunkBytes(name: string, offset: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_HEADER_BYTES + data.length);
  out.set(CHUNK_MAGIC, 0);
  out.set(nameBytes(name, 'file name').subarray(0, CHUNK_NAME_BYTES), 4);
  const v = new DataView(out.buffer);
  v.setUint32(4 + CHUNK_NAME_BYTES, offset);
  v.setUint32(8 + CHUNK_NAME_BYTES, data.length);
  out.set(data, CHUNK_HEADER_BYTES);
  return out;
}

/** 0x9212 body back to its fields (simulated dashcam, tests). */
export function readUploadResult(body: Uint8Array): { name: string; type: number; result: number; missing: [number, number][] } {
  const r = new ByteReader(body);
  const n = r.u8('name length');
  const name = nameText(r.bytes(n, 'name'));
  const type = r.u8('type');
  const result = r.u8('result');
  const count = r.u8('count');
  const missing: [number, number][] = [];
  for (let i = 0; i < count; i++) missing.push([r.u32('offset'), r.u32('length')]);
  return { name, type, result, missing };
}

/** 0x9208 body back to its fields. */
export function readUploadRequest(body: Uint8Array, variant: IdentificationBytes): { host: string; tcpPort: number; udpPort: number; identification: Uint8Array; alarmNumber: Uint8Array } {
  const r = new ByteReader(body);
  const n = r.u8('ip length');
  const host = r.ascii(n, 'ip');
  const tcpPort = r.u16('tcp port');
  const udpPort = r.u16('udp port');
  const identification = r.bytes(variant, 'identification');
  const alarmNumber = r.bytes(ALARM_NUMBER_BYTES, 'alarm number');
  r.bytes(16, 'reserved');
  return { host, tcpPort, udpPort, identification, alarmNumber };
}
