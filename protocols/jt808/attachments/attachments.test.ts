import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/codec/hex.js';
import { EdgeError } from '../../../src/errors.js';
import { Framer } from '../../../src/net/framer.js';
import type { GoldenFile } from '../../../src/protocol/golden.js';
import { SPLIT_INVALID, type DecodeContext, type DecodeEffect, type SessionState, type UploadOp } from '../../../src/protocol/types.js';
import { projectRoot } from '../../../src/util/paths.js';
import { readHeader, unescapeFrame } from '../frame.js';
import jt808 from '../index.js';
import { DeviceFrames } from './device-frames.js';
import { chunkBytes, readUploadRequest, readUploadResult, uploadResultBody } from './layouts.js';
import { attachmentsPart } from './index.js';
import { MAX_CHUNK_DATA } from './splitter.js';

const part = attachmentsPart;
const ctx = (session: SessionState = {}, options: Record<string, unknown> = {}): DecodeContext => ({ transport: 'tcp', session, receivedAtMs: 1788220800000, options: { ...jt808.defaultOptions, ...options } });
const dev = (idBytes: 16 | 40 = 16) => new DeviceFrames({ phone: '13800138000', terminalId: idBytes === 16 ? 'DC00001' : 'TERMINAL-OF-THIRTY-CHARACTERS', version: 2013, tzOffsetMin: 480, idBytes });
const NUMBER = Uint8Array.from('0123456789abcdef0123456789abcdef', (c) => c.charCodeAt(0));
const uploads = (effects: readonly DecodeEffect[] | undefined): UploadOp[] => (effects ?? []).flatMap((e) => (e.kind === 'upload' ? [e.upload] : []));
const bodyOf = (frame: Uint8Array) => {
  const f = unescapeFrame(frame);
  const { header } = readHeader(f, false);
  return { id: header.msgId, serial: header.serial, body: f.subarray(header.bodyStart, f.length - 2) };
};

test('splitter: JT/T 808 frames and raw chunks (whose data holds 7E and 30 bytes) share one stream, cut at any read boundary', () => {
  const d = dev();
  const id = d.identification(1774597965, 1, 1);
  const data = Uint8Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? 0x7e : i % 11 === 0 ? 0x30 : i & 0xff));
  const frames = [d.fileList(id, NUMBER, [{ name: 'a.jpg', size: 3000 }]), d.fileInfo('a.jpg', 0, 3000), chunkBytes('a.jpg', 1000, data.subarray(1000)), chunkBytes('a.jpg', 0, data.subarray(0, 1000)), d.fileDone('a.jpg', 0, 3000)];
  const stream = Buffer.concat(frames);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
      const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), stream.length];
      const framer = new Framer(part, part.maxFrameBytes);
      const out: string[] = [];
      for (let i = 0; i + 1 < at.length; i++) framer.push(stream.subarray(at[i], at[i + 1]), (f) => out.push(f.toString('hex')));
      assert.deepEqual(out, frames.map((f) => toHex(f)));
    }),
    { numRuns: 200 },
  );
});

test('splitter: garbage is skipped up to a 7E or a chunk start; a chunk over the per-chunk limit cannot be buffered (SPLIT_INVALID, explained)', () => {
  const g = fromHex('0102033031');
  assert.equal(part.split(g, 0, g.length), -3, 'skips up to the 30');
  assert.equal(part.split(fromHex('3031aa'), 0, 3), -1, 'a 30 that does not start the magic is skipped');
  assert.equal(part.split(fromHex('303163'), 0, 3), 0, 'a partial magic waits for more');
  const big = chunkBytes('x', 0, new Uint8Array(0));
  new DataView(big.buffer).setUint32(58, MAX_CHUNK_DATA + 1);
  assert.equal(part.split(big, 0, big.length), SPLIT_INVALID);
  assert.match(part.explainInvalid(big, 0, big.length).reason, /1048577 bytes/);
});

test('0x1210 → 0x8001 and an `open` effect (key = alarm number hex, the files); 0x1211 → `file` (type → kind); 0x1212 → `check`, answered by 0x9212 from the missing ranges', () => {
  const d = dev();
  const id = d.identification(1774597965, 1, 2);
  const list = part.decode(d.fileList(id, NUMBER, [{ name: 'a.jpg', size: 3000 }, { name: 'b.mp4', size: 250000 }]), ctx({ platformSerial: 7 }));
  assert.equal(list.replies.length, 1);
  const r = bodyOf(list.replies[0]!);
  assert.equal(r.id, 0x8001);
  assert.equal(r.serial, 7, 'the platform serial of the session');
  assert.equal(toHex(r.body), '0000' + '1210' + '00', 'answers terminal serial 0, message 0x1210, result 0');
  assert.deepEqual(list.session, { ident: '13800138000', jt808Version: 2013, platformSerial: 8 });
  assert.deepEqual(uploads(list.effects), [{ op: 'open', key: toHex(NUMBER), files: [{ name: 'a.jpg', size: 3000 }, { name: 'b.mp4', size: 250000 }], meta: { 'alarm.terminal.id': 'DC00001', 'alarm.upload.info.type.enum': 0 } }]);

  assert.deepEqual(uploads(part.decode(d.fileInfo('b.mp4', 2, 250000), ctx()).effects), [{ op: 'file', name: 'b.mp4', kind: 'video', size: 250000 }]);
  assert.deepEqual(uploads(part.decode(d.fileInfo('x.txt', 3, 10), ctx()).effects), [{ op: 'file', name: 'x.txt', kind: 'file', size: 10 }]);

  const done = part.decode(d.fileDone('b.mp4', 2, 250000), ctx({ ident: '13800138000', platformSerial: 9 }));
  assert.deepEqual(done.replies, [], '0x9212 waits for the runtime');
  const [check] = uploads(done.effects);
  assert.equal(check!.op, 'check');
  const req = (check as Extract<UploadOp, { op: 'check' }>).reply;
  // the runtime adds the missing ranges and has the module encode the answer
  const enc = jt808.encode({ name: req.name, properties: { ...req.properties, missing: [[8192, 100]] } }, { ident: '13800138000', platformSerial: 9 });
  const a = bodyOf(enc.bytes);
  assert.equal(a.id, 0x9212);
  assert.equal(a.serial, 9);
  // name len 5 | "b.mp4" | type 2 | result 1 | count 1 | offset 8192 | length 100
  assert.equal(toHex(a.body), '05' + '622e6d7034' + '02' + '01' + '01' + '00002000' + '00000064');
  const ok = bodyOf(jt808.encode({ name: req.name, properties: { ...req.properties, missing: [] } }, { ident: '13800138000' }).bytes);
  assert.equal(toHex(ok.body), '05622e6d7034' + '02' + '00' + '00', 'nothing missing: result 0, count 0');
  assert.equal(enc.replyKey, null);
  // not a user command: the command list does not name it
  assert.ok(!jt808.commands.some((c) => c.name === req.name));
});

test('0x9212 lists at most what fits a 1023-byte body and a u8 count', () => {
  const many = Array.from({ length: 400 }, (_, i) => [i * 10, 5] as [number, number]);
  const body = uploadResultBody('n.jpg', 0, many);
  const back = readUploadResult(body);
  assert.equal(back.result, 1);
  assert.equal(back.missing.length, Math.floor((1023 - 4 - 5) / 8));
  assert.ok(body.length <= 1023);
  assert.deepEqual(back.missing[0], [0, 5]);
});

test('a data chunk → a `piece` effect, no reply; a chunk whose length field disagrees with its bytes is EDGE_DECODE_INVALID', () => {
  const c = chunkBytes('a.jpg', 4096, Uint8Array.of(1, 2, 3));
  const r = part.decode(c, ctx({ ident: '13800138000' }));
  assert.deepEqual(r.replies, []);
  const [p] = uploads(r.effects) as Extract<UploadOp, { op: 'piece' }>[];
  assert.equal(p!.name, 'a.jpg');
  assert.equal(p!.offset, 4096);
  assert.deepEqual([...p!.bytes], [1, 2, 3]);
  const bad = Uint8Array.from(c);
  bad[61] = 9;
  assert.throws(() => part.decode(bad, ctx()), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID');
});

test('0x0200 with an active-safety alarm announcing attachments (Traccar dec-108): 0x8001, then 0x9208 with the attachment server, the identification and a derived alarm number; an `expect` effect', () => {
  const golden = JSON.parse(readFileSync(join(projectRoot(), 'protocols', 'jt808', 'fixtures', 'golden-traccar.json'), 'utf8')) as GoldenFile;
  const v = golden.vectors!.find((x) => x.id === 'dec-108-lenient')!;
  const session = { platformSerial: 41, serverParts: { attachments: { host: '203.0.113.5', tcp_port: 7612, salt: 'c0ffee' } } };
  const r = jt808.decode(fromHex(v.hex), ctx(session, { lenient_check: true, active_safety: true }));
  assert.equal(r.replies.length, 1);
  assert.equal(bodyOf(r.replies[0]!).id, 0x8001);
  const frames = (r.effects ?? []).filter((e) => e.kind === 'server-frame');
  assert.equal(frames.length, 1);
  const f = bodyOf(frames[0]!.bytes);
  assert.equal(f.id, 0x9208);
  assert.equal(f.serial, 42, 'numbered after the 0x8001');
  assert.equal(r.session!.platformSerial, 43);
  const req = readUploadRequest(f.body, 16);
  assert.equal(req.host, '203.0.113.5');
  assert.equal(req.tcpPort, 7612);
  assert.equal(req.udpPort, 0);
  assert.equal(toHex(req.identification), '303037343234322603271552450b0500', 'the alarm label Traccar asserts');
  const number = String.fromCharCode(...req.alarmNumber);
  assert.match(number, /^[0-9a-f]{32}$/);
  const ident = r.messages[0]!.ident as string;
  assert.equal(number, createHash('sha256').update(`jt808-alarm|c0ffee|${ident}|adas|11|303037343234322603271552450b0500`).digest('hex').slice(0, 32));
  assert.deepEqual(uploads(r.effects), [
    { op: 'expect', key: toHex(req.alarmNumber), meta: { 'alarm.source': 'adas', 'alarm.number': number, 'adas.alarm.id': 11, 'adas.alarm.label': '303037343234322603271552450b0500', 'adas.alarm.attachments.count': 5, 'adas.alarm.type.enum': 4 } },
  ]);
  // another salt (another server start) gives another number: it cannot be computed from the alarm alone
  const other = jt808.decode(fromHex(v.hex), ctx({ serverParts: { attachments: { ...session.serverParts.attachments, salt: 'beef' } } }, { lenient_check: true, active_safety: true }));
  assert.notEqual((uploads(other.effects)[0] as Extract<UploadOp, { op: 'expect' }>).key, toHex(req.alarmNumber));
  // the same alarm again (a resend after a lost ACK) names the same upload
  const again = jt808.decode(fromHex(v.hex), ctx(session, { lenient_check: true, active_safety: true }));
  assert.deepEqual(uploads(again.effects), uploads(r.effects));
  // no attachment listener in the session, or the profile off: no invitation
  assert.equal(jt808.decode(fromHex(v.hex), ctx({}, { lenient_check: true, active_safety: true })).effects, undefined);
  assert.equal(jt808.decode(fromHex(v.hex), ctx(session, { lenient_check: true })).effects, undefined);
  // device_profile active_safety is the same switch
  assert.equal(uploads(jt808.decode(fromHex(v.hex), ctx(session, { lenient_check: true, device_profile: 'active_safety' })).effects).length, 1);
});

test('regional variant: a 40-byte identification (Guangdong, 30-character terminal id) in 0x0200 and in 0x1210', () => {
  const d = dev(40);
  const id = d.identification(1774597965, 3, 2);
  assert.equal(id.length, 40);
  const frame = d.dsmAlarm({ timeS: 1774597965, alarmId: 5, type: 1, level: 2, lat: 31.2, lon: 121.4, speedKmh: 50, identification: id });
  const m = jt808.decode(frame, ctx({}, { active_safety: true, alarm_identification_bytes: 40 })).messages[0]!;
  assert.equal(m['dsm.alarm.terminal.id'], 'TERMINAL-OF-THIRTY-CHARACTERS');
  assert.equal(m['dsm.alarm.attachments.count'], 2);
  assert.equal(m['dsm.alarm.sequence'], 3);
  assert.equal(m['dsm.alarm.label'], toHex(id));
  assert.equal(m['dsm.alarm.identification.timestamp'], 1774597965);
  // read with the default 16-byte variant the item does not fit: it stays raw
  assert.equal(typeof jt808.decode(frame, ctx({}, { active_safety: true })).messages[0]!['item.65'], 'string');
  const list = part.decode(d.fileList(id, NUMBER, [{ name: 'a.jpg', size: 10 }]), ctx({}, { alarm_identification_bytes: 40 }));
  assert.equal((uploads(list.effects)[0] as Extract<UploadOp, { op: 'open' }>).meta['alarm.terminal.id'], 'TERMINAL-OF-THIRTY-CHARACTERS');
  assert.throws(() => jt808.decode(frame, ctx({}, { alarm_identification_bytes: 17 })), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && e.message.includes('alarm_identification_bytes'));
});

test('0x1210 naming one file twice is EDGE_DECODE_INVALID; a short 0x1210 is EDGE_DECODE_TRUNCATED', () => {
  const d = dev();
  const id = d.identification(1774597965, 1, 2);
  assert.throws(() => part.decode(d.fileList(id, NUMBER, [{ name: 'a.jpg', size: 1 }, { name: 'a.jpg', size: 2 }]), ctx()), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID');
  assert.throws(() => part.decode(d.frame(0x1210, new Uint8Array(20)), ctx()), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_TRUNCATED');
});
