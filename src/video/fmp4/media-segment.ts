import { BoxWriter } from './box-writer.js';
import { TRACK_ID } from './init-segment.js';

/** One frame, ready for the mdat: NAL units with 4-byte lengths, no parameter sets or AUDs. */
export interface Sample {
  data: Uint8Array;
  /** Decode time in track timescale units (= presentation time: no B-frames, no ctts). */
  dts: number;
  duration: number;
  sync: boolean;
}

/** sample_flags (ISO/IEC 14496-12 §8.8.3.1): depends on no other sample / depends on others and is not a sync sample. */
const SYNC_FLAGS = 0x0200_0000;
const NON_SYNC_FLAGS = 0x0101_0000;
/** tfhd: offsets count from the moof's first byte (what MSE and the iso5 brand expect). */
const DEFAULT_BASE_IS_MOOF = 0x02_0000;
/** trun: data offset, then per sample its duration, size and flags. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400;

/**
 * moof + mdat holding `samples` (at least one), the fragment numbered `sequence`. The samples
 * follow each other in time: the fragment starts at the first one's dts (tfdt).
 */
export function mediaSegment(sequence: number, samples: readonly Sample[]): Uint8Array {
  let payload = 0;
  for (const s of samples) payload += s.data.length;
  const w = new BoxWriter(8 + 16 + 8 + 16 + 20 + 20 + 12 * samples.length + 8 + payload);
  let dataOffsetAt = 0;
  w.box('moof', (moof) => {
    moof.fullBox('mfhd', 0, 0, (b) => b.u32(sequence));
    moof.box('traf', (traf) => {
      traf.fullBox('tfhd', 0, DEFAULT_BASE_IS_MOOF, (b) => b.u32(TRACK_ID));
      traf.fullBox('tfdt', 1, 0, (b) => b.u64n(samples[0]!.dts));
      traf.fullBox('trun', 0, TRUN_FLAGS, (b) => {
        b.u32(samples.length);
        dataOffsetAt = b.length;
        b.u32(0);
        for (const s of samples) b.u32(s.duration).u32(s.data.length).u32(s.sync ? SYNC_FLAGS : NON_SYNC_FLAGS);
      });
    });
  });
  // the first sample's bytes start right after the mdat header, counted from the moof (offset 0)
  w.patchU32(dataOffsetAt, w.length + 8);
  w.u32(8 + payload).fourcc('mdat');
  for (const s of samples) w.bytes(s.data);
  return w.finish();
}
