/** Test helpers: hand-built H.264 parameter sets, for pictures and syntax paths the committed clip does not have. */

class BitWriter {
  private bits: number[] = [];
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(len, 0).u(len + 1, v + 1);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** rbsp_trailing_bits, then the bytes. */
  finish(): number[] {
    this.bits.push(1);
    while (this.bits.length % 8) this.bits.push(0);
    const out: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) out.push(parseInt(this.bits.slice(i, i + 8).join(''), 2));
    return out;
  }
}

export interface SpsSpec {
  profileIdc?: number;
  constraintFlags?: number;
  levelIdc?: number;
  spsId?: number;
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  crop?: { left: number; right: number; top: number; bottom: number };
  /** High profile fields: chroma_format_idc and a scaling matrix with one list. */
  chromaFormatIdc?: number;
  scalingList?: boolean;
  pocType?: 0 | 1 | 2;
  /** VUI with timing info: time_scale = 2·fps, num_units_in_tick = 1. */
  fps?: number;
}

/** An SPS NAL unit (header 0x67) with emulation prevention applied. */
export function buildSps(s: SpsSpec): Uint8Array {
  const w = new BitWriter();
  const profile = s.profileIdc ?? 66;
  w.u(8, profile).u(8, s.constraintFlags ?? 0xc0).u(8, s.levelIdc ?? 30).ue(s.spsId ?? 0);
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    w.ue(s.chromaFormatIdc ?? 1);
    if (s.chromaFormatIdc === 3) w.u(1, 0);
    w.ue(0).ue(0).u(1, 0); // 8-bit luma and chroma, no transform bypass
    if (s.scalingList) {
      w.u(1, 1); // seq_scaling_matrix_present_flag
      w.u(1, 1); // list 0 present: 16 deltas
      for (let j = 0; j < 16; j++) w.se(j === 0 ? 8 : 1);
      for (let i = 1; i < (s.chromaFormatIdc === 3 ? 12 : 8); i++) w.u(1, 0);
    } else w.u(1, 0);
  }
  w.ue(0); // log2_max_frame_num_minus4
  const poc = s.pocType ?? 0;
  w.ue(poc);
  if (poc === 0) w.ue(2);
  if (poc === 1) w.u(1, 0).se(-2).se(3).ue(2).se(1).se(-1);
  w.ue(1).u(1, 0); // max_num_ref_frames, gaps
  w.ue(s.widthMbs - 1).ue(s.heightMapUnits - 1);
  const frameMbsOnly = s.frameMbsOnly ?? true;
  w.u(1, frameMbsOnly ? 1 : 0);
  if (!frameMbsOnly) w.u(1, 0);
  w.u(1, 1); // direct_8x8_inference_flag
  if (s.crop) w.u(1, 1).ue(s.crop.left).ue(s.crop.right).ue(s.crop.top).ue(s.crop.bottom);
  else w.u(1, 0);
  if (s.fps !== undefined) {
    w.u(1, 1); // vui_parameters_present_flag
    w.u(1, 1).u(8, 255).u(16, 1).u(16, 1); // aspect ratio: Extended_SAR 1:1
    w.u(1, 0).u(1, 0).u(1, 0); // no overscan, video signal or chroma location info
    w.u(1, 1).u(32, 1).u(32, Math.round(2 * s.fps)).u(1, 1);
    w.u(1, 0).u(1, 0).u(1, 0).u(1, 0); // no HRD, no pic_struct, no bitstream restriction
  } else w.u(1, 0);
  return escape([0x67, ...w.finish()]);
}

/** A PPS NAL unit naming pps and sps ids (the rest of its syntax is the muxer's to copy, not to read). */
export function buildPps(ppsId = 0, spsId = 0): Uint8Array {
  return escape([0x68, ...new BitWriter().ue(ppsId).ue(spsId).u(1, 0).u(1, 0).ue(0).finish()]);
}

/** Emulation prevention: 03 after every 00 00 followed by a byte ≤ 03. */
function escape(bytes: number[]): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of bytes) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}
