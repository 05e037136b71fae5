import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { getProtocol } from '../src/protocol/registry.js';
import type { SimulationReport } from '../src/protocol/types.js';
import { simulationIo } from '../src/replay/sim-io.js';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { runCli } from './support/run-cli.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';

/**
 * Recorded clips and the stream server's bounds, end to end with the simulated camera: a
 * playback_video over MQTT with meta ends processed with a stored MP4 that ffprobe reads as the
 * camera's clip, and its link downloads it; a camera that hangs up mid-clip ends the command with a
 * typed failure and stores nothing; a lossy, reordering camera keeps a live stream flowing with the
 * losses counted; 20 viewers share one camera connection.
 */
const TOKEN = 'c1ip-read-token-0123456789';
const ffprobe = spawnSync('ffprobe', ['-version'], { encoding: 'utf8' }).status === 0;
type CameraReport = SimulationReport & { ident: string; streams: { kind: string; ended: string; frames: number; packets: number; lost: number }[] };

function harness(): Promise<Harness> {
  return startHarness({
    channels: [{ id: 1, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, stream_tcp_port: 0 }],
    extra: { http: { port: 0, tokens: `read:${TOKEN}` }, video: { idle_s: 1, start_timeout_s: 15 } },
  });
}

async function camera(h: Harness, phone: string, extra: Record<string, unknown> = {}): Promise<{ run: Promise<CameraReport> }> {
  const jt808 = await getProtocol('jt808');
  const lines: string[] = [];
  const run = jt808.simulations!.camera!(
    { terminal: { phone, terminal_id: 'CAM0002', version: 2013 }, clip: 'fixtures/video/clip-h264-320x240-15fps-3s.h264', codec: 'h264', fps: 15, streams: 1, max_live_s: 30, timeout_ms: 20_000, linger_ms: 500, ...extra },
    simulationIo({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort }, (l) => lines.push(l)),
  ) as Promise<CameraReport>;
  // authenticated: the server sends commands only from then on (JT/T 808)
  await waitFor('camera authenticated', () => lines.some((l) => l.startsWith('registered and authenticated')), 10_000);
  // wrapped: an async function returning a promise would wait for it
  return { run };
}

const events = (h: Harness, ident: string, status: string) => h.received.filter((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${ident}/commands/${status}`).map((r) => JSON.parse(r.payload) as Record<string, unknown>);

function probe(path: string): { frames: number; duration: number; width: number; codec: string } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,nb_read_frames:format=duration', '-of', 'json', path], { encoding: 'utf8' });
  const j = JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; nb_read_frames: string }[]; format: { duration: string } };
  return { frames: Number(j.streams[0]!.nb_read_frames), duration: Number(j.format.duration), width: j.streams[0]!.width, codec: j.streams[0]!.codec_name };
}

test('playback_video over MQTT with meta: the camera streams the clip, the server stores one MP4 (ffprobe: the clip\'s 45 frames, 3.0 s) and only then ends the command processed with its meta and link', { skip: ffprobe ? false : 'ffprobe is not installed', timeout: 60_000 }, async () => {
  const h = await harness();
  try {
    const ident = '13345678921';
    const { run: cam } = await camera(h, ident);
    const start = 1_767_225_600; // 2026-01-01T00:00:00Z
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${ident}`, JSON.stringify({ id: 'clip-1042', name: 'playback_video', properties: { channel: 1, start, end: start + 3 }, timeout: 60, meta: { ticket: 'FLEET-1042', asked_by: 'ops' } }), { qos: 1 });
    const processed = await waitFor('processed', () => events(h, ident, 'processed')[0], 30_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${h.received.filter((r) => r.topic.includes(ident)).map((r) => `${r.topic} ${r.payload.slice(0, 600)}`).join('\n')}`);
    });
    assert.equal(processed.executed, true, JSON.stringify(processed));
    assert.deepEqual(processed.meta, { ticket: 'FLEET-1042', asked_by: 'ops' });
    const result = processed.result as Record<string, unknown>;
    assert.equal(result['video.frames'], 45);
    const p = probe(String(result['file.path']));
    assert.deepEqual({ frames: p.frames, width: p.width, codec: p.codec }, { frames: 45, width: 320, codec: 'h264' });
    assert.ok(Math.abs(p.duration - 3.0) < 0.07, `duration ${p.duration}`);
    // the media message links device, channel, time range and the command's meta; its link downloads the file
    const msg = await waitFor('clip message', () => h.received.map((r) => (r.topic === `${h.root}/message/gw/channels/1/${ident}` && r.payload.includes('media.video.1.sha256') ? (JSON.parse(r.payload) as Record<string, unknown>) : null)).find((m) => m) ?? undefined, 5000);
    assert.equal(msg['media.video.1.begin'], start);
    assert.deepEqual(msg['command.meta'], { ticket: 'FLEET-1042', asked_by: 'ops' });
    const body = Buffer.from(await (await fetch(String(msg['media.video.1.file.url']))).arrayBuffer());
    assert.equal(createHash('sha256').update(body).digest('hex'), result['file.sha256']);
    // the sent event came before: the device's 0x0001 alone did not end it
    assert.equal(events(h, ident, 'sent').length, 1);
    const report = await cam;
    assert.equal(report.ok, true, String(report.error));
    assert.equal(report.streams[0]!.ended, 'end of the recording');
  } finally {
    await h.close();
  }
});

test('a camera that hangs up mid-clip: the command ends executed false with EDGE_STREAM_INCOMPLETE and how far it got; no clip is stored', { timeout: 60_000 }, async () => {
  const h = await harness();
  try {
    const ident = '13345678922';
    const { run: cam } = await camera(h, ident, { hang_up_after_packets: 40 });
    const start = 1_767_225_600;
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${ident}`, JSON.stringify({ id: 'clip-cut', name: 'playback_video', properties: { channel: 1, start, end: start + 3 }, timeout: 60, meta: { ticket: 'CUT' } }), { qos: 1 });
    const processed = await waitFor('processed', () => events(h, ident, 'processed')[0], 30_000);
    assert.equal(processed.executed, false);
    assert.equal(processed.code, 'EDGE_STREAM_INCOMPLETE');
    assert.match(String(processed.reason), /camera stopped .* s into a 3\.0 s clip/);
    assert.deepEqual(processed.meta, { ticket: 'CUT' });
    const report = await cam;
    assert.match(report.streams[0]!.ended, /hung up after 40 packets/);
    const stored = h.received.filter((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${ident}/media`);
    assert.equal(stored.length, 0, 'no clip announced');
    assert.equal(h.app.video.hub.counters.clipsFailed, 1);
  } finally {
    await h.close();
  }
});

/** Reads a live response for `ms`: bytes and the count of moof boxes seen at chunk starts (one fragment per frame). */
async function viewLive(h: Harness, ident: string, ms: number): Promise<{ status: number; bytes: number; chunks: number; codec: string | null; first: Buffer }> {
  const ac = new AbortController();
  const res = await fetch(`http://127.0.0.1:${h.app.http!.port}/api/v1/live/1/${ident}/1`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: ac.signal });
  const out = { status: res.status, bytes: 0, chunks: 0, codec: res.headers.get('x-edge-codec'), first: Buffer.alloc(0) };
  if (res.status !== 200) return out;
  const reader = res.body!.getReader();
  const stop = setTimeout(() => ac.abort(), ms);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (out.chunks === 0) out.first = Buffer.from(value);
      out.bytes += value.length;
      out.chunks++;
    }
  } catch {
    // aborted: the viewer leaves
  } finally {
    clearTimeout(stop);
  }
  return out;
}

test('a lossy, reordering camera: frames with lost packets are dropped and counted (video waits for the next keyframe), the live stream keeps flowing', { timeout: 60_000 }, async () => {
  const h = await harness();
  try {
    const ident = '13345678923';
    const { run: cam } = await camera(h, ident, { loss: { everyNth: 37 }, reorder: { rate: 0.2, seed: 7 } });
    const v = await viewLive(h, ident, 4500);
    assert.equal(v.status, 200);
    assert.equal(v.first.subarray(4, 8).toString('latin1'), 'ftyp', 'the response starts with the init segment');
    assert.ok(v.chunks > 10, `video kept flowing: ${v.chunks} chunks`);
    assert.ok(h.app.video.hub.counters.framesDropped > 0, 'losses were counted');
    const report = await cam;
    assert.ok(report.streams[0]!.lost > 0);
  } finally {
    await h.close();
  }
});

test('20 concurrent viewers share one camera connection; a 21st is refused with 429 EDGE_STREAM_LIMIT when max_viewers is 20; a device that is offline is 409', { timeout: 60_000 }, async () => {
  const h = await startHarness({
    channels: [{ id: 1, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, stream_tcp_port: 0 }],
    extra: { http: { port: 0, tokens: `read:${TOKEN}` }, video: { idle_s: 1, start_timeout_s: 15, max_viewers: 20 } },
  });
  try {
    const ident = '13345678924';
    const { run: cam } = await camera(h, ident);
    const first = viewLive(h, ident, 5000);
    await waitFor('stream running', () => h.app.video.hub.status('1', ident, 1)?.info, 15_000);
    const rest = Array.from({ length: 19 }, () => viewLive(h, ident, 4000));
    await waitFor('20 viewers', () => h.app.video.hub.status('1', ident, 1)?.viewers === 20, 10_000);
    const extra = await fetch(`http://127.0.0.1:${h.app.http!.port}/api/v1/live/1/${ident}/1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(extra.status, 429);
    assert.equal(((await extra.json()) as { code: string }).code, 'EDGE_STREAM_LIMIT');
    const all = await Promise.all([first, ...rest]);
    for (const v of all) {
      assert.equal(v.status, 200);
      assert.ok(v.chunks > 5, `each viewer got video (${v.chunks} chunks)`);
    }
    assert.equal(h.app.video.hub.counters.streamsStarted, 1, 'one camera stream for all');
    const offline = await fetch(`http://127.0.0.1:${h.app.http!.port}/api/v1/live/1/999999/1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(offline.status, 409);
    assert.equal(((await offline.json()) as { code: string }).code, 'EDGE_DEVICE_OFFLINE');
    const bad = await fetch(`http://127.0.0.1:${h.app.http!.port}/api/v1/live/1/${ident}/0`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bad.status, 400);
    const noChannel = await fetch(`http://127.0.0.1:${h.app.http!.port}/api/v1/live/nochannel/${ident}/1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(noChannel.status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${h.app.http!.port}/api/v1/live/1/${ident}/1`)).status, 401, 'no token, no video');
    await cam;
  } finally {
    await h.close();
  }
});

test('edge-channel replay plays the committed camera session: the camera answers the live request and stops on 0x9102; the report says so', { timeout: 60_000 }, async () => {
  const h = await harness();
  try {
    const cli = runCli(['replay', '--protocol', 'jt808', '--to', `tcp://127.0.0.1:${h.app.channels[0]!.tcpPort}`, '--json', join(projectRoot(), 'fixtures', 'sessions', 'jt1078-camera.json')]);
    await waitFor('camera online', () => h.received.some((r) => r.topic.endsWith('/devices/13345678911/connected') && r.payload === 'true'), 10_000);
    // authenticated shortly after it is connected: retry the viewer until the stream is there
    let v: Awaited<ReturnType<typeof viewLive>> = { status: 0, bytes: 0, chunks: 0, codec: null, first: Buffer.alloc(0) };
    for (let i = 0; i < 20 && v.status !== 200; i++) {
      v = await viewLive(h, '13345678911', 2500);
      if (v.status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(v.status, 200);
    assert.ok(v.chunks > 5);
    const r = await cli;
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; streams: { kind: string; ended: string }[] };
    assert.equal(report.streams[0]!.kind, 'live');
    assert.match(report.streams[0]!.ended, /stopped by 0x9102|closed by the server/);
  } finally {
    await h.close();
  }
});
