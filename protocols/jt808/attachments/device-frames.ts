/**
 * Device-side frames of a dashcam with active safety, for the simulated dashcam (dashcam-sim.ts)
 * and tests: registration, authentication, a 0x0200 carrying one Subiao alarm item, and the
 * attachment upload (0x1210, 0x1211, 0x1212, data chunks). Built with the protocol's own frame
 * builder and layouts, so what the simulation sends is what the decoder reads.
 */
import { ByteWriter } from '../../../src/codec/byte-writer.js';
import { mulberry32 } from '../../../src/util/prng.js';
import { bcdTimeBytes } from '../bcd-time.js';
import { MSG } from '../constants.js';
import { buildFrame, phoneFromIdent } from '../frame.js';
import { fileInfoBody, fileListBody, type AttachmentFileEntry } from './layouts.js';
import { identificationLayout, type IdentificationBytes } from './variants.js';

export interface Terminal {
  /** Phone number digits (the ident). */
  phone: string;
  /** Terminal id, up to 7 (or 30) ASCII characters. */
  terminalId: string;
  version: 2013 | 2019;
  tzOffsetMin: number;
  idBytes: IdentificationBytes;
}

export class DeviceFrames {
  private serial = 0;
  readonly phone: Uint8Array;

  constructor(readonly t: Terminal) {
    const p = phoneFromIdent(t.phone, t.version);
    if (!p) throw new RangeError(`phone ${t.phone} does not fit a ${t.version} header`);
    this.phone = p;
  }

  frame(msgId: number, body: Uint8Array): Uint8Array {
    const f = buildFrame(msgId, this.phone, this.serial, body, this.t.version);
    this.serial = (this.serial + 1) & 0xffff;
    return f;
  }

  registration(): Uint8Array {
    const w = new ByteWriter(64).u16(32).u16(1100);
    const text = (s: string, n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < Math.min(n, s.length); i++) b[i] = s.charCodeAt(i);
      w.bytes(b);
    };
    text('EDGE1', 5);
    text('SIM-DASHCAM', 20);
    text(this.t.terminalId, 7);
    w.u8(1);
    w.ascii('SIM0001');
    return this.frame(MSG.registration, w.finish());
  }

  authentication(code: string): Uint8Array {
    return this.frame(MSG.authentication, new ByteWriter(32).ascii(code).finish());
  }

  /** The alarm identification: terminal id, time, sequence, attachment count (variants.ts). */
  identification(timeS: number, sequence: number, attachments: number): Uint8Array {
    const L = identificationLayout(this.t.idBytes);
    const out = new Uint8Array(this.t.idBytes);
    for (let i = 0; i < Math.min(L.terminalIdBytes, this.t.terminalId.length); i++) out[i] = this.t.terminalId.charCodeAt(i);
    out.set(bcdTimeBytes(timeS, this.t.tzOffsetMin), L.timeAt);
    out[L.timeAt + 6] = sequence;
    out[L.timeAt + 7] = attachments;
    return out;
  }

  /** 0x0200 with a DSM alarm item 0x65 (flag start) whose identification announces `attachments` files. */
  dsmAlarm(o: { timeS: number; alarmId: number; type: number; level: number; lat: number; lon: number; speedKmh: number; identification: Uint8Array }): Uint8Array {
    const w = new ByteWriter(128);
    const lat = Math.round(o.lat * 1e6);
    const lon = Math.round(o.lon * 1e6);
    const time = bcdTimeBytes(o.timeS, this.t.tzOffsetMin);
    w.u32(0).u32(0x000c0003).u32(lat).u32(lon).u16(20).u16(o.speedKmh * 10).u16(90).bytes(time);
    const item = new ByteWriter(96)
      .u32(o.alarmId)
      .u8(1)
      .u8(o.type)
      .u8(o.level)
      .u8(0)
      .bytes(new Uint8Array(4))
      .u8(o.speedKmh)
      .u16(20)
      .u32(lat)
      .u32(lon)
      .bytes(time)
      .u16(0x0401)
      .bytes(o.identification)
      .finish();
    w.u8(0x65).u8(item.length).bytes(item);
    return this.frame(MSG.location, w.finish());
  }

  fileList(identification: Uint8Array, alarmNumber: Uint8Array, files: readonly AttachmentFileEntry[], resend = false): Uint8Array {
    return this.frame(MSG.attachmentList, fileListBody(this.t.idBytes, this.t.terminalId, identification, alarmNumber, resend ? 1 : 0, files));
  }

  fileInfo(name: string, type: number, size: number): Uint8Array {
    return this.frame(MSG.attachmentInfo, fileInfoBody(name, type, size));
  }

  fileDone(name: string, type: number, size: number): Uint8Array {
    return this.frame(MSG.attachmentDone, fileInfoBody(name, type, size));
  }
}

/**
 * A file's content: a JPEG (SOI, APP0 "JFIF", filler, EOI) or an MP4 (ftyp box, mdat box) around
 * seeded filler bytes. Not a viewable picture or clip: the server stores bytes, it does not decode
 * media, and the structure is enough for `file` and players to recognise the type.
 */
export function simulatedFile(kind: 'image' | 'video', size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const rnd = mulberry32(seed);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rnd() * 256);
  if (kind === 'image') {
    out.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00], 0);
    out.set([0xff, 0xd9], size - 2);
  } else {
    const ftyp = [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31];
    out.set(ftyp, 0);
    const mdat = size - ftyp.length;
    out.set([(mdat >>> 24) & 0xff, (mdat >>> 16) & 0xff, (mdat >>> 8) & 0xff, mdat & 0xff, 0x6d, 0x64, 0x61, 0x74], ftyp.length);
  }
  return out;
}

/** Fisher–Yates with the seeded generator. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const a = xs.slice();
  const rnd = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
