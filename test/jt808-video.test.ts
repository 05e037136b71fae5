import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getProtocol } from '../src/protocol/registry.js';
import type { SimSocket, SimulationReport } from '../src/protocol/types.js';
import { openSimSocket, simulationIo } from '../src/replay/sim-io.js';
import { projectRoot } from '../src/util/paths.js';
import { DeviceFrames, simulatedFile } from '../protocols/jt808/attachments/device-frames.js';
import { chunkBytes, readUploadRequest } from '../protocols/jt808/attachments/layouts.js';
import { serverMessage, signIn as signInTerminal } from '../protocols/jt808/sim-link.js';
import { split } from '../protocols/jt808/splitter.js';
import { runCli } from './support/run-cli.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { withTempDir } from './support/temp-dir.js';

/**
 * Video events end to end over real sockets: the simulated dashcam (fixtures/sessions) raises a DSM
 * alarm with three attachments, the server invites it (0x9208), the attachment listener takes the
 * upload (shuffled chunks, a withheld range asked for again with 0x9212), the media store keeps the
 * files, and one message links the alarm to them. Then the refusals: an alarm number the server
 * never issued, a file over the size cap, a chunk outside its file; a dropped and resumed upload;
 * an upload that goes idle and is published as incomplete.
 */
const root = projectRoot();
const SESSION = join(root, 'fixtures/sessions/jt808-dashcam-dsm.json');
const session = JSON.parse(readFileSync(SESSION, 'utf8')) as { files: { kind: 'image' | 'video'; size: number; seed: number }[]; chunk_bytes: number; withhold: { file: number; chunk: number } } & Record<string, unknown>;

async function videoHarness(mediaDir: string, uploads: Record<string, unknown> = {}, maxFileBytes = 1024 * 1024): Promise<Harness> {
  return startHarness({
    channels: [{ id: 7, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options: { active_safety: true }, parts: { attachments: { tcp_port: 0 } } }],
    extra: { media: { dir: mediaDir, max_file_bytes: maxFileBytes, uploads } },
    // real worker threads: upload effects and their bytes cross the thread boundary as in production
    threads: 2,
  });
}

function messagesOf(h: Harness, ident: string): Record<string, unknown>[] {
  return h.received.filter((m) => m.topic === `${h.root}/message/gw/channels/7/${ident}`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
}

/** A device folder's entries without the stored files' sidecars (`*.meta.json`, the HTTP API's catalogue); `.part` files stay visible. */
function storedFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.endsWith('.meta.json'))
      .sort();
  } catch {
    return [];
  }
}

test('the simulated dashcam (edge-channel replay of fixtures/sessions): 0x9208, shuffled upload, 0x9212 with exactly the withheld gap, result 0; stored files equal the originals; one message links the alarm to them', { timeout: 60_000 }, async () => {
  await withTempDir('edge-video-', (mediaDir) => videoHarness(mediaDir), async (h, mediaDir) => {
    const port = h.app.channels[0]!.tcpPort;
    const r = await runCli(['replay', '--protocol', 'jt808', '--to', `tcp://127.0.0.1:${port}`, '--json', SESSION]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as SimulationReport & { ident: string; alarm_number: string; files: { name: string; size: number; sha256: string }[]; results: { file: string; result: number; missing: [number, number][] }[] };
    assert.equal(report.attachment_server, `127.0.0.1:${h.app.channels[0]!.portOf('attachments')}`, '0x9208 names the attachment listener at the address the device reached');
    // the video's first 0x9212: result 1 with exactly the withheld chunk; every other answer: result 0
    const video = report.files[2]!;
    const w = session.withhold;
    const firstVideo = report.results.find((x) => x.file === video.name)!;
    assert.deepEqual(firstVideo, { file: video.name, result: 1, missing: [[w.chunk * session.chunk_bytes, session.chunk_bytes]] });
    assert.deepEqual(report.results.map((x) => x.result), [0, 0, 1, 0]);
    assert.ok(session.files[2]!.size >= 200 * 1024, 'the MP4 is at least 200 KB');

    // the linking message: alarm fields and the three stored files with their hashes
    const link = await waitFor('the linking message', () => messagesOf(h, report.ident).find((m) => m['message.type'] === 'media_upload'), 10_000);
    assert.equal(link['media.upload.complete'], true);
    assert.equal(link['alarm.number'], report.alarm_number);
    assert.equal(link['alarm.source'], 'dsm');
    assert.equal(link['dsm.alarm.id'], 11);
    assert.equal(link['dsm.alarm.type.enum'], 1);
    assert.equal(typeof link['dsm.alarm.label'], 'string');
    assert.equal(link['media.files.count'], 3);
    const names = ['media.image.1', 'media.image.2', 'media.video.1'];
    const folder = join(mediaDir, '7', report.ident);
    for (let i = 0; i < 3; i++) {
      const spec = session.files[i]!;
      const original = simulatedFile(spec.kind, spec.size, spec.seed);
      const sha = createHash('sha256').update(original).digest('hex');
      assert.equal(report.files[i]!.sha256, sha);
      assert.equal(link[`${names[i]}.sha256`], sha, `${names[i]} hash in the message`);
      assert.equal(link[`${names[i]}.size`], spec.size);
      assert.equal(link[`${names[i]}.source.name`], report.files[i]!.name);
      const path = link[`${names[i]}.path`] as string;
      assert.ok(path.startsWith(folder), path);
      assert.deepEqual(readFileSync(path), Buffer.from(original), `${names[i]} stored byte for byte`);
    }
    assert.deepEqual(storedFiles(folder).filter((n) => n.endsWith('.part')), [], 'nothing is left half-written');
    // the alarm message itself (0x0200) carries the same label, so the two can be joined
    const alarm = messagesOf(h, report.ident).find((m) => m['dsm.alarm.id'] === 11 && m['message.type'] !== 'media_upload')!;
    assert.equal(alarm['dsm.alarm.label'], link['dsm.alarm.label']);
    assert.equal(alarm['dsm.alarm.attachments.count'], 3);
    await waitFor('media log events', () => h.received.filter((m) => m.topic === `${h.root}/log/gw/channels/7/devices/${report.ident}/media`).length >= 4, 5000);
  });
});

test('a connection dropped mid-upload and resumed on a new one: the resumed 0x1212 names what is missing, the files end complete', { timeout: 60_000 }, async () => {
  await withTempDir('edge-video-', (mediaDir) => videoHarness(mediaDir), async (h) => {
    const jt808 = await getProtocol('jt808');
    // one chunk withheld before the drop, so the resumed 0x1212 has a gap to name for certain
    const params = { ...session, terminal: { ...(session.terminal as object), phone: '13345678907' }, drop: { file: 3, after_chunks: 12 } };
    const report = (await jt808.simulations!.dashcam!(params, simulationIo({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort }, () => {}))) as SimulationReport & { ident: string; files: { sha256: string }[]; results: { file: string; result: number; missing: [number, number][] }[] };
    assert.equal(report.ok, true, String(report.problem));
    assert.equal(report.resumed, true);
    // the chunks sent after the drop all arrived, those before it may not have: at least the ones not
    // yet sent when the connection dropped are named, and the last answer is result 0
    const w = session.withhold;
    const video = report.results.filter((x) => x.file.endsWith('.mp4'));
    assert.equal(video[0]!.result, 1);
    assert.ok(video[0]!.missing.some(([o, n]) => o <= w.chunk * session.chunk_bytes && o + n >= (w.chunk + 1) * session.chunk_bytes), `the withheld chunk is named: ${JSON.stringify(video[0]!.missing)}`);
    assert.deepEqual(report.results.slice(0, 2).map((x) => x.result), [0, 0], 'the photos finished before the drop stay stored');
    assert.equal(report.results.at(-1)!.result, 0);
    const link = await waitFor('the linking message', () => messagesOf(h, report.ident).find((m) => m['message.type'] === 'media_upload'), 10_000);
    assert.equal(link['media.upload.complete'], true);
    assert.equal(link['media.video.1.sha256'], report.files[2]!.sha256);
  });
});

/** Registers a terminal, raises an alarm with `files` attachments, returns the 0x9208 fields and the frame builder. */
async function invited(h: Harness, phone: string, files: number): Promise<{ dev: DeviceFrames; identification: Uint8Array; alarmNumber: Uint8Array; port: number; main: SimSocket }> {
  const dev = new DeviceFrames({ phone, terminalId: 'DC00002', version: 2013, tzOffsetMin: 480, idBytes: 16 });
  const main = await openSimSocket('127.0.0.1', h.app.channels[0]!.tcpPort);
  await signIn(main, dev);
  const identification = dev.identification(1774597965, 2, files);
  main.write(dev.dsmAlarm({ timeS: 1774597965, alarmId: 12, type: 2, level: 1, lat: 31.2, lon: 121.4, speedKmh: 40, identification }));
  const req = readUploadRequest((await nextOfId(main, 0x9208)).body, 16);
  return { dev, identification, alarmNumber: req.alarmNumber, port: req.tcpPort, main };
}

/** The next server frame with message id `id` (others are skipped): its serial and body. */
async function nextOfId(s: SimSocket, id: number): Promise<{ serial: number; body: Uint8Array }> {
  for (;;) {
    const f = await s.nextFrame(split, 5000);
    assert.ok(f, `a 0x${id.toString(16)} from the server`);
    const m = serverMessage(f);
    if (m.msgId === id) return m;
  }
}

/** Registers the terminal and authenticates with the code the server issued in 0x8100. */
const signIn = (s: SimSocket, dev: DeviceFrames) => signInTerminal(s, dev, 5000);

async function refusedAfter(s: SimSocket, what: string): Promise<void> {
  const f = await s.nextFrame(split, 5000);
  assert.equal(f, null, `${what}: no answer`);
  assert.ok(s.closed, `${what}: the connection is closed`);
}

test('refused uploads: an alarm number the server never issued, a file over media.max_file_bytes, a chunk outside its file; nothing is stored', { timeout: 60_000 }, async () => {
  await withTempDir('edge-video-', (mediaDir) => videoHarness(mediaDir, {}, 100_000), async (h, mediaDir) => {
    const inv = await invited(h, '13345678908', 1);
    // unknown alarm number (a valid one with its first byte changed)
    const forged = Uint8Array.from(inv.alarmNumber);
    forged[0] = forged[0] === 0x30 ? 0x31 : 0x30;
    const a = await openSimSocket('127.0.0.1', inv.port);
    a.write(inv.dev.fileList(inv.identification, forged, [{ name: 'x.jpg', size: 1000 }]));
    await refusedAfter(a, 'unknown alarm number');

    // a file larger than media.max_file_bytes
    const b = await openSimSocket('127.0.0.1', inv.port);
    b.write(inv.dev.fileList(inv.identification, inv.alarmNumber, [{ name: 'big.mp4', size: 100_001 }]));
    await refusedAfter(b, 'oversized file');

    // a chunk that reaches past the announced size
    const c = await openSimSocket('127.0.0.1', inv.port);
    c.write(inv.dev.fileList(inv.identification, inv.alarmNumber, [{ name: 'p.jpg', size: 1000 }]));
    assert.ok(await c.nextFrame(split, 5000), '0x8001 for a valid list');
    c.write(inv.dev.fileInfo('p.jpg', 0, 1000));
    assert.ok(await c.nextFrame(split, 5000), '0x8001 for the file info');
    c.write(chunkBytes('p.jpg', 990, new Uint8Array(20)));
    await refusedAfter(c, 'chunk outside the file');
    inv.main.close();

    const warned = await waitFor('the refusals in the closed events', () => {
      const closed = h.received.filter((m) => m.topic.startsWith(`${h.root}/log/gw/channels/7/connections/`) && m.topic.endsWith('/closed')).map((m) => m.payload);
      return closed.filter((p) => p.includes('EDGE_UPLOAD_REFUSED')).length >= 3 ? closed : undefined;
    }, 5000);
    assert.ok(warned.some((p) => p.includes('was not issued')));
    assert.ok(warned.some((p) => p.includes('media.max_file_bytes')));
    assert.ok(warned.some((p) => p.includes('outside the announced')));
    assert.deepEqual(storedFiles(join(mediaDir, '7', '13345678908')).filter((n) => !n.endsWith('.part')), [], 'no file stored');
  });
});

test('an upload that stops sending is published as incomplete with what arrived and the reason', { timeout: 60_000 }, async () => {
  await withTempDir('edge-video-', (mediaDir) => videoHarness(mediaDir, { idle_timeout_s: 5 }), async (h, mediaDir) => {
    const inv = await invited(h, '13345678909', 2);
    const photo = simulatedFile('image', 3000, 9);
    const a = await openSimSocket('127.0.0.1', inv.port);
    a.write(inv.dev.fileList(inv.identification, inv.alarmNumber, [{ name: 'a.jpg', size: 3000 }, { name: 'b.mp4', size: 5000 }]));
    assert.ok(await a.nextFrame(split, 5000));
    a.write(inv.dev.fileInfo('a.jpg', 0, 3000));
    assert.ok(await a.nextFrame(split, 5000));
    a.write(chunkBytes('a.jpg', 0, photo));
    a.write(inv.dev.fileDone('a.jpg', 0, 3000));
    assert.ok(await a.nextFrame(split, 5000), '0x9212 for the complete photo');
    a.write(inv.dev.fileInfo('b.mp4', 2, 5000));
    assert.ok(await a.nextFrame(split, 5000));
    a.write(chunkBytes('b.mp4', 0, new Uint8Array(1000)));
    // nothing more: the upload goes idle
    const m = await waitFor('the incomplete upload message', () => messagesOf(h, '13345678909').find((x) => x['message.type'] === 'media_upload'), 15_000);
    assert.equal(m['media.upload.complete'], false);
    assert.match(String(m['media.upload.reason']), /no data for 5 s/);
    assert.equal(m['media.files.count'], 1);
    assert.equal(m['media.image.1.sha256'], createHash('sha256').update(photo).digest('hex'));
    assert.equal(m['media.video.1.sha256'], undefined, 'the partial video is not announced');
    assert.match(String(m['media.upload.missing']), /b\.mp4 \(1000\/5000 bytes\)/);
    const folder = join(mediaDir, '7', '13345678909');
    await waitFor('the partial video removed', () => storedFiles(folder).every((n) => !n.endsWith('.part')), 5000);
    assert.deepEqual(storedFiles(folder).map((n) => n.split('-')[0]), ['image'], 'the complete photo stays, the partial video is gone');
    a.close();
    inv.main.close();
  });
});

test('the guards apply to the attachment listener: an address outside the whitelist is closed before anything is read', { timeout: 30_000 }, async () => {
  const whitelisted = (mediaDir: string) =>
    startHarness({
      channels: [{ id: 7, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options: { active_safety: true }, parts: { attachments: { tcp_port: 0 } }, ip_whitelist: ['10.0.0.0/8'] }],
      extra: { media: { dir: mediaDir } },
    });
  await withTempDir('edge-video-', whitelisted, async (h) => {
    const s = await openSimSocket('127.0.0.1', h.app.channels[0]!.portOf('attachments'));
    s.write(new DeviceFrames({ phone: '13345678910', terminalId: 'DC00003', version: 2013, tzOffsetMin: 480, idBytes: 16 }).fileInfo('a.jpg', 0, 10));
    await refusedAfter(s, 'whitelist');
    await waitFor('the rejection event (close code 16)', () => h.received.some((m) => m.topic.endsWith('/connections/rejected') && (JSON.parse(m.payload) as { close_code: number }).close_code === 16), 5000);
  });
});

test('video commands through the command queue: video_timeline (0x9205) is answered by the 0x1205 list; take_photo (0x8801) is accepted by 0x0805 and ends when its photo (0x0801) is stored; meta echoed', { timeout: 30_000 }, async () => {
  await withTempDir('edge-video-', (mediaDir) => videoHarness(mediaDir), async (h) => {
    const phone = '13345678911';
    const dev = new DeviceFrames({ phone, terminalId: 'DC00004', version: 2013, tzOffsetMin: 480, idBytes: 16 });
    const main = await openSimSocket('127.0.0.1', h.app.channels[0]!.tcpPort);
    await signIn(main, dev);
    const topic = `${h.root}/command/gw/channels/7/devices/${phone}`;
    const events = (status: string) => h.received.filter((m) => m.topic === `${h.root}/log/gw/channels/7/devices/${phone}/commands/${status}`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

    await h.sub.publishAsync(topic, '{"id":"tl-1","name":"video_timeline","properties":{"channel":1,"start":1774594365,"end":1774597965},"meta":{"alarm":"dsm-11"}}', { qos: 1 });
    const q = await nextOfId(main, 0x9205);
    assert.equal(q.body[0], 1, 'channel 1');
    // 0x1205: answered serial | count u32 | channel | start BCD | end BCD | alarm u64 | av type | stream | storage | size
    const item = '01' + '260327154245' + '260327155245' + '0000000000000000' + '00' + '01' + '01' + '00100000';
    main.write(dev.frame(0x1205, fromHexStr(q.serial.toString(16).padStart(4, '0') + '00000001' + item)));
    const tl = await waitFor('video_timeline processed', () => events('processed').find((e) => e.id === 'tl-1'), 5000);
    assert.equal(tl.executed, true);
    assert.deepEqual(tl.meta, { alarm: 'dsm-11' });
    assert.deepEqual(JSON.parse(String(tl.response)), [{ channel: 1, start: 1774597365, end: 1774597965, alarm: '0000000000000000', av_type: 0, stream: 1, storage: 1, size: 1048576 }]);

    await h.sub.publishAsync(topic, '{"id":"ph-1","name":"take_photo","properties":{"channel":2,"count":1}}', { qos: 1 });
    const p = await nextOfId(main, 0x8801);
    assert.equal(p.body[0], 2);
    main.write(dev.frame(0x0805, fromHexStr(p.serial.toString(16).padStart(4, '0') + '00' + '0001' + '00000042')));
    // the 0x0805 says the photo is taken (media id 0x42); the command goes on until the photo itself is stored
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events('processed').find((e) => e.id === 'ph-1'), undefined, 'not processed at 0x0805');
    // 0x0801: media id | type 0 image | format 0 JPEG | event 0 platform command | channel 2 | 28-byte basic block | data
    const basic = '00'.repeat(22) + '260327154245';
    const jpeg = 'ffd8ffe000104a46494600010100000100010000' + 'ab'.repeat(64) + 'ffd9';
    main.write(dev.frame(0x0801, fromHexStr('00000042' + '00' + '00' + '00' + '02' + basic + jpeg)));
    const ph = await waitFor('take_photo processed', () => events('processed').find((e) => e.id === 'ph-1'), 5000);
    assert.equal(ph.executed, true);
    const result = ph.result as Record<string, unknown>;
    assert.equal(result['file.kind'], 'image');
    assert.equal(result['file.size'], jpeg.length / 2, 'the photo, stored, is the result');
    main.close();
  });
});

function fromHexStr(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

test('jt808: a queued command waits for a successful authentication: nothing after registration or a refused 0x0102; it follows the accepting 0x8001', { timeout: 30_000 }, async () => {
  await withTempDir('edge-video-', (mediaDir) => videoHarness(mediaDir), async (h) => {
    const phone = '13345678912';
    const dev = new DeviceFrames({ phone, terminalId: 'DC00005', version: 2013, tzOffsetMin: 480, idBytes: 16 });
    const queued = `${h.root}/log/gw/channels/7/devices/${phone}/commands/queued`;
    await h.sub.publishAsync(`${h.root}/command/gw/channels/7/devices/${phone}`, '{"id":"q-auth","name":"video_timeline","properties":{"channel":1,"start":1774594365,"end":1774597965}}', { qos: 1 });
    await waitFor('command queued', () => h.received.find((m) => m.topic === queued), 5000);

    const main = await openSimSocket('127.0.0.1', h.app.channels[0]!.tcpPort);
    main.write(dev.registration());
    const code = String.fromCharCode(...(await nextOfId(main, 0x8100)).body.subarray(3));
    main.write(dev.authentication(`${code}x`));
    const refused = await nextOfId(main, 0x8001);
    assert.equal(refused.body[4], 1, 'a wrong code is answered with result 1');
    // identified since the registration, refused once: the terminal would ignore a command now
    assert.equal(await main.nextFrame(split, 1000), null, 'no command before a successful authentication');
    main.write(dev.authentication(code));
    const accepted = await nextOfId(main, 0x8001);
    assert.equal(accepted.body[4], 0, 'the right code is answered with result 0');
    const cmd = await main.nextFrame(split, 5000);
    assert.ok(cmd, 'the queued command follows the accepting answer');
    assert.equal(serverMessage(cmd).msgId, 0x9205);
    main.close();
  });
});
