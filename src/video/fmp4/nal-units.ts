import { EdgeError } from '../../errors.js';

/**
 * The NAL units of one Annex B access unit, as views into it. Private to the muxer: the stream
 * side has its own splitter (src/video/annexb.ts); this one only needs what remuxing an access
 * unit that is already whole needs, and the two are to be merged later.
 */
export function annexBNalUnits(data: Uint8Array): Uint8Array[] {
  const first = nextStartCode(data, 0);
  if (first < 0) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `access unit of ${data.length} bytes has no Annex B start code (00 00 01)`);
  for (let i = 0; i < first; i++) {
    if (data[i] !== 0) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', 'bytes before the first start code', i);
  }
  const units: Uint8Array[] = [];
  let at = first;
  while (at >= 0) {
    const start = at + 3;
    const next = nextStartCode(data, start);
    let end = next < 0 ? data.length : next;
    // trailing_zero_8bits and the leading 00 of a 4-byte start code belong to no NAL unit
    while (end > start && data[end - 1] === 0) end--;
    if (end > start) {
      const header = data[start]!;
      if (header & 0x80) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `NAL unit with forbidden_zero_bit set (header 0x${header.toString(16)})`, start);
      units.push(data.subarray(start, end));
    }
    at = next;
  }
  return units;
}

/** Index of the next 00 00 01 at or after `from`, or −1. */
function nextStartCode(d: Uint8Array, from: number): number {
  for (let i = from; i + 2 < d.length; i++) {
    const c = d[i + 2]!;
    // a byte above 1 at i+2 rules out a start code at i, i+1 and i+2: jump past it
    if (c > 1) {
      i += 2;
      continue;
    }
    if (c === 1 && d[i] === 0 && d[i + 1] === 0) return i;
  }
  return -1;
}

/** nal_unit_type values the muxer treats specially (H.264 Table 7-1). */
export const NAL = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;

export function nalType(unit: Uint8Array): number {
  return unit[0]! & 0x1f;
}
