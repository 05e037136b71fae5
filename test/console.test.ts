import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { deviceFrame, recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { FileMediaStore } from '../src/media/media-store.js';
import type { FileDescription } from '../src/media/media-store.js';
import { getProtocol } from '../src/protocol/registry.js';
import { projectRoot } from '../src/util/paths.js';
import { muxH264Clip } from '../src/video/fmp4/index.js';
import { findChromium, launchChromium } from './support/browser.js';
import { connectDevice, type DeviceSocket } from './support/device-socket.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { clipAccessUnits } from './support/video/h264-clip.js';

/**
 * The web console in a real headless Chromium against the whole server (embedded broker, a real
 * Ruptela device on TCP): login with a good and a bad token, a device online within 2 s with its
 * last message, a command with `meta` sent from the page and its `processed` event, an alarm's photo
 * and clip, an asset's planned interval on its timeline; live video is test/console-video.test.ts.
 * CONSOLE_SCREENSHOTS=1 writes each page to docs/console/*.png (README "Web console").
 */
const READ = 'read-token-console-0123456789';
const FULL = 'full-token-console-0123456789';
const IMEI = 356307042441013n;
const IDENT = String(IMEI);
const found = findChromium();
const skip = 'skip' in found ? found.skip : false;
const SHOTS = process.env.CONSOLE_SCREENSHOTS ? join(projectRoot(), 'docs', 'console') : null;

let h: Harness;
let browser: Browser;
let page: Page;
let dev: DeviceSocket | null = null;
const base = () => `http://127.0.0.1:${h.app.http!.port}`;

async function shot(name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  if (skip) return;
  h = await startHarness({ extra: { http: { port: 0, tokens: `read:${READ}\nfull:${FULL}` } } });
  browser = await launchChromium((found as { path: string }).path);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.setDefaultTimeout(8000);
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  dev?.socket.destroy();
  await browser?.close();
  await h?.close();
});

test('console: a wrong token is refused with an error; the right one logs in', { skip, timeout: 30_000 }, async () => {
  await page.goto(base());
  await page.getByLabel(/API token/).fill('not-a-token-of-this-server-000');
  await page.getByRole('button', { name: 'Log in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: 5000 });
  assert.match(await alert.innerText(), /Login failed: the token was refused/);
  assert.equal(await page.locator('#nav').isVisible(), false, 'no pages before login');
  await shot('login');
  await page.getByLabel(/API token/).fill(FULL);
  await page.keyboard.press('Enter'); // keyboard only: the form submits with Enter
  await page.locator('#nav').waitFor({ state: 'visible', timeout: 5000 });
  await page.getByRole('heading', { name: 'Devices' }).waitFor({ timeout: 5000 });
});

test('console: a Ruptela device that connects is online on the Devices page within 2 s, with its last message', { skip, timeout: 30_000 }, async () => {
  await page.getByText('live', { exact: true }).waitFor({ timeout: 5000 });
  dev = await connectDevice(h.app.channels[0]!.tcpPort);
  const t0 = Date.now();
  const now = Math.floor(Date.now() / 1000);
  dev.socket.write(recordsFrame(IMEI, [typicalRecord(now - 20, 0), typicalRecord(now - 10, 30), typicalRecord(now, 60)]));
  const row = page.locator(`tr[data-ident="${IDENT}"]`);
  await row.locator('.online').waitFor({ timeout: 2000 });
  await row.locator('td').nth(2).filter({ hasText: /\d{4}-\d\d-\d\d/ }).waitFor({ timeout: 2000 });
  const ms = Date.now() - t0;
  assert.ok(ms <= 2000, `online with its last message after ${ms} ms`);
  await row.getByRole('button').click();
  const last = await page.locator('pre.last-message').innerText();
  assert.match(last, new RegExp(`"ident": "${IDENT}"`));
  assert.match(last, /"position.latitude": 54\.69/);
  await page.locator('svg.track polyline').waitFor({ timeout: 2000 });
  await shot('devices');
  await page.getByRole('link', { name: 'Messages' }).click();
  await page.locator('#main input[name=ident]').fill(IDENT);
  await page.getByRole('button', { name: 'Watch' }).click();
  await page.getByText('live', { exact: true }).waitFor({ timeout: 5000 });
  dev.socket.write(recordsFrame(IMEI, [typicalRecord(now + 1, 90)]));
  await page.locator('.stream li details').first().waitFor({ timeout: 3000 });
  await page.locator('.stream li details summary').first().click();
  await shot('messages');
  // back on Devices, read from the API (not the live feed): the row says which instance holds the connection
  await page.getByRole('link', { name: 'Devices' }).click();
  await row.locator('.online[title]').waitFor({ timeout: 3000 });
  assert.equal(await row.locator('.online').getAttribute('title'), `connected to ${h.app.config.instance_id}`);
  await row.getByRole('button').click();
  assert.equal(await page.locator('dd.instance').innerText(), h.app.config.instance_id);
});

test('console: a command with meta is sent from the page; its processed event shows the meta', { skip, timeout: 30_000 }, async () => {
  assert.ok(dev, 'the device of the previous test');
  await page.getByRole('link', { name: 'Commands' }).click();
  await page.getByLabel('Device ident').fill(IDENT);
  await page.locator('select[name=command]').selectOption('get_version');
  await page.getByLabel(/^meta/).fill('{"ticket":"OPS-42","by":"console test"}');
  const before = dev.hex().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('li[data-status="queued"]').waitFor({ timeout: 5000 });
  const proto = await getProtocol('ruptela');
  const wire = Buffer.from(proto.encode({ name: 'get_version', properties: {} }, { ident: IDENT }).bytes).toString('hex');
  await waitFor('the command written to the device', () => dev!.hex().slice(before).includes(wire), 5000);
  dev.socket.write(deviceFrame(IMEI, 3, Buffer.from('FW 00.03.68.04')));
  const processed = page.locator('li[data-status="processed"]');
  await processed.waitFor({ timeout: 5000 });
  const text = await processed.innerText();
  assert.match(text, /"ticket": "OPS-42"/);
  assert.match(text, /"by": "console test"/);
  assert.match(text, /FW 00\.03\.68\.04/);
  await shot('commands');
});

test('console: an alarm photo renders and its clip plays and seeks', { skip, timeout: 30_000 }, async () => {
  // written by the media store the runtime uses, into the server's media folder
  const store = new FileMediaStore(h.app.config.media.dir, { fsync: false });
  const put = (key: string, bytes: Uint8Array, file: FileDescription) => new Promise<void>((res, rej) => store.write('1', IDENT, key, 0, bytes, true, file, (e) => (e ? rej(e) : res())));
  const meta = { 'alarm.number': 'A0000000000000000000000000000042', 'alarm.source': 'dsm', 'dsm.alarm.label': 'fatigue' };
  await put('photo-1', png(64, 48), { kind: 'image', name: 'cam1.png', meta });
  await put('clip-1', muxH264Clip(clipAccessUnits()).data, { kind: 'video', name: 'cam1.mp4', meta });
  await page.getByRole('link', { name: 'Media' }).click();
  await page.getByLabel('Device ident').fill(IDENT);
  await page.getByRole('button', { name: 'Show' }).click();
  const alarm = page.getByRole('region', { name: /alarm A0+42/ });
  await alarm.waitFor({ timeout: 5000 });
  await page.waitForFunction(`(() => { const i = document.querySelector('.alarm img'); return !!i && i.complete && i.naturalWidth > 0; })()`, undefined, { timeout: 5000 });
  assert.equal(await alarm.locator('img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth), 64);
  type Video = { muted: boolean; play(): Promise<void>; pause(): void; currentTime: number; duration: number; videoWidth: number; addEventListener(e: string, f: (v: unknown) => void, o: { once: boolean }): void };
  const played = await alarm.locator('video').evaluate(async (el) => {
    const v = el as unknown as Video;
    v.muted = true;
    await v.play();
    await new Promise<void>((res) => { const t = () => (v.currentTime > 0.3 ? res() : setTimeout(t, 20)); t(); });
    v.pause();
    v.currentTime = 2;
    await new Promise((res) => v.addEventListener('seeked', res, { once: true }));
    return { time: v.currentTime, duration: v.duration, width: v.videoWidth };
  });
  assert.equal(played.width, 320);
  assert.ok(Math.abs(played.time - 2) < 0.2, `seeked to ${played.time}`);
  assert.ok(played.duration > 2.5, `duration ${played.duration}`);
  await shot('media');
});

test('console: an asset created and assigned from the page shows its planned interval on the timeline', { skip, timeout: 30_000 }, async () => {
  await page.getByRole('link', { name: 'Assets' }).click();
  await page.getByLabel('Id', { exact: true }).fill('drv-9');
  await page.getByLabel('Name', { exact: true }).fill('Jonas Driver');
  await page.getByLabel('Type', { exact: true }).fill('driver');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText('create drv-9: applied').waitFor({ timeout: 5000 });
  await page.getByRole('button', { name: /^drv-9/ }).click();
  // a past interval and a planned one, from the page's form
  const local = (s: number) => new Date((s - new Date().getTimezoneOffset() * 60) * 1000).toISOString().slice(0, 16);
  const now = Math.floor(Date.now() / 1000);
  // each assignment is awaited by what it draws: the "applied" line of the first one stays on the
  // page, so waiting for that text again would not wait for the second
  const assign = async (begin: number, end: number, drawn: string) => {
    await page.locator('input[name=ident]').fill(IDENT);
    await page.locator('input[name=begin]').fill(local(begin));
    await page.locator('input[name=end]').fill(local(end));
    await page.getByRole('button', { name: 'Assign' }).click();
    await page.locator(drawn).first().waitFor({ timeout: 8000 });
  };
  await assign(now - 7200, now - 3600, '.timeline .iv.past');
  await assign(now + 3600, now + 7200, '.timeline .iv.planned');
  const planned = page.locator('.timeline .iv.planned');
  assert.equal(await page.locator('.timeline .iv.past').count(), 1);
  const box = await planned.boundingBox();
  assert.ok(box && box.width > 2, 'the planned interval has a visible width');
  await shot('assets');
});

test('console: the live video tab says why there is nothing to play without a jt808 channel; the session can log out', { skip, timeout: 30_000 }, async () => {
  // the tab playing a camera is test/console-video.test.ts (which writes docs/console/video.png)
  await page.getByRole('link', { name: 'Live video' }).click();
  await page.getByText(/No jt808 channel runs on this server/).waitFor({ timeout: 5000 });
  // a read token may look but not send
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel(/API token/).fill(READ);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('link', { name: 'Commands' }).click();
  await page.getByLabel('Device ident').fill(IDENT);
  await page.locator('select[name=command]').selectOption('get_version');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('alert').filter({ hasText: 'Not sent' }).waitFor({ timeout: 5000 }).catch(async (e: Error) => assert.fail(`${e.message}\n${await page.locator('#main').innerText()}`));
  assert.match(await page.getByRole('alert').filter({ hasText: 'Not sent' }).innerText(), /read scope.*EDGE_HTTP_FORBIDDEN/s);
});

test('console API: typed errors of the new routes, the OpenAPI entries, a filtered SSE feed from a plain client', { timeout: 30_000 }, async (t) => {
  if (skip) {
    h = await startHarness({ extra: { http: { port: 0, tokens: `read:${READ}\nfull:${FULL}` } } });
    t.after(() => h.close());
  }
  const call = (path: string, token: string, init: RequestInit = {}) => fetch(`${base()}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  const code = async (r: Response) => [r.status, ((await r.json()) as { code: string }).code] as const;
  assert.deepEqual(await code(await call(`/api/v1/devices/1/${IDENT}/commands`, READ, { method: 'POST', body: '{"name":"get_version"}' })), [403, 'EDGE_HTTP_FORBIDDEN']);
  assert.deepEqual(await code(await call(`/api/v1/devices/1/${IDENT}/commands`, FULL, { method: 'POST', body: '{"name":"no_such"}' })), [400, 'EDGE_HTTP_BAD_REQUEST']);
  assert.deepEqual(await code(await call(`/api/v1/devices/9/${IDENT}/commands`, FULL, { method: 'POST', body: '{"name":"get_version"}' })), [404, 'EDGE_HTTP_NOT_FOUND']);
  assert.deepEqual(await code(await call('/api/v1/channels/9/devices', READ)), [404, 'EDGE_HTTP_NOT_FOUND']);
  assert.deepEqual(await code(await call('/api/v1/events?types=nonsense', READ)), [400, 'EDGE_HTTP_BAD_REQUEST']);
  assert.deepEqual(await code(await call('/api/v1/assets/requests', READ, { method: 'POST', body: '{"op":"create"}' })), [403, 'EDGE_HTTP_FORBIDDEN']);
  assert.equal((await fetch(`${base()}/api/v1/events`)).status, 401, 'the feed needs a token too');
  const list = (await (await call('/api/v1/channels/1/commands', READ)).json()) as { protocol: string; items: { name: string; properties: Record<string, unknown> }[] };
  assert.equal(list.protocol, 'ruptela');
  assert.ok(list.items.find((c) => c.name === 'configuration')?.properties.line, 'commands with their property schemas');
  const cap = (await (await call(`/api/v1/devices/1/${IDENT}/capture`, READ)).json()) as { enabled: boolean };
  assert.equal(cap.enabled, false);
  const doc = (await (await fetch(`${base()}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  for (const p of ['/api/v1/events', '/api/v1/channels/{channel}/devices', '/api/v1/channels/{channel}/commands', '/api/v1/devices/{channel}/{ident}/commands/{id}', '/api/v1/assets/requests', '/api/v1/devices/{channel}/{ident}/capture']) assert.ok(doc.paths[p], p);
  assert.ok(doc.paths['/api/v1/devices/{channel}/{ident}/commands']!.post);
  // a plain SSE client: `ready` once subscribed, then only the command events of its device
  const ctl = new AbortController();
  const res = await fetch(`${base()}/api/v1/events?channel=1&ident=${IDENT}&types=command`, { headers: { authorization: `Bearer ${READ}` }, signal: ctl.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const until = async (re: RegExp) => { while (!re.test(text)) { const { value, done } = await reader.read(); if (done) throw new Error(`stream ended: ${text}`); text += value; } };
  await until(/event: ready/);
  const sent = (await (await call(`/api/v1/devices/1/${IDENT}/commands`, FULL, { method: 'POST', body: '{"name":"text","properties":{"text":"hi"},"meta":{"k":1}}' })).json()) as { id: string };
  await until(/event: command\ndata: .*"sub":"queued"/);
  assert.match(text, new RegExp(`"payload":\\{[^\\n]*"id":"${sent.id}"[^\\n]*"meta":\\{"k":1\\}`));
  assert.doesNotMatch(text, /event: message/, 'filtered by type');
  ctl.abort();
});

/** A w×h RGB PNG (a gradient): a real image without an encoder dependency. */
function png(w: number, hgt: number): Uint8Array {
  const raw = Buffer.alloc((w * 3 + 1) * hgt);
  for (let y = 0; y < hgt; y++) for (let x = 0; x < w; x++) raw.set([x * 4, y * 5, 128], y * (w * 3 + 1) + 1 + x * 3);
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(hgt, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
