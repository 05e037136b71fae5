import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createH264Muxer, muxH264Clip, type AccessUnit } from '../src/video/fmp4/index.js';
import { CLIP, accessUnits, clipAccessUnits } from './support/video/h264-clip.js';
import { findChromium, launchChromium } from './support/browser.js';

/**
 * The muxer's output in a real browser's Media Source Extensions (headless Chromium): a live
 * stream sent frame by frame as the camera would produce it, one fragment per frame over one
 * chunked HTTP response, and a recorded clip fetched whole. The video must play (currentTime past
 * 1 s) at the clip's size. Then a live stream whose camera switches to 160x120 midway (a new
 * init segment appended to the same SourceBuffer): the picture size must follow. Skipped with the
 * reason when no Chromium is found (.ci/run installs one); the switch also needs ffmpeg with libx264
 * to make the second picture size.
 */
const found = findChromium();
const skip = 'skip' in found ? found.skip : false;
console.log(`# video MSE test ${'skip' in found ? `skipped: ${found.skip}` : `on ${found.version}`}`);

/**
 * The page: a <video>, a MediaSource, one SourceBuffer for the codec the server names; every
 * chunk read from the response is appended after the previous append's updateend. Errors and
 * progress go to window.mseLog, which the test prints when it fails.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><video id="v" muted playsinline></video><script>
window.mseLog = [];
const log = (m) => { window.mseLog.push(m); console.log(m); };
async function play(url, mime) {
  if (!MediaSource.isTypeSupported(mime)) throw new Error('not supported: ' + mime);
  const video = document.getElementById('v');
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
  const sb = ms.addSourceBuffer(mime);
  sb.addEventListener('error', () => log('sourcebuffer error'));
  video.addEventListener('error', () => log('video error ' + (video.error && video.error.message)));
  const append = (chunk) => new Promise((resolve, reject) => {
    sb.addEventListener('updateend', resolve, { once: true });
    sb.addEventListener('error', reject, { once: true });
    sb.appendBuffer(chunk);
  });
  const reader = (await fetch(url)).body.getReader();
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    await append(value);
    if (++chunks === 1 || video.paused) video.play().catch((e) => log('play: ' + e.message));
  }
  log('appended ' + chunks + ' chunks, buffered to ' + (sb.buffered.length ? sb.buffered.end(0) : 0));
  ms.endOfStream();
}
window.startPlayback = (url, mime) => play(url, mime).catch((e) => log('failed: ' + e.message));
window.videoState = () => {
  const v = document.getElementById('v');
  return { currentTime: v.currentTime, readyState: v.readyState, paused: v.paused, width: v.videoWidth, height: v.videoHeight, error: v.error ? v.error.message : null };
};
</script>`;

/** 2 s of 160x120 made like the committed clip (fixtures/video/README.md), or why not. */
function smallClip(): Uint8Array | string {
  const args = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15', '-t', '2', '-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.0', '-pix_fmt', 'yuv420p', '-g', '15', '-keyint_min', '15', '-sc_threshold', '0', '-bf', '0', '-x264-params', 'repeat-headers=1', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', '-'];
  const r = spawnSync(process.env.FFMPEG_PATH ?? 'ffmpeg', args, { maxBuffer: 8 << 20 });
  return r.status === 0 && r.stdout.length > 0 ? new Uint8Array(r.stdout) : `ffmpeg could not make a 160x120 clip (${r.error?.message ?? r.stderr.toString().trim()})`;
}
const small = skip ? 'no Chromium' : smallClip();
const skipResize = skip || (typeof small === 'string' ? small : false);
if (!skip && skipResize) console.log(`# video MSE resolution-change test skipped: ${skipResize}`);

let server: Server;
let base = '';
let browser: Browser | undefined;
const units = clipAccessUnits();

/** A live camera: the muxer fed one access unit per frame interval, each segment written as it is produced. */
async function streamLive(res: import('node:http').ServerResponse, aus: AccessUnit[]): Promise<void> {
  const muxer = createH264Muxer({ fragment: 'frame' });
  const started = performance.now();
  for (const [i, au] of aus.entries()) {
    const wait = started + (i * 1000) / CLIP.fps - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const s of muxer.push(au)) res.write(s.data);
  }
  for (const s of muxer.flush()) res.write(s.data);
  res.end();
}

before(async () => {
  if (skip) return;
  const clip = muxH264Clip(units);
  server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (req.url === '/clip.mp4') res.writeHead(200, { 'content-type': 'video/mp4' }).end(clip.data);
    else if (req.url === '/live') {
      res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-store' });
      void streamLive(res, units);
    } else if (req.url === '/live-resize' && typeof small !== 'string') {
      res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-store' });
      void streamLive(res, [...units, ...accessUnits(small, CLIP.fps, (units.length * 1000) / CLIP.fps)]);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if ('path' in found) browser = await launchChromium(found.path);
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

interface VideoState {
  currentTime: number;
  readyState: number;
  paused: boolean;
  width: number;
  height: number;
  error: string | null;
}

/** Plays `url` in a fresh page until currentTime passes `untilS`; the picture must then be `width` x `height`. */
async function playsInPage(url: string, untilS = 1.0, width: number = CLIP.width, height: number = CLIP.height): Promise<void> {
  const page: Page = await browser!.newPage();
  const console: string[] = [];
  page.on('console', (m) => console.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`page error: ${e.message}`));
  try {
    await page.goto(`${base}/`);
    // the page's own functions, called by name: this file is compiled without the DOM types
    await page.evaluate(`startPlayback(${JSON.stringify(url)}, ${JSON.stringify(`video/mp4; codecs="${CLIP.codec}"`)})`);
    await page.waitForFunction(`videoState().currentTime > ${untilS}`, undefined, { timeout: 20_000, polling: 100 });
    const state = (await page.evaluate('videoState()')) as VideoState;
    assert.equal(state.width, width);
    assert.equal(state.height, height);
    assert.equal(state.error, null);
  } catch (e) {
    const state = await page.evaluate('videoState()').catch((err: Error) => err.message);
    throw new Error(`${(e as Error).message}\nvideo: ${JSON.stringify(state)}\n${console.join('\n')}`);
  } finally {
    await page.close();
  }
}

test('a live stream, one fragment per frame at the camera rate over one chunked response, plays in Chromium at 320x240', { skip, timeout: 60_000 }, async () => {
  await playsInPage('/live');
});

test('a recorded clip (one MP4 file, fragments per GOP) plays in Chromium at 320x240', { skip, timeout: 60_000 }, async () => {
  await playsInPage('/clip.mp4');
});

test('a live stream whose camera switches from 320x240 to 160x120: the new init segment goes to the same SourceBuffer, the picture follows', { skip: skipResize, timeout: 60_000 }, async () => {
  await playsInPage('/live-resize', 3.5, 160, 120);
});
