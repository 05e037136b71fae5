import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createH264Muxer, muxH264Clip } from '../src/video/fmp4/index.js';
import { CLIP, H264_CLIP, clipAccessUnits } from './support/video/h264-clip.js';

/**
 * The muxer's files as ffprobe and ffmpeg (Debian's, the reference the issue names) read them:
 * the recorded clip, and a live stream's per-frame segments saved one after the other. Skipped
 * with the reason when ffprobe is absent (.ci/run installs it).
 */
const FFPROBE = process.env.FFPROBE_PATH ?? 'ffprobe';
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const probe = spawnSync(FFPROBE, ['-version'], { encoding: 'utf8' });
const skip = probe.error || probe.status !== 0 ? `ffprobe not found (${probe.error?.message ?? `exit ${probe.status}`}); apt-get install ffmpeg to run it` : false;
if (skip) console.log(`# video fMP4 ffprobe test skipped: ${skip}`);

interface Probed {
  codec: string;
  width: number;
  height: number;
  frames: number;
  streamDuration: number;
  formatDuration: number;
}

function ffprobe(file: string): Probed {
  const r = spawnSync(FFPROBE, ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,duration:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffprobe failed: ${r.stderr}`);
  assert.equal(r.stderr, '', 'ffprobe reported problems');
  const j = JSON.parse(r.stdout) as { streams: Array<Record<string, string | number>>; format: Record<string, string> };
  const s = j.streams[0]!;
  return { codec: String(s.codec_name), width: Number(s.width), height: Number(s.height), frames: Number(s.nb_read_frames), streamDuration: Number(s.duration), formatDuration: Number(j.format.duration) };
}

/** One MD5 per decoded picture: equal lists mean the remux changed no coded byte a decoder uses. */
function frameMd5s(file: string): string[] {
  const r = spawnSync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'framemd5', '-'], { encoding: 'utf8', maxBuffer: 8 << 20 });
  assert.equal(r.status, 0, `ffmpeg failed: ${r.stderr}`);
  assert.equal(r.stderr, '', `ffmpeg decode errors: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

const FRAME_S = 1 / CLIP.fps;

test('the committed clip as one MP4 file: ffprobe reads h264 320x240, 45 frames, 3.0 s; ffmpeg decodes the same pictures as from the raw stream', { skip, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-fmp4-'));
  try {
    const file = join(dir, 'clip.mp4');
    writeFileSync(file, muxH264Clip(clipAccessUnits()).data);
    const p = ffprobe(file);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['h264', CLIP.width, CLIP.height, CLIP.frames]);
    assert.ok(Math.abs(p.streamDuration - 3) <= FRAME_S, `stream duration ${p.streamDuration} s`);
    assert.ok(Math.abs(p.formatDuration - 3) <= FRAME_S, `format duration ${p.formatDuration} s`);
    const decoded = frameMd5s(file);
    assert.equal(decoded.length, CLIP.frames);
    assert.deepEqual(decoded, frameMd5s(H264_CLIP));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a live stream per frame, its segments saved in order, is a valid file too (what a recorder of the live view would keep)', { skip, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-fmp4-'));
  try {
    const m = createH264Muxer({ fragment: 'frame' });
    const parts = clipAccessUnits().flatMap((au) => m.push(au).map((s) => s.data));
    parts.push(...m.flush().map((s) => s.data));
    const file = join(dir, 'live.mp4');
    writeFileSync(file, Buffer.concat(parts));
    const p = ffprobe(file);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['h264', CLIP.width, CLIP.height, CLIP.frames]);
    assert.ok(Math.abs(p.streamDuration - 3) <= FRAME_S, `stream duration ${p.streamDuration} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
