/**
 * H.264 to fragmented MP4 (ISO BMFF), in process: live segments for Media Source Extensions and
 * recorded clips as files. Pure (no I/O, no clock): the stream and HTTP sides feed it bytes.
 */
export { createH264Muxer } from './h264-muxer.js';
export type { AccessUnit, FragmentMode, H264Muxer, H264MuxerOptions, InitSegment, MediaSegment, MuxSegment, MuxerStats } from './h264-muxer.js';
export { muxH264Clip, type H264Clip } from './clip.js';
export { parseSps, type SpsInfo } from './sps.js';
export { codecString, type H264Config } from './avcc.js';
