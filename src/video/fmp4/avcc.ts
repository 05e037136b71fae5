import { EdgeError } from '../../errors.js';
import type { BoxWriter } from './box-writer.js';
import type { SpsInfo } from './sps.js';

/** One track's decoder configuration: the parameter sets in force and what was read from the SPS. */
export interface H264Config {
  sps: Uint8Array;
  info: SpsInfo;
  /** Every PPS seen for this SPS, in pic_parameter_set_id order. */
  pps: Uint8Array[];
}

/**
 * RFC 6381 codec string for MediaSource.isTypeSupported: avc1.PPCCLL from the SPS's profile_idc,
 * constraint byte and level_idc (Constrained Baseline 3.0 → avc1.42C01E).
 */
export function codecString(info: SpsInfo): string {
  const hex = (v: number) => v.toString(16).toUpperCase().padStart(2, '0');
  return `avc1.${hex(info.profileIdc)}${hex(info.constraintFlags)}${hex(info.levelIdc)}`;
}

/** The avcC box (ISO/IEC 14496-15 §5.3.3.1): 4-byte NAL lengths, the parameter sets verbatim. */
export function writeAvcC(w: BoxWriter, c: H264Config): void {
  if (c.sps.length > 0xffff || c.pps.some((p) => p.length > 0xffff)) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', 'parameter set longer than 65,535 bytes');
  w.box('avcC', (b) => {
    b.u8(1).u8(c.info.profileIdc).u8(c.info.constraintFlags).u8(c.info.levelIdc);
    b.u8(0xfc | 3); // reserved 6 bits, lengthSizeMinusOne = 3
    b.u8(0xe0 | 1).u16(c.sps.length).bytes(c.sps);
    b.u8(c.pps.length);
    for (const p of c.pps) b.u16(p.length).bytes(p);
    // the High profiles' extension: Chrome and ffmpeg read it when present (§5.3.3.1.2)
    if (c.info.profileIdc === 100 || c.info.profileIdc === 110 || c.info.profileIdc === 122 || c.info.profileIdc === 144) {
      b.u8(0xfc | c.info.chromaFormatIdc).u8(0xf8 | (c.info.bitDepthLuma - 8)).u8(0xf8 | (c.info.bitDepthChroma - 8)).u8(0);
    }
  });
}
