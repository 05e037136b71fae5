import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { getProtocol } from '../src/protocol/registry.js';
import type { SimulationReport } from '../src/protocol/types.js';
import { simulationIo } from '../src/replay/sim-io.js';
import { findChromium, launchChromium } from './support/browser.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';

/**
 * Live video end to end in a real headless Chromium: the simulated JT/T 1078 camera (the `camera`
 * simulation, streaming a committed clip) registers on a jt808 channel; the player page asks for its
 * camera 1; the server sends 0x9101 naming its stream port, the camera connects and streams, the
 * server remuxes (H.264) or converts (H.265, ffmpeg) to fragmented MP4 and the browser plays it.
 * When the page closes, the stream is stopped (0x9102) after video.idle_s.
 */
const found = findChromium();
const ffmpeg = spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' }).status === 0;
const TOKEN = 'v1deo-read-token-0123456789';
let browser: Browser | null = null;

before(async () => {
  if ('path' in found) browser = await launchChromium(found.path);
});
after(async () => {
  await browser?.close();
});

function videoHarness(): Promise<Harness> {
  return startHarness({
    channels: [{ id: 1, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, stream_tcp_port: 0 }],
    extra: { http: { port: 0, tokens: `read:${TOKEN}` }, video: { idle_s: 1, start_timeout_s: 15 } },
  });
}

type CameraReport = SimulationReport & { ident: string; streams: { kind: string; ended: string; frames: number }[] };

/** Starts the simulated camera; resolves once it is authenticated (the server sends commands only from then on), with its run. */
async function camera(h: Harness, phone: string, clip: string, codec: 'h264' | 'h265'): Promise<{ run: Promise<CameraReport> }> {
  const jt808 = await getProtocol('jt808');
  const lines: string[] = [];
  const run = jt808.simulations!.camera!(
    { terminal: { phone, terminal_id: 'CAM0001', version: 2013 }, clip, codec, fps: 15, streams: 1, max_live_s: 40, timeout_ms: 20_000, linger_ms: 0 },
    simulationIo({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort }, (l) => lines.push(l)),
  ) as Promise<CameraReport>;
  await waitFor('camera authenticated', () => lines.some((l) => l.startsWith('registered and authenticated')), 10_000);
  // wrapped: an async function returning a promise would wait for it
  return { run };
}

interface PlayerState {
  phase: string;
  error: string | null;
  chunks: number;
  codec: string | null;
  currentTime: number;
  width: number;
  height: number;
}

async function watchLive(h: Harness, ident: string, untilS: number): Promise<PlayerState> {
  const page = await browser!.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
  const state = () => page.evaluate(`({ ...window.edgePlayer, currentTime: document.getElementById('video').currentTime, width: document.getElementById('video').videoWidth, height: document.getElementById('video').videoHeight })`) as Promise<PlayerState>;
  try {
    await page.goto(`http://127.0.0.1:${h.app.http!.port}/live/1/${ident}/1#token=${TOKEN}`);
    await page.waitForFunction(`document.getElementById('video').currentTime > ${untilS} || (window.edgePlayer && window.edgePlayer.error)`, undefined, { timeout: 30_000, polling: 100 });
    const s = await state();
    assert.equal(s.error, null, `player error: ${s.error}\n${logs.join('\n')}`);
    return s;
  } catch (e) {
    const s = await state().catch((err: Error) => err.message);
    throw new Error(`${(e as Error).message}; player: ${JSON.stringify(s)}\n${logs.join('\n')}`);
  } finally {
    await page.close();
  }
}

test('live H.264 from the simulated camera plays in Chromium: currentTime advances, videoWidth is the clip\'s; the stream stops when nobody watches', { skip: 'skip' in found ? found.skip : false, timeout: 90_000 }, async () => {
  const h = await videoHarness();
  try {
    const { run: cam } = await camera(h, '13345678911', 'fixtures/video/clip-h264-320x240-15fps-3s.h264', 'h264');
    const ident = '13345678911';
    const s = await watchLive(h, ident, 1.5);
    assert.equal(s.width, 320);
    assert.equal(s.height, 240);
    assert.match(String(s.codec), /^avc1\./);
    // the page closed: after idle_s the server stops the stream (0x9102) and the camera ends
    const report = await cam;
    assert.equal(report.ok, true, String(report.error));
    assert.match(report.streams[0]!.ended, /stopped by 0x9102|closed by the server/);
    assert.equal(h.app.video.hub.liveStreams, 0);
  } finally {
    await h.close();
  }
});

test('live H.265 is converted by ffmpeg and plays in Chromium as H.264', { skip: 'skip' in found ? found.skip : !ffmpeg ? 'ffmpeg is not installed' : false, timeout: 90_000 }, async () => {
  const h = await videoHarness();
  try {
    const { run: cam } = await camera(h, '13345678912', 'fixtures/video/clip-h265-320x240-15fps-3s.h265', 'h265');
    const ident = '13345678912';
    const s = await watchLive(h, ident, 1.5);
    assert.equal(s.width, 320);
    assert.match(String(s.codec), /^avc1\./, 'what the browser gets is H.264');
    const report = await cam;
    assert.equal(report.ok, true, String(report.error));
  } finally {
    await h.close();
  }
});
