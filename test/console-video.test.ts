import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { getProtocol } from '../src/protocol/registry.js';
import type { SimulationReport } from '../src/protocol/types.js';
import { simulationIo } from '../src/replay/sim-io.js';
import { projectRoot } from '../src/util/paths.js';
import { findChromium, launchChromium } from './support/browser.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';

/**
 * The console's Live video tab in a real headless Chromium: the simulated JT/T 1078 camera
 * registers on a jt808 channel, the tab offers it (online) from the device list, Play starts its
 * camera 1 and the page's video plays (currentTime past 1 s, 320 wide); Stop closes the request, so
 * the server stops the camera (0x9102) after video.idle_s. A device that is not connected shows
 * EDGE_DEVICE_OFFLINE, in the tab and on the standalone player page, which shares the player module
 * and takes the token the console keeps in the tab's sessionStorage.
 * CONSOLE_SCREENSHOTS=1 writes the playing tab to docs/console/video.png (README "Web console").
 */
const READ = 'read-token-console-video-0123';
const PHONE = '13345678921';
const OFFLINE = '13345678999';
const found = findChromium();
const skip = 'skip' in found ? found.skip : false;
const SHOTS = process.env.CONSOLE_SCREENSHOTS ? join(projectRoot(), 'docs', 'console') : null;

type CameraReport = SimulationReport & { streams: { kind: string; ended: string; frames: number }[] };

let h: Harness;
let browser: Browser;
let page: Page;
const logs: string[] = [];
const base = () => `http://127.0.0.1:${h.app.http!.port}`;

before(async () => {
  if (skip) return;
  h = await startHarness({
    channels: [{ id: 1, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, stream_tcp_port: 0 }],
    extra: { http: { port: 0, tokens: `read:${READ}` }, video: { idle_s: 1, start_timeout_s: 15 } },
  });
  browser = await launchChromium((found as { path: string }).path);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.setDefaultTimeout(8000);
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await h?.close();
});

/** The simulated camera, resolved once authenticated (the server sends it commands only then). */
async function camera(): Promise<{ run: Promise<CameraReport> }> {
  const jt808 = await getProtocol('jt808');
  const lines: string[] = [];
  const run = jt808.simulations!.camera!(
    { terminal: { phone: PHONE, terminal_id: 'CAM0021', version: 2013 }, clip: 'fixtures/video/clip-h264-320x240-15fps-3s.h264', codec: 'h264', fps: 15, streams: 1, max_live_s: 40, timeout_ms: 20_000, linger_ms: 0 },
    simulationIo({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort }, (l) => lines.push(l)),
  ) as Promise<CameraReport>;
  await waitFor('camera authenticated', () => lines.some((l) => l.startsWith('registered and authenticated')), 10_000);
  return { run };
}

type Video = { currentTime: number; videoWidth: number };

/** Polls an async check from the test (the console's CSP, script-src 'self', refuses the string predicates of waitForFunction). */
async function poll(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('console Live video: the simulated camera plays from the tab (currentTime past 1 s, 320 wide); Stop ends the stream', { skip, timeout: 90_000 }, async () => {
  const { run } = await camera();
  await page.goto(base());
  await page.getByLabel(/API token/).fill(READ);
  await page.keyboard.press('Enter');
  await page.getByRole('link', { name: 'Live video' }).click();
  await page.getByRole('heading', { name: 'Live video' }).waitFor();
  // the online device from the list is filled in
  const ident = page.getByLabel('Device ident');
  await poll('the online device filled in', async () => (await ident.inputValue()) === PHONE, 8000);
  assert.equal(await page.locator(`#video-devices option[value="${PHONE}"]`).textContent(), 'online');
  await page.getByLabel('Camera channel').selectOption('1');
  await ident.focus();
  await page.keyboard.press('Enter'); // keyboard only: Enter in the form plays
  const played = async () => (await page.locator('#live-video').evaluate((el) => (el as unknown as Video).currentTime)) > 1.2 || (await page.locator('#main [role=alert]').count()) > 0;
  try {
    await poll('the live video past 1.2 s, or an error', played, 30_000);
  } catch (e) {
    assert.fail(`${(e as Error).message}\n${await page.locator('#main').innerText()}\n${logs.join('\n')}`);
  }
  assert.equal(await page.locator('#main [role=alert]').count(), 0, await page.locator('#main').innerText());
  const v = await page.locator('#live-video').evaluate((el) => ({ t: (el as unknown as Video).currentTime, w: (el as unknown as Video).videoWidth }));
  assert.ok(v.t > 1, `currentTime ${v.t}`);
  assert.equal(v.w, 320);
  assert.match(await page.locator('#video-status').innerText(), new RegExp(`Live: camera 1 of ${PHONE}, 320x240 avc1\\.`));
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'video.png'), fullPage: true });
  }
  await page.getByRole('button', { name: 'Stop' }).click();
  assert.equal(await page.locator('#video-status').innerText(), 'Stopped.');
  assert.equal(await page.getByRole('button', { name: 'Stop' }).isDisabled(), true);
  // the request closed: nobody watches, so after idle_s the server stops the camera (0x9102)
  const report = await run;
  assert.equal(report.ok, true, String(report.error));
  assert.match(report.streams[0]!.ended, /stopped by 0x9102|closed by the server/);
  assert.equal(h.app.video.hub.liveStreams, 0);
});

test('console Live video: a device that is not connected shows EDGE_DEVICE_OFFLINE, in the tab and on the player page', { skip, timeout: 30_000 }, async () => {
  await page.getByLabel('Device ident').fill(OFFLINE);
  await page.getByRole('button', { name: 'Play' }).click();
  const alert = page.locator('#main [role=alert]');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'EDGE_DEVICE_OFFLINE');
  assert.match(await alert.innerText(), new RegExp(`camera 1 of ${OFFLINE} failed: The device is offline.*\\(EDGE_DEVICE_OFFLINE, HTTP 409\\)`));
  assert.equal(await page.getByRole('button', { name: 'Stop' }).isDisabled(), true);
  // the standalone page in the same tab: the same player module, the console's token from sessionStorage
  await page.goto(`${base()}/live/1/${OFFLINE}/1`);
  await page.waitForFunction('window.edgePlayer && window.edgePlayer.phase === "error"');
  const s = (await page.evaluate('window.edgePlayer')) as { code: string; error: string };
  assert.equal(s.code, 'EDGE_DEVICE_OFFLINE');
  assert.match(await page.locator('#status').innerText(), /EDGE_DEVICE_OFFLINE, HTTP 409/);
});
