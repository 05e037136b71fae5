import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceLink, type LinkIo } from '../src/channel/device-link.js';
import { EdgeError } from '../src/errors.js';
import { FileMediaStore } from '../src/media/media-store.js';
import type { DecodeContext, DecodeResult } from '../src/protocol/types.js';
import { waitFor } from './support/harness.js';
import { withTempDir } from './support/temp-dir.js';
import { dev, rig as toyRig, toyExplainInvalid as explainInvalid, toyFrame as frame, toyProtocol, toySplit as split, uniqueRoot } from './support/toy-rig.js';

/**
 * The runtime seams with a protocol made for the test (the contract is the seam, so a toy protocol
 * exercises it without Ruptela's details): decode effects (server frames, file pieces, multi-frame
 * reassembly), a protocol family's second listener, and DeviceLink.send between reply sequences.
 *
 * Toy frame: [length u8 = whole frame][type u8][payload]; the ident is "toy-1".
 */
function decode(frame: Uint8Array, ctx: DecodeContext): DecodeResult {
  const type = frame[1]!;
  const body = frame.subarray(2);
  const base = { ident: 'toy-1', timestamp: 1_735_689_600 };
  const r: DecodeResult = { messages: [], replies: [Uint8Array.of(type)], session: { ident: 'toy-1' }, warnings: [] };
  if (ctx.reassembled) {
    r.messages.push({ ...base, joined: Buffer.from(frame).toString('hex') });
    r.replies = [];
    return r;
  }
  switch (type) {
    case 1:
      r.messages.push({ ...base, value: body[0] ?? 0 });
      break;
    case 2:
      r.effects = [{ kind: 'server-frame', bytes: Uint8Array.of(0xaa, 0xbb) }];
      break;
    case 3:
      r.effects = [{ kind: 'file-chunk', key: 'p1', offset: body[0]!, bytes: body.subarray(2), final: body[1] === 1, file: { kind: 'image', name: 'CH1_PHOTO.JPG' }, announce: 'media.image.1', meta: { 'alarm.id': 7 } }];
      break;
    case 4:
      // the parts carry a frame of their own once joined: [len][type 9][...]
      r.effects = [{ kind: 'reassemble', key: 'm', index: body[0]!, count: body[1]!, bytes: body.subarray(2) }];
      break;
    default:
      throw new EdgeError('EDGE_DECODE_INVALID', `type ${type}`, 1);
  }
  return r;
}

const toy = toyProtocol({
  id: 'toy',
  title: 'Toy',
  decode,
  parts: [
    {
      id: 'attachments',
      title: 'Toy attachments',
      transports: ['tcp'],
      defaultPorts: {},
      maxFrameBytes: 255,
      split,
      explainInvalid,
      decode: (frame) => ({ messages: [{ ident: 'toy-1', timestamp: 1_735_689_600, part: 'attachments', size: frame.length }], replies: [Uint8Array.of(0x77)], warnings: [] }),
    },
  ],
});

async function rig(mediaDir: string, maxFileBytes?: number) {
  const failed: string[] = [];
  const stored: string[] = [];
  const hooks = {
    mediaFailed: (_c: string, ident: string, key: string, err: EdgeError) => void failed.push(`${ident}/${key}: ${err.code}: ${err.message}`),
    mediaStored: (_c: string, ident: string, f: { name: string }) => void stored.push(`${ident}/${f.name}`),
  };
  const media = new FileMediaStore(mediaDir, { fsync: true, maxFileBytes, now: () => Date.UTC(2026, 10, 29, 11, 45, 12) });
  const root = uniqueRoot('s');
  const got: string[] = [];
  const logs: string[] = [];
  const r = await toyRig(toy, {
    channel: { id: 5, parts: { attachments: { tcp_port: 0 } } },
    clientId: 'seams',
    root,
    deps: { media, hooks },
    subscribe: ['message/#', 'log/gw/channels/5/devices/+/media'],
    onMessage: (t, p) => (t.startsWith(`${root}/message/`) ? got : logs).push(p),
  });
  return { channel: r.channel, got, logs, failed, stored, close: r.close };
}

test('decode effects: a server frame follows its frame\'s reply; file pieces are on disk before the ACK; parts are joined and decoded once complete', { timeout: 30_000 }, async () => {
  await withTempDir('edge-media-', (mediaDir) => rig(mediaDir), async (r, mediaDir) => {
    const d = await dev(r.channel.tcpPort);
    d.s.write(Buffer.concat([frame(1, 7), frame(2)]));
    await waitFor('reply, reply, then the server frame', () => d.hex() === '01' + '02' + 'aabb', 5000);

    // a file in two pieces, the second first: each ACK only once its bytes are synced
    d.s.write(frame(3, 3, 0, 0x44, 0x45)); // offset 3, not final
    await waitFor('ACK of piece 2', () => d.hex().endsWith('03'), 5000);
    const part = join(mediaDir, '5', 'toy-1', 'p1.part');
    assert.ok(existsSync(part), 'the piece is on disk when its frame is acknowledged');
    d.s.write(frame(3, 0, 1, 0x41, 0x42, 0x43)); // offset 0, final
    await waitFor('ACK of the final piece', () => d.hex().endsWith('0303'), 5000);
    // complete: renamed in one step to {kind}-{UTC time}-{key}{ext}, the .part is gone
    const path = join(mediaDir, '5', 'toy-1', 'image-20261129T114512Z-p1.jpg');
    assert.equal(readFileSync(path).toString(), 'ABCDE');
    assert.ok(!existsSync(part));
    assert.equal(r.channel.counters.fileChunks, 2);
    // the announcement was published before the final piece's ACK (the ACK waits for its PUBACK)
    const ann = await waitFor('the announcement', () => r.got.find((p) => p.includes('"media.image.1.sha256"')), 5000);
    const m = JSON.parse(ann) as Record<string, unknown>;
    const sha = createHash('sha256').update('ABCDE').digest('hex');
    assert.deepEqual(
      [m.ident, m['alarm.id'], m['media.image.1.file.id'], m['media.image.1.file.name'], m['media.image.1.size'], m['media.image.1.sha256'], m['media.image.1.path'], m['channel.id'], m['protocol.id']],
      ['toy-1', 7, 'p1', 'image-20261129T114512Z-p1.jpg', 5, sha, path, 5, 'toy'],
    );
    assert.equal(typeof m['message.id'], 'string');
    const ev = JSON.parse(await waitFor('the media log event', () => r.logs[0], 5000)) as Record<string, unknown>;
    assert.deepEqual([ev.event, ev.kind, ev['media.image.1.sha256'], ev['alarm.id']], ['stored', 'image', sha, 7]);
    assert.deepEqual(r.stored, ['toy-1/image-20261129T114512Z-p1.jpg']);

    // a frame of its own ([len 5][type 9][1 2 3]) in three parts, out of order
    d.s.write(Buffer.concat([frame(4, 2, 3, 3), frame(4, 0, 3, 5, 9), frame(4, 1, 3, 1, 2)]));
    const joined = await waitFor('the joined message', () => r.got.find((p) => p.includes('"joined"')), 5000);
    assert.equal((JSON.parse(joined) as { joined: string }).joined, '0509010203');
    assert.ok(d.hex().endsWith('040404'), 'each part was acknowledged');
    d.s.destroy();
  });
});

test('a file piece that cannot be stored is not acknowledged and the connection closes', { timeout: 30_000 }, async () => {
  const onAFile = async (dir: string) => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    return rig(notADir);
  };
  await withTempDir('edge-media-', onAFile, async (r) => {
    const d = await dev(r.channel.tcpPort);
    d.s.write(frame(3, 0, 1, 0x41));
    await waitFor('the connection to close', () => d.closed(), 5000);
    assert.equal(d.hex(), '', 'no ACK for a piece that is not on disk');
  });
});

test('a file past media.max_file_bytes is not stored: the frame gets no ACK, the upload fails with a reason, nothing is left as complete', { timeout: 30_000 }, async () => {
  await withTempDir('edge-media-', (dir) => rig(dir, 4), async (r, dir) => {
    const d = await dev(r.channel.tcpPort);
    d.s.write(frame(3, 0, 0, 0x41, 0x42)); // bytes 0..1: within the cap, acknowledged
    await waitFor('ACK of the first piece', () => d.hex() === '03', 5000);
    d.s.write(frame(3, 2, 1, 0x43, 0x44, 0x45)); // would end at 5 > 4
    await waitFor('the connection to close', () => d.closed(), 5000);
    assert.equal(d.hex(), '03', 'no ACK for the piece past the cap');
    assert.equal(r.failed.length, 1);
    assert.match(r.failed[0]!, /^toy-1\/p1: EDGE_MEDIA_TOO_LARGE: .*max_file_bytes 4/);
    assert.deepEqual(readdirSync(join(dir, '5', 'toy-1')), ['p1.part'], 'only the unfinished .part is there');
    assert.deepEqual(r.got, []);
  });
});

test('a protocol family part gets its own listener (config channels[].parts), its own framing and decoder', { timeout: 30_000 }, async () => {
  await withTempDir('edge-media-', (dir) => rig(dir), async (r) => {
    const port = r.channel.portOf('attachments');
    assert.ok(port > 0 && port !== r.channel.tcpPort);
    const d = await dev(port);
    d.s.write(frame(1, 2, 3));
    await waitFor('the part\'s reply', () => d.hex() === '77', 5000);
    const m = await waitFor('the part\'s message', () => r.got.find((p) => p.includes('"part":"attachments"')), 5000);
    assert.equal((JSON.parse(m) as { size: number }).size, 4);
    d.s.destroy();
  });
});

test('DeviceLink.send writes at once between frames, and after the pending reply sequence otherwise', () => {
  const written: string[] = [];
  const io: LinkIo = { write: (b) => written.push(Buffer.from(b).toString('hex')), pendingBytes: () => 0, pause: () => {}, resume: () => {}, end: () => {}, destroy: () => {} };
  const link = new DeviceLink('tcp', 'p:1', 'p', io, 0);
  link.send(Uint8Array.of(0xc1));
  assert.deepEqual(written, ['c1'], 'nothing pending: written at once');
  const slot = (remaining: number) => ({ remaining, replies: [Uint8Array.of(0xa1), Uint8Array.of(0xa2)], after: null, failed: null, frame: Buffer.alloc(0), receivedAtMs: 0, reassembled: false });
  const s1 = slot(1);
  const s2 = slot(1);
  link.slots.push(s1, s2);
  link.send(Uint8Array.of(0xc2));
  assert.deepEqual(written, ['c1'], 'held while a reply sequence is pending');
  s1.remaining = 0;
  assert.equal(link.flushReady(), 1);
  assert.deepEqual(written, ['c1', 'a1', 'a2', 'c2'], 'after the whole reply sequence of the frame, never inside it');
  s2.remaining = 0;
  link.flushReady();
  assert.deepEqual(written, ['c1', 'a1', 'a2', 'c2', 'a1', 'a2']);
});
