import { EdgeError } from '../../errors.js';
import { splitNalUnits, startCodeAt } from '../annexb.js';

/**
 * The NAL units of one Annex B access unit, as views into it, for the muxer. They are cut by the
 * stream side's splitter (`splitNalUnits`, src/video/annexb.ts), so live streams and the muxer agree
 * on where a unit ends; this adds what a muxer must refuse rather than skip: no start code at all,
 * bytes other than zero before the first one (the stream side drops them as a cut stream's tail),
 * and a NAL header with forbidden_zero_bit set.
 */
export function annexBNalUnits(data: Uint8Array): Uint8Array[] {
  // the first start code, not the first unit's: units that are only a start code are dropped
  const first = firstStartCode(data);
  if (first < 0) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `access unit of ${data.length} bytes has no Annex B start code (00 00 01)`);
  for (let i = 0; i < first; i++) {
    if (data[i] !== 0) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', 'bytes before the first start code', i);
  }
  const nals = splitNalUnits('h264', data);
  const units: Uint8Array[] = new Array(nals.length);
  for (let k = 0; k < nals.length; k++) {
    const unit = nals[k]!.data;
    const header = unit[0]!;
    if (header & 0x80) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `NAL unit with forbidden_zero_bit set (header 0x${header.toString(16)})`, unit.byteOffset - data.byteOffset);
    units[k] = unit;
  }
  return units;
}

/** Index of the first start code (00 00 01 or 00 00 00 01), or −1. */
function firstStartCode(d: Uint8Array): number {
  for (let i = 0; i + 2 < d.length; i++) if (startCodeAt(d, i, d.length) > 0) return i;
  return -1;
}

/** nal_unit_type values the muxer treats specially (H.264 Table 7-1). */
export const NAL = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;

export function nalType(unit: Uint8Array): number {
  return unit[0]! & 0x1f;
}
