/** Test helpers: the committed H.264 clip (fixtures/video/) cut into access units, as a camera would send them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/util/paths.js';
import { annexBNalUnits } from '../../../src/video/fmp4/nal-units.js';
import type { AccessUnit } from '../../../src/video/fmp4/index.js';

export const H264_CLIP = join(projectRoot(), 'fixtures', 'video', 'clip-h264-320x240-15fps-3s.h264');
export const CLIP = { width: 320, height: 240, fps: 15, frames: 45, gop: 15, codec: 'avc1.42C01E' } as const;

const START_CODE = Uint8Array.of(0, 0, 0, 1);

/**
 * Groups the NAL units of an Annex B stream into access units (H.264 §7.4.1.2.3, the cases an
 * encoder without B-frames produces): a parameter set, SEI or AUD after a slice, or a slice with
 * first_mb_in_slice 0 after a slice, starts the next one. Timestamps at `fps`, from 0.
 */
export function accessUnits(stream: Uint8Array, fps = CLIP.fps, startMs = 0): AccessUnit[] {
  const groups: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let hasSlice = false;
  for (const nal of annexBNalUnits(stream)) {
    const type = nal[0]! & 0x1f;
    const isSlice = type >= 1 && type <= 5;
    const firstSlice = isSlice && (nal[1]! & 0x80) !== 0; // ue(v) first_mb_in_slice = 0 is the single bit 1
    if (hasSlice && (!isSlice || firstSlice)) {
      groups.push(current);
      current = [];
      hasSlice = false;
    }
    current.push(nal);
    hasSlice ||= isSlice;
  }
  if (current.length > 0) groups.push(current);
  return groups.map((nals, i) => ({
    data: annexB(nals),
    timestampMs: startMs + (i * 1000) / fps,
    keyframe: nals.some((n) => (n[0]! & 0x1f) === 5),
  }));
}

/** NAL units behind 4-byte start codes. */
export function annexB(nals: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, u) => n + 4 + u.length, 0));
  let at = 0;
  for (const u of nals) {
    out.set(START_CODE, at);
    out.set(u, at + 4);
    at += 4 + u.length;
  }
  return out;
}

export function clipAccessUnits(): AccessUnit[] {
  return accessUnits(readFileSync(H264_CLIP));
}
