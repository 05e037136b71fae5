import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EdgeError } from '../errors.js';
import { projectRoot } from '../util/paths.js';
import { splitAccessUnits } from '../video/annexb.js';
import type { MediaFrame } from '../video/frame-assembler.js';
import { ClipRecorder } from './clip-recorder.js';
import { LiveStream, type Viewer } from './live-stream.js';

const units = splitAccessUnits('h264', new Uint8Array(readFileSync(join(projectRoot(), 'fixtures', 'video', 'clip-h264-320x240-15fps-3s.h264'))));
const frame = (i: number, t0 = 0): MediaFrame => ({ channel: 1, kind: 'video', codec: 'h264', payloadType: 98, keyframe: units[i % units.length]!.keyframe, timestampMs: t0 + Math.round((i * 1000) / 15), lastIFrameIntervalMs: null, lastFrameIntervalMs: null, data: units[i % units.length]!.data, packets: 1 });

function viewer(reads: boolean): Viewer & { bytes: number; ended: EdgeError | null | undefined } {
  const v = {
    bytes: 0,
    queued: 0,
    ended: undefined as EdgeError | null | undefined,
    write(b: Uint8Array) {
      if (reads) v.bytes += b.length;
      else v.queued += b.length;
    },
    backlog: () => v.queued,
    end(e: EdgeError | null) {
      v.ended = e;
    },
  };
  return v;
}

test('a viewer that never reads is dropped at viewer_buffer_bytes with EDGE_VIEWER_TOO_SLOW; the stream and the reading viewer go on', () => {
  const counts: number[] = [];
  const s = new LiveStream('k', { ffmpegPath: null, maxViewers: 5, viewerBufferBytes: 64 * 1024, gopCacheBytes: 1 << 20, onViewers: (n) => counts.push(n), onFailure: () => assert.fail('no failure') }, 0);
  const good = viewer(true);
  const stuck = viewer(false);
  s.addViewer(good);
  s.addViewer(stuck);
  for (let i = 0; i < 90; i++) s.frame(frame(i));
  assert.equal(stuck.ended?.code, 'EDGE_VIEWER_TOO_SLOW');
  assert.equal(s.viewerCount, 1);
  assert.equal(s.counters.viewersDropped, 1);
  assert.ok(good.bytes > 150_000, `the reading viewer got the whole video (${good.bytes} bytes)`);
  assert.equal(good.ended, undefined);
  assert.deepEqual(counts, [1], 'never went to zero viewers');
});

test('a viewer that joins mid-stream starts at the current GOP (init + fragments since the last keyframe); a full stream refuses with EDGE_STREAM_LIMIT', () => {
  const s = new LiveStream('k', { ffmpegPath: null, maxViewers: 1, viewerBufferBytes: 1 << 24, gopCacheBytes: 1 << 20, onViewers: () => {}, onFailure: () => {} }, 0);
  for (let i = 0; i < 20; i++) s.frame(frame(i)); // keyframes at 0 and 15: the GOP holds frames 15..19
  const late: Uint8Array[] = [];
  s.addViewer({ write: (b) => late.push(b), backlog: () => 0, end: () => {} });
  const boxes = late.map((b) => Buffer.from(b.subarray(4, 8)).toString('latin1'));
  assert.deepEqual(boxes, ['ftyp', 'moof', 'moof', 'moof', 'moof', 'moof']);
  assert.throws(() => s.addViewer(viewer(true)), (e: EdgeError) => e.code === 'EDGE_STREAM_LIMIT');
  s.end(null);
  assert.throws(() => s.addViewer(viewer(true)), (e: EdgeError) => e.code === 'EDGE_STREAM_ENDED');
});

test('H.265 without ffmpeg fails the stream with EDGE_TRANSCODER_UNAVAILABLE (the hub stops it and tells the viewers)', () => {
  let failed: EdgeError | null = null;
  const s = new LiveStream('k', { ffmpegPath: null, maxViewers: 1, viewerBufferBytes: 1 << 24, gopCacheBytes: 0, onViewers: () => {}, onFailure: (e) => (failed = e) }, 0);
  s.frame({ ...frame(0), codec: 'h265', payloadType: 99 });
  assert.equal((failed as EdgeError | null)?.code, 'EDGE_TRANSCODER_UNAVAILABLE');
});

test('clip recorder: a clip short of the requested end is EDGE_STREAM_INCOMPLETE with how far it got; past max_clip_bytes it stops; a whole clip is muxed and stored', async () => {
  const run = (n: number, endMs: number, maxBytes = 1 << 26) =>
    new Promise<{ ok: boolean; code?: string; reason?: string; frames?: number; stored?: number }>((resolve) => {
      let stored = 0;
      const r = new ClipRecorder({
        camera: 1,
        startMs: 1_000_000,
        endMs,
        maxBytes,
        toleranceMs: 500,
        ffmpegPath: null,
        store: async (b) => {
          stored = b.length;
          return { key: 'k', kind: 'video', name: 'c.mp4', path: '/x', bytes: b.length, sha256: '', storedAtMs: 0 };
        },
        done: (o) => resolve(o.ok ? { ok: true, frames: o.clip.frames, stored } : { ok: false, code: o.error.code, reason: o.error.reason }),
      });
      for (let i = 0; i < n; i++) if (!r.frame(frame(i, 1_000_000))) break;
      r.closed('closed by the camera');
    });
  const short = await run(20, 1_003_000);
  assert.equal(short.code, 'EDGE_STREAM_INCOMPLETE');
  assert.match(String(short.reason), /stopped 1\.3 s into a 3\.0 s clip \(20 frames/);
  const whole = await run(45, 1_003_000);
  assert.equal(whole.ok, true);
  assert.equal(whole.frames, 45);
  assert.ok((whole.stored ?? 0) > 90_000);
  const big = await run(45, 1_003_000, 1024 * 1024 + 10);
  assert.equal(big.ok, true, 'under the bound');
  const over = await run(45, 1_003_000, 20_000);
  assert.equal(over.code, 'EDGE_STREAM_INCOMPLETE');
  assert.match(String(over.reason), /max_clip_bytes/);
});
