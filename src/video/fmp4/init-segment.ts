import { BoxWriter } from './box-writer.js';
import { writeAvcC, type H264Config } from './avcc.js';

/** The one track of every file this writer makes. */
export const TRACK_ID = 1;
/** The movie timescale (mvhd, mehd): milliseconds; the track has its own. */
const MOVIE_TIMESCALE = 1000;
const UNITY_MATRIX = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/**
 * ftyp + moov of a fragmented MP4 with one H.264 track: empty sample tables (the samples come in
 * moof/mdat fragments) and mvex/trex announcing fragments. `durationMs`, known for a recorded clip,
 * goes to mvhd/tkhd and to mehd, so players show a length before reading every fragment; a live
 * stream leaves it out (0: unknown).
 */
export function initSegment(c: H264Config, timescale: number, durationMs = 0): Uint8Array {
  const w = new BoxWriter(256 + c.sps.length + c.pps.reduce((n, p) => n + p.length + 2, 0));
  const duration = Math.round(durationMs);
  w.box('ftyp', (b) => b.fourcc('iso5').u32(0x200).fourcc('iso5').fourcc('iso6').fourcc('avc1').fourcc('mp41'));
  w.box('moov', (moov) => {
    moov.fullBox('mvhd', 0, 0, (b) => {
      b.u32(0).u32(0).u32(MOVIE_TIMESCALE).u32(duration); // creation/modification time: none (no clock here)
      b.u32(0x0001_0000).u16(0x0100).zeros(10); // rate 1.0, volume 1.0, reserved
      for (const m of UNITY_MATRIX) b.u32(m);
      b.zeros(24).u32(TRACK_ID + 1); // pre_defined, next_track_ID
    });
    moov.box('trak', (trak) => {
      trak.fullBox('tkhd', 0, 0x3, (b) => {
        b.u32(0).u32(0).u32(TRACK_ID).u32(0).u32(duration); // enabled | in_movie
        b.zeros(8).u16(0).u16(0).u16(0).u16(0); // reserved, layer, alternate_group, volume (video: 0), reserved
        for (const m of UNITY_MATRIX) b.u32(m);
        b.u32(c.info.width * 0x1_0000).u32(c.info.height * 0x1_0000); // 16.16 fixed point
      });
      trak.box('mdia', (mdia) => {
        mdia.fullBox('mdhd', 0, 0, (b) => b.u32(0).u32(0).u32(timescale).u32(0).u16(0x55c4).u16(0)); // language "und"
        mdia.fullBox('hdlr', 0, 0, (b) => {
          b.u32(0).fourcc('vide').zeros(12);
          for (const ch of 'VideoHandler') b.u8(ch.charCodeAt(0));
          b.u8(0);
        });
        mdia.box('minf', (minf) => {
          minf.fullBox('vmhd', 0, 1, (b) => b.u16(0).zeros(6));
          minf.box('dinf', (dinf) => dinf.fullBox('dref', 0, 0, (b) => b.u32(1).fullBox('url ', 0, 1))); // data in this file
          minf.box('stbl', (stbl) => {
            stbl.fullBox('stsd', 0, 0, (b) => b.u32(1).box('avc1', (e) => writeAvc1(e, c)));
            stbl.fullBox('stts', 0, 0, (b) => b.u32(0));
            stbl.fullBox('stsc', 0, 0, (b) => b.u32(0));
            stbl.fullBox('stsz', 0, 0, (b) => b.u32(0).u32(0));
            stbl.fullBox('stco', 0, 0, (b) => b.u32(0));
          });
        });
      });
    });
    moov.box('mvex', (mvex) => {
      if (duration > 0) mvex.fullBox('mehd', 0, 0, (b) => b.u32(duration));
      // defaults are all given per sample in trun; sample description 1 is the avc1 above
      mvex.fullBox('trex', 0, 0, (b) => b.u32(TRACK_ID).u32(1).u32(0).u32(0).u32(0));
    });
  });
  return w.finish();
}

/** The avc1 visual sample entry (ISO/IEC 14496-12 §12.1.3, 14496-15 §5.4.2). */
function writeAvc1(e: BoxWriter, c: H264Config): void {
  e.zeros(6).u16(1); // reserved, data_reference_index
  e.u16(0).u16(0).zeros(12); // pre_defined, reserved, pre_defined
  e.u16(c.info.width).u16(c.info.height);
  e.u32(0x0048_0000).u32(0x0048_0000).u32(0).u16(1); // 72 dpi, reserved, frame_count
  e.zeros(32); // compressorname (empty Pascal string)
  e.u16(0x0018).i16(-1); // depth, pre_defined
  writeAvcC(e, c);
}
