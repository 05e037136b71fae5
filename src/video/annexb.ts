/**
 * H.264 and H.265 Annex B byte streams: NAL units, access units (one picture each), keyframes and
 * parameter sets. Dashcams send Annex B in their JT/T 1078 packets, and a browser player (fMP4) needs
 * whole pictures, a flag for "can start here" and the parameter sets of the decoder configuration,
 * so these are the questions answered here. Pure: bytes in, views of the same bytes out (no copies).
 *
 * Access-unit boundaries follow the standards' rules for "first NAL of a new picture" (H.264 7.4.1.2.3,
 * H.265 7.4.2.4.4), reduced to what a camera stream holds: a new unit starts at a parameter set, an
 * access unit delimiter or a prefix SEI that follows a picture, or at a slice that is the first of its
 * picture (H.264 first_mb_in_slice == 0, H.265 first_slice_segment_in_pic_flag), when the current unit
 * already has a picture. One picture per access unit (no field pairs, no layers), which is what the
 * clips and dashcams produce.
 */

export type VideoCodec = 'h264' | 'h265';

/** One NAL unit: a view of its bytes (header included, start code and trailing zero bytes excluded). */
export interface NalUnit {
  type: number;
  /** Offset of the start code that precedes it, in the input. */
  start: number;
  data: Uint8Array;
}

/** One picture with the NAL units around it; `data` is the Annex B bytes, start codes included. */
export interface AccessUnit {
  nals: NalUnit[];
  keyframe: boolean;
  data: Uint8Array;
}

export interface ParameterSets {
  /** H.265 only (empty for H.264). */
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

const H264_NAMES: Record<number, string> = {
  1: 'slice',
  2: 'slice-a',
  3: 'slice-b',
  4: 'slice-c',
  5: 'idr',
  6: 'sei',
  7: 'sps',
  8: 'pps',
  9: 'aud',
  10: 'end-of-seq',
  11: 'end-of-stream',
  12: 'filler',
  13: 'sps-ext',
  14: 'prefix',
  15: 'subset-sps',
  19: 'aux-slice',
  20: 'slice-ext',
};

const H265_NAMES: Record<number, string> = {
  0: 'trail-n',
  1: 'trail-r',
  2: 'tsa-n',
  3: 'tsa-r',
  4: 'stsa-n',
  5: 'stsa-r',
  6: 'radl-n',
  7: 'radl-r',
  8: 'rasl-n',
  9: 'rasl-r',
  16: 'bla-w-lp',
  17: 'bla-w-radl',
  18: 'bla-n-lp',
  19: 'idr-w-radl',
  20: 'idr-n-lp',
  21: 'cra',
  32: 'vps',
  33: 'sps',
  34: 'pps',
  35: 'aud',
  36: 'eos',
  37: 'eob',
  38: 'fd',
  39: 'prefix-sei',
  40: 'suffix-sei',
};

/** The NAL type from the header byte(s): 5 bits in H.264, 6 bits after the forbidden bit in H.265. */
export function nalType(codec: VideoCodec, nal: Uint8Array): number {
  const b = nal[0] ?? 0;
  return codec === 'h264' ? b & 0x1f : (b >> 1) & 0x3f;
}

/** A short lower-case name of a NAL type (`idr`, `sps`, `cra`, ...), `reserved-N` for the rest. */
export function nalTypeName(codec: VideoCodec, type: number): string {
  return (codec === 'h264' ? H264_NAMES : H265_NAMES)[type] ?? `reserved-${type}`;
}

/** Whether a NAL type is a slice of a picture (VCL). */
export function isVcl(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type >= 1 && type <= 5 : type <= 31;
}

/** Whether a NAL type makes its picture a random access point: H.264 IDR (5), H.265 IRAP (16–21). */
export function isKeyframeNal(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === 5 : type >= 16 && type <= 21;
}

/** Length of a start code (3 or 4) at `i`, or 0. */
export function startCodeAt(buf: Uint8Array, i: number, end: number): number {
  if (i + 3 <= end && buf[i] === 0 && buf[i + 1] === 0) {
    if (buf[i + 2] === 1) return 3;
    if (i + 4 <= end && buf[i + 2] === 0 && buf[i + 3] === 1) return 4;
  }
  return 0;
}

/**
 * The NAL units of an Annex B stream. Bytes before the first start code are not a NAL unit and are
 * ignored (a stream cut mid-unit); trailing zero bytes of a unit are the next start code's
 * `zero_byte`s or padding, never NAL content (a NAL unit ends in a non-zero byte, rbsp_stop_one_bit).
 */
export function splitNalUnits(codec: VideoCodec, buf: Uint8Array): NalUnit[] {
  const out: NalUnit[] = [];
  const end = buf.length;
  let i = 0;
  let current = -1;
  let currentStart = -1;
  while (i + 3 <= end) {
    // a start code needs two zeros: skip fast over bytes that cannot be part of one
    if (buf[i + 2]! > 1) {
      i += 3;
      continue;
    }
    const sc = startCodeAt(buf, i, end);
    if (sc === 0) {
      i++;
      continue;
    }
    if (current >= 0) out.push(makeNal(codec, buf, currentStart, current, i));
    currentStart = i;
    current = i + sc;
    i += sc;
  }
  if (current >= 0) out.push(makeNal(codec, buf, currentStart, current, end));
  return out.filter((n) => n.data.length > 0);
}

function makeNal(codec: VideoCodec, buf: Uint8Array, start: number, from: number, to: number): NalUnit {
  let e = to;
  while (e > from && buf[e - 1] === 0) e--;
  const data = buf.subarray(from, e);
  return { type: nalType(codec, data), start, data };
}

/** Whether a slice NAL is the first slice of its picture (the first bit of the slice header). */
function firstSliceOfPicture(codec: VideoCodec, nal: Uint8Array): boolean {
  // H.264: first_mb_in_slice is ue(v); the value 0 is the single bit 1. H.265: first_slice_segment_in_pic_flag.
  const b = codec === 'h264' ? nal[1] : nal[2];
  return b !== undefined && (b & 0x80) !== 0;
}

/** Non-VCL types that open a new access unit when they follow a picture. */
function opensAccessUnit(codec: VideoCodec, type: number): boolean {
  if (codec === 'h264') return (type >= 6 && type <= 9) || (type >= 14 && type <= 18);
  return (type >= 32 && type <= 35) || type === 39 || (type >= 41 && type <= 44) || (type >= 48 && type <= 55);
}

/** The access units of an Annex B stream (see the file comment for the boundary rule). */
export function splitAccessUnits(codec: VideoCodec, buf: Uint8Array): AccessUnit[] {
  const nals = splitNalUnits(codec, buf);
  const groups: NalUnit[][] = [];
  let cur: NalUnit[] = [];
  let hasPicture = false;
  for (const n of nals) {
    const vcl = isVcl(codec, n.type);
    const boundary = hasPicture && (vcl ? firstSliceOfPicture(codec, n.data) : opensAccessUnit(codec, n.type));
    if (boundary) {
      groups.push(cur);
      cur = [];
      hasPicture = false;
    }
    cur.push(n);
    if (vcl) hasPicture = true;
  }
  if (cur.length > 0) groups.push(cur);
  return groups.map((g, k) => {
    const next = groups[k + 1];
    const end = next ? next[0]!.start : buf.length;
    return { nals: g, keyframe: g.some((n) => isKeyframeNal(codec, n.type)), data: buf.subarray(g[0]!.start, end) };
  });
}

/** Whether an access unit's bytes (Annex B) hold a keyframe picture. */
export function isKeyframe(codec: VideoCodec, accessUnit: Uint8Array): boolean {
  return splitNalUnits(codec, accessUnit).some((n) => isKeyframeNal(codec, n.type));
}

/** The parameter sets among some NAL units, in stream order (what a decoder configuration record needs). */
export function parameterSets(codec: VideoCodec, nals: readonly NalUnit[]): ParameterSets {
  const out: ParameterSets = { vps: [], sps: [], pps: [] };
  for (const n of nals) {
    if (codec === 'h264') {
      if (n.type === 7) out.sps.push(n.data);
      else if (n.type === 8) out.pps.push(n.data);
    } else if (n.type === 32) out.vps.push(n.data);
    else if (n.type === 33) out.sps.push(n.data);
    else if (n.type === 34) out.pps.push(n.data);
  }
  return out;
}
