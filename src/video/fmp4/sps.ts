import { EdgeError } from '../../errors.js';
import { BitReader } from './bit-reader.js';

/** What the MP4 boxes and the player need from a sequence parameter set (H.264 §7.3.2.1.1). */
export interface SpsInfo {
  profileIdc: number;
  /** constraint_set0..5 flags and the two reserved bits, as the byte after profile_idc. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Picture size after cropping (what a player shows). */
  width: number;
  height: number;
  /** false for interlaced coding (field pairs or MBAFF): heights count in map units of two rows. */
  frameMbsOnly: boolean;
  /** Frame rate from the VUI timing info, when the encoder wrote it (dashcams often do not). */
  fps?: number;
}

/** Profiles whose SPS carries chroma format, bit depths and scaling lists (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Largest picture side accepted (level 6.2 allows 8,192 × 4,320; room for odd crops). */
const MAX_SIDE = 16_384;

/** Parses an SPS NAL unit (header byte included). Throws EDGE_VIDEO_AVC_INVALID for anything MP4 cannot carry. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `SPS: not an SPS NAL unit of at least 4 bytes (${nal.length} bytes)`);
  const r = new BitReader(nal, 'SPS');
  r.skip(8); // NAL header
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = r.ueMax(31, 'seq_parameter_set_id');
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ueMax(3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.u1() === 1;
    bitDepthLuma = 8 + r.ueMax(6, 'bit_depth_luma_minus8');
    bitDepthChroma = 8 + r.ueMax(6, 'bit_depth_chroma_minus8');
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u1() === 1) skipScalingLists(r, chromaFormatIdc === 3 ? 12 : 8);
  }
  r.ueMax(12, 'log2_max_frame_num_minus4');
  const pocType = r.ueMax(2, 'pic_order_cnt_type');
  if (pocType === 0) r.ueMax(12, 'log2_max_pic_order_cnt_lsb_minus4');
  else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ueMax(255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ueMax(32, 'max_num_ref_frames');
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ueMax(MAX_SIDE / 16, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ueMax(MAX_SIDE / 16, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.u1() === 1;
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  let width = widthMbs * 16;
  let height = (2 - (frameMbsOnly ? 1 : 0)) * heightMapUnits * 16;
  if (r.u1() === 1) {
    // crop offsets count in chroma samples (§7.4.2.1.1): CropUnitX/Y from the chroma subsampling
    const mono = chromaFormatIdc === 0 || separateColourPlane;
    const cropUnitX = mono || chromaFormatIdc === 3 ? 1 : 2;
    const cropUnitY = (mono || chromaFormatIdc !== 1 ? 1 : 2) * (frameMbsOnly ? 1 : 2);
    const left = r.ueMax(MAX_SIDE, 'frame_crop_left_offset');
    const right = r.ueMax(MAX_SIDE, 'frame_crop_right_offset');
    const top = r.ueMax(MAX_SIDE, 'frame_crop_top_offset');
    const bottom = r.ueMax(MAX_SIDE, 'frame_crop_bottom_offset');
    width -= cropUnitX * (left + right);
    height -= cropUnitY * (top + bottom);
  }
  if (width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `SPS: picture size ${width}x${height} is impossible`);
  const info: SpsInfo = { profileIdc, constraintFlags, levelIdc, spsId, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height, frameMbsOnly };
  const fps = vuiFrameRate(r);
  if (fps !== undefined) info.fps = fps;
  return info;
}

/** Skips scaling_list() syntax: only its length matters here (§7.3.2.1.1.1). */
function skipScalingLists(r: BitReader, count: number): void {
  for (let i = 0; i < count; i++) {
    if (r.u1() === 0) continue;
    const size = i < 6 ? 16 : 64;
    let last = 8;
    let next = 8;
    for (let j = 0; j < size && next !== 0; j++) {
      next = (last + r.se() + 256) % 256;
      if (next !== 0) last = next;
    }
  }
}

/**
 * The VUI's frame rate (time_scale / 2·num_units_in_tick), read up to timing_info and no further.
 * The VUI is optional and often cut short by cheap encoders, so a VUI that ends early gives
 * no frame rate rather than an error: the picture size above is all the muxer needs.
 */
function vuiFrameRate(r: BitReader): number | undefined {
  try {
    if (r.u1() === 0) return undefined; // vui_parameters_present_flag
    if (r.u1() === 1 && r.u(8) === 255) r.skip(32); // aspect_ratio_idc, Extended_SAR: sar_width, sar_height
    if (r.u1() === 1) r.skip(1); // overscan_info_present_flag → overscan_appropriate_flag
    if (r.u1() === 1) {
      r.skip(4); // video_format, video_full_range_flag
      if (r.u1() === 1) r.skip(24); // colour_primaries, transfer_characteristics, matrix_coefficients
    }
    if (r.u1() === 1) {
      r.ue(); // chroma_sample_loc_type_top_field
      r.ue(); // chroma_sample_loc_type_bottom_field
    }
    if (r.u1() === 0) return undefined; // timing_info_present_flag
    const unitsInTick = r.u(32);
    const timeScale = r.u(32);
    const fps = unitsInTick > 0 ? timeScale / (2 * unitsInTick) : 0;
    return fps > 0 && fps <= 1000 ? fps : undefined;
  } catch (e) {
    if (e instanceof EdgeError) return undefined;
    throw e;
  }
}

/** pic_parameter_set_id and the SPS it refers to: all the muxer needs from a PPS (§7.3.2.2). */
export function parsePpsIds(nal: Uint8Array): { ppsId: number; spsId: number } {
  const r = new BitReader(nal, 'PPS');
  r.skip(8);
  const ppsId = r.ueMax(255, 'pic_parameter_set_id');
  const spsId = r.ueMax(31, 'seq_parameter_set_id');
  return { ppsId, spsId };
}
