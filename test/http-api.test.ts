import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import { openTcpDevice } from '../src/replay/device-client.js';
import { projectRoot } from '../src/util/paths.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { runCli } from './support/run-cli.js';
import { TACHO_IDENT, deviceFile, isAnnouncement, isFragment, play, steps } from './support/tacho-session.js';
import { withTempDir } from './support/temp-dir.js';

/**
 * The HTTP API over real sockets: a simulated dashcam alarm upload (JT/T 808) and a tachograph
 * download (Ruptela) store files; every file is then fetched by the signed link in its message and
 * checked against the announced sha256; a Range request gets the exact slice; bad links get 403, the
 * API without a token 401; listing, metadata, protect and properties, and hostile ids.
 */
const READ = 'read-token-0123456789abcdef';
const FULL = 'full-token-0123456789abcdef';
const LINK_KEY = 'link-key-for-the-test-0123456789';
const SESSION = join(projectRoot(), 'fixtures/sessions/jt808-dashcam-dsm.json');

async function apiHarness(mediaDir: string): Promise<Harness> {
  return startHarness({
    channels: [
      { id: 7, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options: { active_safety: true }, parts: { attachments: { tcp_port: 0 } } },
      { id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 },
    ],
    extra: { media: { dir: mediaDir }, http: { port: 0, tokens: `read:${READ}\nfull:${FULL}`, link_key: LINK_KEY } },
    threads: 2,
  });
}

const base = (h: Harness) => `http://127.0.0.1:${h.app.http!.port}`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('HTTP API: alarm files and a tacho download fetched by their signed links (bytes = sha256), Range, 403 for bad links, 401 without a token, list, metadata, protect', { timeout: 90_000 }, async () => {
  await withTempDir('edge-http-', (dir) => apiHarness(dir), async (h) => {
    // 1. a dashcam alarm with three attachments
    const r = await runCli(['replay', '--protocol', 'jt808', '--to', `tcp://127.0.0.1:${h.app.channels[0]!.tcpPort}`, '--json', SESSION]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const ident = (JSON.parse(r.stdout) as { ident: string }).ident;
    const link = await waitFor('the linking message', () => h.received.map((m) => (m.topic === `${h.root}/message/gw/channels/7/${ident}` ? (JSON.parse(m.payload) as Record<string, unknown>) : null)).find((m) => m?.['message.type'] === 'media_upload') ?? undefined, 15_000);
    const urls: string[] = [];
    for (const p of ['media.image.1', 'media.image.2', 'media.video.1']) {
      const url = String(link[`${p}.file.url`]);
      assert.ok(url.startsWith(`${base(h)}/media/`), url);
      const res = await fetch(url);
      assert.equal(res.status, 200, p);
      const body = new Uint8Array(await res.arrayBuffer());
      assert.equal(sha(body), link[`${p}.sha256`], `${p}: the bytes behind the link are the announced file`);
      assert.equal(res.headers.get('etag'), `"${String(link[`${p}.sha256`])}"`);
      assert.equal(Number(res.headers.get('content-length')), link[`${p}.size`]);
      assert.ok(res.headers.get('last-modified'));
      urls.push(url);
    }
    assert.match((await fetch(urls[0]!)).headers.get('content-type') ?? '', /^image\/jpeg/);
    // the stored event of each file carries its link too
    const stored = h.received.filter((m) => m.topic === `${h.root}/log/gw/channels/7/devices/${ident}/media`).map((m) => JSON.parse(m.payload) as Record<string, unknown>).filter((e) => e.event === 'stored');
    assert.equal(stored.length, 3);
    assert.ok(stored.every((e) => String(e['media.file.url']).startsWith(`${base(h)}/media/`)));

    // 2. Range: the exact slice, then an unsatisfiable one; HEAD has the headers and no body
    const video = urls[2]!;
    const whole = new Uint8Array(await (await fetch(video)).arrayBuffer());
    const part = await fetch(video, { headers: { range: 'bytes=1000-1999' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${whole.length}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), whole.subarray(1000, 2000));
    const tail = await fetch(video, { headers: { range: 'bytes=-10' } });
    assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), whole.subarray(whole.length - 10));
    const past = await fetch(video, { headers: { range: `bytes=${whole.length}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${whole.length}`);
    assert.equal(((await past.json()) as { code: string }).code, 'EDGE_HTTP_RANGE');
    const head = await fetch(video, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), whole.length);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(video, { headers: { 'if-none-match': `"${sha(whole)}"` } })).status, 304);

    // 3. links: a changed signature and an expired (correctly signed) link are refused
    const u = new URL(video);
    const id = u.pathname.split('/').pop()!;
    const forged = new URL(video);
    forged.searchParams.set('sig', 'A'.repeat(43));
    const bad = await fetch(forged);
    assert.equal(bad.status, 403);
    const badBody = (await bad.json()) as { code: string; reason: string; request_id: string };
    assert.equal(badBody.code, 'EDGE_HTTP_FORBIDDEN');
    assert.ok(badBody.request_id);
    const exp = Math.floor(Date.now() / 1000) - 60;
    const expiredSig = createHmac('sha256', LINK_KEY).update(`${id}\n${exp}`).digest('base64url');
    const expired = await fetch(`${base(h)}/media/${id}?exp=${exp}&sig=${expiredSig}`);
    assert.equal(expired.status, 403);
    assert.match(((await expired.json()) as { reason: string }).reason, /expired/);
    assert.equal((await fetch(`${base(h)}/media/${id}`)).status, 403, 'no signature at all');

    // 4. a tachograph file downloaded from the Ruptela device
    const plan = await steps();
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[1]!.tcpPort);
    await play(dev, plan.filter((f, i) => i === 0 || isAnnouncement(f) || isFragment(f)));
    dev.close();
    const tacho = await waitFor('media.tacho message', () => h.received.map((m) => (m.topic === `${h.root}/message/gw/channels/1/${TACHO_IDENT}` && m.payload.includes('media.tacho.sha256') ? (JSON.parse(m.payload) as Record<string, unknown>) : null)).find((m) => m) ?? undefined, 10_000);
    const ddd = new Uint8Array(await (await fetch(String(tacho['media.tacho.file.url']))).arrayBuffer());
    assert.equal(sha(ddd), tacho['media.tacho.sha256']);
    assert.deepEqual(Buffer.from(ddd), deviceFile(plan));
    // the server reads every tacho file; the session's file is no valid download, so its JSON (a
    // stored file of its own) holds the error: the fifth file of the list below
    await waitFor('tacho file read', () => h.received.some((m) => m.topic === `${h.root}/log/gw/channels/1/devices/${TACHO_IDENT}/media` && m.payload.includes('"tacho_unreadable"')), 10_000);

    // 5. the API: 401 without or with a wrong token; list and filters; metadata
    const noToken = await fetch(`${base(h)}/api/v1/media`);
    assert.equal(noToken.status, 401);
    assert.equal(((await noToken.json()) as { code: string }).code, 'EDGE_HTTP_UNAUTHORIZED');
    assert.equal((await fetch(`${base(h)}/api/v1/media`, { headers: bearer('x'.repeat(20)) })).status, 401);
    const all = (await (await fetch(`${base(h)}/api/v1/media`, { headers: bearer(READ) })).json()) as { total: number; items: Record<string, unknown>[] };
    assert.equal(all.total, 5);
    const videos = (await (await fetch(`${base(h)}/api/v1/media?kind=video&channel=7`, { headers: bearer(READ) })).json()) as { total: number; items: Record<string, unknown>[] };
    assert.equal(videos.total, 1);
    assert.equal(videos.items[0]!.sha256, sha(whole));
    assert.equal(videos.items[0]!.path, undefined, 'no server path in answers');
    const ofAlarm = (await (await fetch(`${base(h)}/api/v1/media?alarm=${String(link['alarm.number'])}`, { headers: bearer(READ) })).json()) as { total: number; items: { meta: Record<string, unknown> }[] };
    assert.equal(ofAlarm.total, 3, "the alarm's three files, found by its number");
    assert.equal(ofAlarm.items[0]!.meta['alarm.source'], 'dsm');
    const tachos = (await (await fetch(`${base(h)}/api/v1/media?kind=tacho&ident=${TACHO_IDENT}`, { headers: bearer(READ) })).json()) as { total: number };
    assert.equal(tachos.total, 1);
    const one = (await (await fetch(`${base(h)}/api/v1/media/${id}`, { headers: bearer(READ) })).json()) as Record<string, unknown>;
    assert.equal(one.kind, 'video');
    assert.equal(one.bytes, whole.length);
    const viaApi = await fetch(`${base(h)}/api/v1/media/${id}/content`, { headers: { ...bearer(READ), range: 'bytes=0-9' } });
    assert.equal(viaApi.status, 206);
    assert.deepEqual(new Uint8Array(await viaApi.arrayBuffer()), whole.subarray(0, 10));

    // 6. changes: a read token is refused, a full one protects and annotates
    const patchAs = (token: string, body: unknown) => fetch(`${base(h)}/api/v1/media/${id}`, { method: 'PATCH', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await patchAs(READ, { protected: true })).status, 403);
    const patched = (await (await patchAs(FULL, { protected: true, properties: { case: 'INC-7' } })).json()) as Record<string, unknown>;
    assert.equal(patched.protected, true);
    assert.deepEqual(patched.properties, { case: 'INC-7' });
    assert.equal((await patchAs(FULL, { protected: 'yes' })).status, 400);
    assert.equal((await patchAs(FULL, { owner: 'x' })).status, 400);
    assert.equal((await patchAs(FULL, { properties: { big: 'x'.repeat(5000) } })).status, 400);
    const relisted = (await (await fetch(`${base(h)}/api/v1/media/${id}`, { headers: bearer(READ) })).json()) as Record<string, unknown>;
    assert.equal(relisted.protected, true, 'kept on disk (the sidecar), read back');
  });
});

test('HTTP API: hostile ids, bad filters and the OpenAPI document; DELETE removes the file and says so', { timeout: 60_000 }, async () => {
  await withTempDir('edge-http-', (dir) => apiHarness(dir), async (h, mediaDir) => {
    const get = (path: string) => fetch(`${base(h)}${path}`, { headers: bearer(READ) });
    for (const hostile of [Buffer.from('../../etc/passwd').toString('base64url'), Buffer.from('7/x/../../../secret').toString('base64url'), '..%2F..%2Fetc%2Fpasswd', Buffer.from(`7/x/${'a'.repeat(10)}.part`).toString('base64url'), 'not*an*id']) {
      const res = await get(`/api/v1/media/${hostile}`);
      assert.equal(res.status, 404, hostile);
      assert.equal(((await res.json()) as { code: string }).code, 'EDGE_HTTP_NOT_FOUND');
    }
    for (const q of ['kind=movie', 'from=yesterday', 'from=100&to=50', 'limit=0', 'limit=5000', 'offset=-1']) {
      const res = await get(`/api/v1/media?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(((await res.json()) as { code: string }).code, 'EDGE_HTTP_BAD_REQUEST');
    }
    const doc = (await (await fetch(`${base(h)}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/media/{id}/content'] && doc.paths['/media/{id}']);
    assert.equal((await fetch(`${base(h)}/healthz`)).status, 200, 'health stays where it was');

    // a file put there as the store would have: deleted over the API, with a `deleted` event
    const { mkdirSync, writeFileSync, existsSync } = await import('node:fs');
    mkdirSync(join(mediaDir, '7', '013912345678'), { recursive: true });
    const name = 'image-20261205T101010Z-k1.jpg';
    writeFileSync(join(mediaDir, '7', '013912345678', name), 'jpeg bytes');
    const list = (await (await get('/api/v1/media?ident=013912345678')).json()) as { items: { id: string; sha256: string | null }[] };
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0]!.sha256, null, 'a file without sidecar is listed with what is known');
    const id = list.items[0]!.id;
    assert.equal((await fetch(`${base(h)}/api/v1/media/${id}`, { method: 'DELETE', headers: bearer(READ) })).status, 403);
    assert.equal((await fetch(`${base(h)}/api/v1/media/${id}`, { method: 'DELETE', headers: bearer(FULL) })).status, 204);
    assert.equal(existsSync(join(mediaDir, '7', '013912345678', name)), false);
    const ev = await waitFor('deleted event', () => h.received.find((m) => m.topic === `${h.root}/log/gw/channels/7/devices/013912345678/media` && m.payload.includes('"deleted"')));
    assert.equal((JSON.parse(ev.payload) as { reason: string }).reason, 'api');
    assert.equal((await fetch(`${base(h)}/api/v1/media/${id}`, { method: 'DELETE', headers: bearer(FULL) })).status, 404);
  });
});

test('HTTP API read side: instance, channels, a device connected, the commands held for one that is not, the assets and an interval range', { timeout: 60_000 }, async () => {
  const { connectDevice } = await import('./support/device-socket.js');
  const { recordsFrame, typicalRecord } = await import('../protocols/ruptela/device-frames.js');
  const h = await startHarness({
    channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }],
    extra: { http: { port: 0, tokens: `read:${READ}` }, assets: [{ id: 'drv1', name: 'Anna', type: 'driver' }] },
  });
  try {
    const get = async (path: string) => {
      const res = await fetch(`${base(h)}${path}`, { headers: bearer(READ) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const imei = 863071018193333n;
    const dev = await connectDevice(h.app.channels[0]!.tcpPort);
    dev.socket.write(recordsFrame(imei, [typicalRecord(Math.floor(Date.now() / 1000), 1)]));
    await waitFor('records ACK', () => dev.hex().length > 0);
    const offline = '351234567890999';
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${offline}`, '{"id":"q1","name":"get_version","meta":{"t":1}}', { qos: 1 });
    await waitFor('queued', () => h.received.some((m) => m.topic.endsWith(`/devices/${offline}/commands/queued`)));
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    await h.sub.publishAsync(`${h.root}/command/gw/assets`, JSON.stringify({ op: 'assign', id: 'drv1', channel_id: 1, ident: String(imei), begin: t0, end: t0 + 600 }), { qos: 1 });
    await h.sub.publishAsync(`${h.root}/command/gw/assets`, JSON.stringify({ op: 'assign', id: 'drv1', channel_id: 1, ident: String(imei), begin: t0 + 1200 }), { qos: 1 });
    await waitFor('both assignments applied', () => h.received.filter((m) => m.topic === `${h.root}/log/gw/assets/requests/applied`).length === 2);

    const inst = await get('/api/v1/instance');
    assert.equal(inst.status, 200);
    assert.equal(inst.body.instance_id, h.app.config.instance_id);
    assert.equal(inst.body.ready, true);
    const chans = (await get('/api/v1/channels')).body.items as Record<string, unknown>[];
    assert.equal(chans.length, 1);
    assert.equal(chans[0]!.protocol, 'ruptela');
    assert.equal(chans[0]!.connections, 1);
    assert.equal((chans[0]!.counters as Record<string, number>).messages, 1);
    assert.equal((chans[0]!.counters as Record<string, number>)['decode.errors'], 0, 'names as published: dotted lower-case');
    const device = (await get(`/api/v1/devices/1/${imei}`)).body;
    assert.equal(device.connected, true);
    assert.equal(device.commands_held, 0);
    const latest = device.latest_message as Record<string, unknown>;
    assert.equal(latest.ident, String(imei), 'the latest message, as published');
    assert.equal(typeof latest['position.latitude'], 'number');
    assert.ok((device.latest_message_at as number) > 0);
    const none = (await get(`/api/v1/devices/1/${offline}`)).body;
    assert.equal(none.connected, false);
    assert.equal(none.latest_message, null);
    const cmds = (await get(`/api/v1/devices/1/${offline}/commands`)).body as { held: Record<string, unknown>[]; recent: Record<string, unknown>[] };
    assert.deepEqual(cmds.held.map((c) => [c.id, c.name, c.state]), [['q1', 'get_version', 'queued']]);
    assert.deepEqual(cmds.recent, []);
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${offline}/cancel`, '{"id":"q1"}', { qos: 1 });
    await waitFor('canceled', () => h.received.some((m) => m.topic.endsWith(`/devices/${offline}/commands/canceled`)));
    const after = (await get(`/api/v1/devices/1/${offline}/commands`)).body as { held: unknown[]; recent: Record<string, unknown>[] };
    assert.deepEqual(after.held, []);
    assert.deepEqual(after.recent.map((c) => [c.id, c.status]), [['q1', 'canceled']]);
    assert.equal((await get(`/api/v1/devices/9/${offline}/commands`)).status, 404);
    assert.equal((await get('/api/v1/devices/1/a%2Fb')).status, 400);
    assert.deepEqual((await get('/api/v1/assets')).body.items, [{ id: 'drv1', name: 'Anna', type: 'driver', declared: true }]);
    const all = (await get('/api/v1/assets/drv1')).body;
    assert.equal(all.total, 2);
    const later = (await get(`/api/v1/assets/drv1?from=${t0 + 900}`)).body;
    assert.equal(later.total, 1, 'only the interval that reaches into the range');
    assert.equal((later.intervals as { begin: number }[])[0]!.begin, t0 + 1200);
    const page = (await get('/api/v1/assets/drv1?limit=1&offset=1')).body;
    assert.equal((page.intervals as unknown[]).length, 1);
    assert.equal((await get(`/api/v1/assets/drv1?from=10&to=5`)).status, 400);
    assert.equal((await get('/api/v1/assets/nope')).status, 404);
    dev.socket.destroy();
  } finally {
    await h.close();
  }
});
