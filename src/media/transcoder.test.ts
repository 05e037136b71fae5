import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';
import { projectRoot } from '../util/paths.js';
import { splitAccessUnits } from '../video/annexb.js';
import { detectFfmpeg, Transcoder, type TranscodeJob } from './transcoder.js';

const clip = (name: string) => new Uint8Array(readFileSync(join(projectRoot(), 'fixtures', 'video', name)));
const ffmpeg = await detectFfmpeg();
const skip = ffmpeg.ok ? false : `ffmpeg is not installed here (${ffmpeg.error.reason}); CI installs it`;
if (skip) console.log(`# transcoder tests skipped: ${skip}`);

/** Feeds `input` in 4 KiB writes honouring backpressure; resolves with the output and the time to the first output byte. */
function run(job: TranscodeJob, input: Uint8Array): Promise<{ out: Uint8Array; firstByteMs: number; totalMs: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const t0 = performance.now();
    let first = -1;
    let at = 0;
    const pump = () => {
      while (at < input.length) {
        const more = t.write(input.subarray(at, at + 4096));
        at += 4096;
        if (!more) return;
      }
      t.end();
    };
    const t: Transcoder = new Transcoder({
      ffmpegPath: ffmpeg.ok ? ffmpeg.path : 'ffmpeg',
      job,
      onData: (c) => {
        if (first < 0) first = performance.now() - t0;
        chunks.push(Uint8Array.from(c));
      },
      onDrain: pump,
      onExit: (e) => (e ? reject(e) : resolve({ out: Uint8Array.from(chunks.flatMap((c) => [...c])), firstByteMs: first, totalMs: performance.now() - t0 })),
    });
    pump();
  });
}

test('detectFfmpeg: path and version when present; a typed EDGE_TRANSCODER_UNAVAILABLE with the reason when missing or not ffmpeg', { skip }, async () => {
  assert.ok(ffmpeg.ok);
  assert.match(ffmpeg.path, /^\//);
  assert.match(ffmpeg.version, /\d/);
  const missing = await detectFfmpeg('/nonexistent/ffmpeg');
  assert.ok(!missing.ok && missing.error instanceof EdgeError && missing.error.code === 'EDGE_TRANSCODER_UNAVAILABLE');
  assert.match(missing.error.reason, /not found/);
  const notFfmpeg = await detectFfmpeg('/bin/true');
  assert.ok(!notFfmpeg.ok && notFfmpeg.error.code === 'EDGE_TRANSCODER_UNAVAILABLE');
});

test('H.265 clip → ffmpeg → H.264 Annex B: 45 access units, the first a keyframe with SPS/PPS', { skip }, async () => {
  const r = await run({ kind: 'h265-to-h264' }, clip('clip-h265-320x240-15fps-3s.h265'));
  const aus = splitAccessUnits('h264', r.out);
  assert.equal(aus.length, 45);
  assert.ok(aus[0]!.keyframe);
  assert.ok(aus[0]!.nals.some((n) => n.type === 7) && aus[0]!.nals.some((n) => n.type === 8));
  console.log(`# h265→h264: ${r.out.length} bytes out, first output byte after ${r.firstByteMs.toFixed(0)} ms, done in ${r.totalMs.toFixed(0)} ms`);
});

test('G.711A → AAC ADTS: a stream of ADTS frames covering the 3 s (8 kHz, 1024 samples per frame)', { skip }, async () => {
  const r = await run({ kind: 'audio-to-aac', input: 'g711a' }, clip('clip-g711a-8khz-3s.alaw'));
  let frames = 0;
  for (let at = 0; at < r.out.length; frames++) {
    assert.equal(r.out[at], 0xff, `ADTS sync at ${at}`);
    assert.equal(r.out[at + 1]! & 0xf0, 0xf0);
    const len = ((r.out[at + 3]! & 0x03) << 11) | (r.out[at + 4]! << 3) | (r.out[at + 5]! >> 5);
    assert.ok(len > 7);
    at += len;
  }
  // 24,000 samples are 23.4 frames of 1024; the encoder adds its priming and flush frames (ffprobe counts 25)
  assert.ok(frames >= 24 && frames <= 26, `${frames} ADTS frames`);
});

test('failures are typed: ffmpeg that cannot start, an input backlog over its bound; stop kills without a report', { skip }, async () => {
  const noStart = await new Promise<EdgeError | null>((resolve) => new Transcoder({ ffmpegPath: '/nonexistent/ffmpeg', job: { kind: 'h265-to-h264' }, onData: () => {}, onExit: resolve }));
  assert.equal(noStart?.code, 'EDGE_TRANSCODER_FAILED');
  assert.match(noStart!.reason, /could not start/);

  let backlog: EdgeError | null = null;
  const t = new Transcoder({ ffmpegPath: ffmpeg.ok ? ffmpeg.path : 'ffmpeg', job: { kind: 'h265-to-h264' }, maxBufferedBytes: 1000, onData: () => {}, onExit: (e) => (backlog = e) });
  t.pauseOutput();
  assert.equal(t.write(new Uint8Array(2000)), false);
  assert.equal((backlog as EdgeError | null)?.code, 'EDGE_TRANSCODER_FAILED');

  let reported = false;
  const s = new Transcoder({ ffmpegPath: ffmpeg.ok ? ffmpeg.path : 'ffmpeg', job: { kind: 'h265-to-h264' }, onData: () => {}, onExit: () => (reported = true) });
  s.write(clip('clip-h265-320x240-15fps-3s.h265').subarray(0, 10000));
  s.stop();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(reported, false);
  assert.equal(s.write(new Uint8Array(10)), false, 'a stopped transcoder takes no input');
});

test('ffmpeg that exits with an error is a typed EDGE_TRANSCODER_FAILED carrying its message', { skip }, async () => {
  // G.726 with an impossible code size: ffmpeg refuses at start and exits non-zero
  const err = await run({ kind: 'audio-to-aac', input: 'g726', g726Bits: 9 }, new Uint8Array(100)).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof EdgeError && err.code === 'EDGE_TRANSCODER_FAILED', String(err));
  assert.match(err.reason, /exited with code/);
});
