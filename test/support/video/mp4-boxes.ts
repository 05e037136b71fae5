/** Test helpers: a small ISO BMFF reader, to check the muxer's output box by box without trusting it. */
import assert from 'node:assert/strict';

export interface Box {
  type: string;
  /** Offset of the box's first byte in the buffer given to `readBoxes`. */
  start: number;
  size: number;
  /** Offset of the body (after size and type; a full box's version/flags are part of the body). */
  body: number;
  children: Box[];
}

/** Boxes whose body is only boxes; stsd and dref start with an entry count, avc1 with its fixed fields. */
const CONTAINERS: Record<string, number> = { moov: 0, trak: 0, mdia: 0, minf: 0, stbl: 0, mvex: 0, moof: 0, traf: 0, dinf: 0, stsd: 8, dref: 8, avc1: 78 };

/** Reads boxes from start to end, failing the test unless their sizes tile the range exactly. */
export function readBoxes(b: Uint8Array, start = 0, end = b.length): Box[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Box[] = [];
  let at = start;
  while (at < end) {
    assert.ok(at + 8 <= end, `box header at ${at} runs past ${end}`);
    const size = view.getUint32(at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    assert.ok(size >= 8 && at + size <= end, `${type} at ${at}: size ${size} runs past ${end}`);
    const box: Box = { type, start: at, size, body: at + 8, children: [] };
    const skip = CONTAINERS[type];
    if (skip !== undefined) box.children = readBoxes(b, box.body + skip, at + size);
    out.push(box);
    at += size;
  }
  assert.equal(at, end, 'boxes do not end where their parent does');
  return out;
}

/** The first box at a path of types (`moof/traf/trun`). */
export function find(boxes: Box[], path: string): Box {
  const [head, ...rest] = path.split('/');
  const box = boxes.find((x) => x.type === head);
  assert.ok(box, `no ${head} box (have ${boxes.map((x) => x.type).join(', ')})`);
  return rest.length === 0 ? box : find(box.children, rest.join('/'));
}

export const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
export const u64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at));

export interface TrunSample {
  duration: number;
  size: number;
  flags: number;
}

/** A fragment's facts: sequence, tfdt, trun samples (the muxer's flags: duration, size and flags per sample) and the mdat. */
export function readFragment(b: Uint8Array, moof: Box) {
  const sequence = u32(b, find(moof.children, 'mfhd').body + 4);
  const tfhd = find(moof.children, 'traf/tfhd');
  const tfdt = find(moof.children, 'traf/tfdt');
  const trun = find(moof.children, 'traf/trun');
  assert.equal(b[tfdt.body], 1, 'tfdt version 1 (64-bit time)');
  const count = u32(b, trun.body + 4);
  const dataOffset = u32(b, trun.body + 8);
  const samples: TrunSample[] = [];
  for (let i = 0; i < count; i++) {
    const at = trun.body + 12 + 12 * i;
    samples.push({ duration: u32(b, at), size: u32(b, at + 4), flags: u32(b, at + 8) });
  }
  return { sequence, tfhdFlags: u32(b, tfhd.body) & 0xffffff, trackId: u32(b, tfhd.body + 4), baseTime: u64(b, tfdt.body + 4), trunFlags: u32(b, trun.body) & 0xffffff, dataOffset, samples };
}
