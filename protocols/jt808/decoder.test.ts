import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import type { GoldenFile } from '../../src/protocol/golden.js';
import type { DecodeContext, SessionState } from '../../src/protocol/types.js';
import { projectRoot } from '../../src/util/paths.js';
import { buildFrame, escapeInner, unescapeFrame } from './frame.js';
import fc from 'fast-check';
import jt808 from './index.js';
import { authCodeFor } from './session-messages.js';

const golden = JSON.parse(readFileSync(join(projectRoot(), 'protocols', 'jt808', 'fixtures', 'golden-traccar.json'), 'utf8')) as GoldenFile;
const vector = (id: string) => golden.vectors!.find((v) => v.id === id)!;
const ctx = (session: SessionState = {}, options: Record<string, unknown> = {}): DecodeContext => ({ transport: 'tcp', session, receivedAtMs: 1788220800000, options: { ...jt808.defaultOptions, ...options } });
const decodeVector = (id: string) => {
  const v = vector(id);
  return jt808.decode(fromHex(v.hex), ctx({}, v.options ?? {}));
};
const PHONE = fromHex('013800138000');
const device = (msgId: number, serial: number, bodyHex: string) => buildFrame(msgId, PHONE, serial, fromHex(bodyHex), 2013);

test('values Traccar asserts for the same rows (cross-check of the golden expectations)', () => {
  assert.equal(decodeVector('dec-1').messages[0]!['position.satellites'], 14); // Traccar: sat = 14
  assert.equal(decodeVector('dec-6').messages[0]!['position.satellites'], 14); // 2019 header, sat = 14
  assert.equal(decodeVector('dec-15').messages[0]!['video.alarm.flags'], 4); // Traccar: videoAlarm = 4
  const adas = decodeVector('dec-108-lenient').messages[0]!;
  assert.equal(adas['adas.alarm.label'], '303037343234322603271552450b0500'); // Traccar: alarmLabel
  // the field-level decode of dec-108 in the Traccar row's notes (fixtures/jt808-traccar.tsv)
  assert.equal(adas['adas.alarm.type.enum'], 4);
  assert.equal(adas['adas.alarm.attachments.count'], 5);
  assert.equal(adas['adas.alarm.terminal.id'], '0074242');
  assert.equal(adas['adas.alarm.latitude'], 27.964216);
  assert.equal(adas['video.signal.loss.channels'], 4);
  // without the active-safety profile the same item stays raw (other vendors reuse 0x64)
  const plain = jt808.decode(fromHex(vector('dec-108').hex), ctx({}, { lenient_check: true })).messages[0]!;
  assert.equal(plain['adas.alarm.id'], undefined);
  assert.equal(typeof plain['item.64'], 'string');
});

test('escaping: Traccar frame tests fdec-2 (un-escape) and fenc-1 → fenc-2 (escape)', () => {
  assert.equal(toHex(unescapeFrame(fromHex('7e307d02087d01557e'))), '7e307e087d557e');
  assert.equal(toHex(escapeInner(fromHex('307e087d55'))), '7e307d02087d01557e');
  assert.throws(() => unescapeFrame(fromHex('7e307d03557e')), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID');
});

test('splitter: leading garbage is skipped (fdec-3), 7E 7E resynchronises, a short candidate is skipped', () => {
  const f = toHex(device(0x0002, 1, ''));
  const b = fromHex('2424' + f + f.slice(0, 10));
  assert.equal(jt808.split(b, 0, b.length), -2);
  assert.equal(jt808.split(b, 2, b.length), f.length / 2);
  assert.equal(jt808.split(b, 2 + f.length / 2, b.length), 0, 'an open frame waits for more');
  const doubled = fromHex('7e' + f);
  assert.equal(jt808.split(doubled, 0, doubled.length), -1);
  const short = fromHex('7e307d02087d01557e');
  assert.equal(jt808.split(short, 0, short.length), -8);
});

test('the platform serial comes from the session, is escaped on the wire and advances per reply', () => {
  const r = jt808.decode(device(0x0002, 0x1234, ''), ctx({ platformSerial: 0x7d }));
  assert.equal(r.replies.length, 1);
  const reply = unescapeFrame(r.replies[0]!);
  assert.equal(toHex(reply.subarray(1, 5)), '80010005');
  assert.equal(toHex(reply.subarray(11, 13)), '007d', 'header serial = platform serial');
  assert.equal(toHex(reply.subarray(13, 18)), '1234000200', 'body = terminal serial, terminal msg id, result 0');
  assert.ok(toHex(r.replies[0]!).includes('007d01'), 'serial byte 7D escaped as 7D 01');
  assert.deepEqual(r.session, { ident: '13800138000', jt808Version: 2013, platformSerial: 0x7e });
});

const REGISTRATION = '002c012f' + '3730313131' + '00'.repeat(20) + '00'.repeat(7) + '01';
const ascii = (s: string) => toHex(new TextEncoder().encode(s));

test('auth_code "issued": 0x8100 carries the connection nonce and asks the runtime to store it; 0x0102 asks it to check, with both answers prepared', () => {
  const nonce = '0123456789abcdef';
  const reg = jt808.decode(device(0x0100, 5, REGISTRATION), { ...ctx({ platformSerial: 3 }), nonce });
  assert.equal(toHex(unescapeFrame(reg.replies[0]!).subarray(13, -2)), '000500' + ascii(nonce));
  assert.deepEqual(reg.effects, [{ kind: 'credential-issue', code: nonce }]);
  assert.equal(reg.session?.platformSerial, 4);
  const auth = jt808.decode(device(0x0102, 6, ascii(nonce)), ctx({ platformSerial: 4 }));
  assert.deepEqual(auth.replies, [], 'the runtime writes the answer it picks');
  assert.equal(auth.messages[0]!['auth.code.valid'], undefined, 'the runtime adds it');
  const e = auth.effects![0]! as { kind: string; code: string; accepted: Uint8Array[]; rejected: Uint8Array[]; field: string };
  assert.deepEqual([e.kind, e.code, e.field], ['credential-check', nonce, 'auth.code.valid']);
  const body = (f: Uint8Array) => toHex(unescapeFrame(f).subarray(11, -2));
  assert.equal(body(e.accepted[0]!), '0004' + '0006010200', '0x8001 serial 4: terminal serial 6, msg 0x0102, result 0');
  assert.equal(body(e.rejected[0]!), '0004' + '0006010201', 'result 1 (failure) on a mismatch');
  assert.equal(auth.session?.platformSerial, 5, 'one serial spent whichever answer goes out');
  // without a runtime (CLI decode) there is no nonce: the deterministic code stands in
  const cli = jt808.decode(device(0x0100, 5, REGISTRATION), ctx());
  assert.deepEqual(cli.effects, [{ kind: 'credential-issue', code: authCodeFor('13800138000') }]);
});

test('auth_code "derived": the code is a hash of the ident and every authentication is acknowledged (replaying recorded sessions)', () => {
  const derived = { auth_code: 'derived' };
  const reg = jt808.decode(device(0x0100, 5, REGISTRATION), { ...ctx({}, derived), nonce: '0123456789abcdef' });
  const code = authCodeFor('13800138000');
  assert.equal(toHex(unescapeFrame(reg.replies[0]!).subarray(13, -2)), '000500' + ascii(code));
  assert.equal(reg.effects, undefined, 'nothing to store');
  const ok = jt808.decode(device(0x0102, 6, ascii(code)), ctx({}, derived));
  assert.equal(ok.messages[0]!['auth.code.valid'], true);
  const bad = jt808.decode(device(0x0102, 6, '3132'), ctx({}, derived));
  assert.equal(bad.messages[0]!['auth.code.valid'], false);
  assert.equal(toHex(unescapeFrame(bad.replies[0]!).subarray(13, -2)), '0006010200', 'acknowledged with result 0');
  assert.throws(() => jt808.decode(device(0x0102, 6, '3132'), ctx({}, { auth_code: 'random' })), (x: unknown) => x instanceof EdgeError && x.code === 'EDGE_CONFIG_INVALID' && /auth_code/.test(x.message));
});

test('terminal general response 0x0001 closes the command by message id and serial; no reply to it', () => {
  const r = jt808.decode(device(0x0001, 9, '0007830000'), ctx());
  assert.deepEqual(r.commandReplies, [{ replyKey: 'jt808:8300#7', executed: true, response: 0 }]);
  assert.deepEqual(r.replies, []);
  const fail = jt808.decode(device(0x0001, 9, '0007910101'), ctx());
  assert.deepEqual(fail.commandReplies, [{ replyKey: 'jt808:9101#7', executed: false, response: 1 }]);
});

test('0x0805 and 0x1205 answer take_photo and video_timeline', () => {
  const photo = jt808.decode(device(0x0805, 3, '0007' + '00' + '0002' + '00000011' + '00000012'), ctx());
  assert.deepEqual(photo.commandReplies, [{ replyKey: 'jt808:8801#7', executed: true, response: '17,18' }]);
  // one recording: channel 1, 2026-09-01 08:00:00 → 08:05:00 device time (GMT+8), alarm 0, video, main stream, main storage, 1 MB
  const rec = '01' + '260901080000' + '260901080500' + '0000000000000000' + '02' + '01' + '01' + '00100000';
  const list = jt808.decode(device(0x1205, 4, '0007' + '00000001' + rec), ctx());
  assert.equal(list.commandReplies![0]!.replyKey, 'jt808:9205#7', 'the reply key names the serial of the command it answers');
  assert.deepEqual(JSON.parse(list.commandReplies![0]!.response as string), [{ channel: 1, start: 1788220800, end: 1788221100, alarm: '0000000000000000', av_type: 2, stream: 1, storage: 1, size: 1048576 }]);
});

test('0x0801 in one frame becomes one stored file announced as media.<kind>.<channel>, answered by 0x8800 with the media id', () => {
  const basic = '00000000' + '00000003' + '01aab482' + '04ea7e57' + '0008' + '01ad' + '00b6' + '260327155245';
  const r = jt808.decode(device(0x0801, 2, '0000002a' + '00' + '00' + '01' + '02' + basic + 'ffd8ffe0ffd9'), ctx());
  assert.deepEqual(r.messages, [], 'the announcement is the message (published once the file is stored)');
  const e = r.effects![0]! as { kind: string; key: string; offset: number; bytes: Uint8Array; final: boolean; file: unknown; announce: string; meta: Record<string, unknown> };
  assert.deepEqual([e.kind, e.key, e.offset, e.final, toHex(e.bytes)], ['file-chunk', 'media-42', 0, true, 'ffd8ffe0ffd9']);
  assert.deepEqual(e.file, { kind: 'image', name: '42.jpg' });
  assert.equal(e.announce, 'media.image.2');
  assert.equal(e.meta['media.id'], 42);
  assert.equal(e.meta['media.event.enum'], 1);
  assert.equal(e.meta['message.type'], 'media_data');
  assert.equal(e.meta['position.latitude'], 27.964546);
  assert.equal(e.meta.ident, undefined, 'the runtime sets the ident');
  assert.equal(toHex(unescapeFrame(r.replies[0]!).subarray(1, 3)), '8800');
  assert.equal(toHex(unescapeFrame(r.replies[0]!).subarray(13, -2)), '0000002a');
  // audio (type 1, WAV) on channel 3; an unknown type is a plain file
  const audio = jt808.decode(device(0x0801, 3, '00000007' + '01' + '03' + '00' + '03' + basic + '52494646'), ctx()).effects![0]! as typeof e;
  assert.deepEqual([audio.file, audio.announce], [{ kind: 'audio', name: '7.wav' }, 'media.audio.3']);
  const other = jt808.decode(device(0x0801, 4, '00000008' + '09' + '09' + '00' + '01' + basic + '00'), ctx()).effects![0]! as typeof e;
  assert.deepEqual([other.file, other.announce], [{ kind: 'file', name: '8' }, 'media.file.1']);
});

test('re-send requests: 0x8800 with the missing packets when the first 0x0801 packet names the media id, 0x8003 otherwise (2013 count u8, 2019 u16)', () => {
  const part = (msgId: string, version: 2013 | 2019, serial: number, total: number, index: number, bodyHex: string) => {
    const body = fromHex(bodyHex);
    const phone = version === 2019 ? '00000000013800138000' : '013800138000';
    const attr = 0x2000 | (version === 2019 ? 0x4000 : 0) | body.length;
    const inner = fromHex(msgId + attr.toString(16).padStart(4, '0') + (version === 2019 ? '01' : '') + phone + serial.toString(16).padStart(4, '0') + total.toString(16).padStart(4, '0') + index.toString(16).padStart(4, '0') + bodyHex);
    let x = 0;
    for (const b of inner) x ^= b;
    return escapeInner(Uint8Array.from([...inner, x]));
  };
  const resend = (f: Uint8Array) => (jt808.decode(f, ctx()).effects![0]! as { resend: Uint8Array }).resend;
  // packet 1 of a 0x0801 (media id 0x2a), serial 0x10: 0x8800 lists packets 2 and 4 (1-based)
  const first = resend(part('0801', 2013, 0x10, 4, 1, '0000002a00000102'));
  const req = jt808.resendRequest!(first, [1, 3], 4, { platformSerial: 9 })!;
  assert.equal(toHex(unescapeFrame(req).subarray(1, -2)), '8800' + '0009' + '013800138000' + '0009' + '0000002a' + '02' + '0002' + '0004');
  // only packet 3 came (no media id): 0x8003 naming the first serial (0x12 - 2 = 0x10)
  const third = resend(part('0801', 2013, 0x12, 4, 3, 'aabb'));
  assert.equal(toHex(unescapeFrame(jt808.resendRequest!(third, [0, 1, 3], 4, {})!).subarray(1, -2)), '8003' + '0009' + '013800138000' + '0000' + '0010' + '03' + '000100020004');
  // a sub-packaged 0x0704 in a 2019 header: 0x8003 with a WORD count
  const batch = resend(part('0704', 2019, 0x21, 3, 2, 'ccdd'));
  assert.equal(toHex(unescapeFrame(jt808.resendRequest!(batch, [2], 3, { platformSerial: 1 })!).subarray(1, -2)), '8003' + '4006' + '01' + '00000000013800138000' + '0001' + '0020' + '0001' + '0003');
  assert.equal(jt808.resendRequest!(first, [], 4, {}), null, 'nothing missing: no request');
  assert.throws(() => jt808.resendRequest!(Uint8Array.of(1, 2), [0], 2, {}), (x: unknown) => x instanceof EdgeError);
});

test('a sub-package with an impossible part number is a typed error, not a crash', () => {
  const frame = (total: string, index: string) => {
    const inner = fromHex('0801' + '2004' + '013800138000' + '0010' + total + index + 'deadbeef');
    let x = 0;
    for (const b of inner) x ^= b;
    return escapeInner(Uint8Array.from([...inner, x]));
  };
  assert.equal(jt808.decode(frame('0003', '0001'), ctx()).effects?.[0]?.kind, 'reassemble');
  for (const [t, i] of [['0003', '0004'], ['0003', '0000'], ['0000', '0000']] as const) {
    assert.throws(() => jt808.decode(frame(t, i), ctx()), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID', `${t}/${i}`);
  }
});

test('a wrong option is a configuration error naming the key', () => {
  assert.throws(() => jt808.decode(device(0x0002, 1, ''), ctx({}, { timezone_offset_minutes: '+8' })), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && e.message.includes('options.timezone_offset_minutes'));
  assert.throws(() => jt808.decode(device(0x0002, 1, ''), ctx({}, { device_profile: 'subiao' })), (e: unknown) => e instanceof EdgeError && e.message.includes('options.device_profile'));
});

test('the time zone option moves the BCD time', () => {
  const hex = vector('dec-2').hex;
  const gmt8 = jt808.decode(fromHex(hex), ctx()).messages[0]!.timestamp as number;
  const utc = jt808.decode(fromHex(hex), ctx({}, { timezone_offset_minutes: 0 })).messages[0]!.timestamp as number;
  assert.equal(utc - gmt8, 8 * 3600);
});

test('commands need a known terminal and check their properties', () => {
  assert.throws(() => jt808.encode({ name: 'query_parameters', properties: {} }, {}), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID');
  const s = { ident: '13800138000' };
  assert.throws(() => jt808.encode({ name: 'take_photo', properties: {} }, s), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID');
  assert.throws(() => jt808.encode({ name: 'text_message', properties: { text: 'héllo' } }, s), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID');
  assert.throws(() => jt808.encode({ name: 'set_parameters', properties: { parameters: '0001=abc' } }, s), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID');
  const enc = jt808.encode({ name: 'take_photo', properties: { channel: 1 } }, s);
  assert.deepEqual(jt808.parseCommand(enc.bytes), { name: 'take_photo', properties: { channel: 1, count: 1, interval_s: 0, save: false, resolution: 1, quality: 5, brightness: 128, contrast: 64, saturation: 64, chroma: 128 } });
});

test('rewriteIdent writes another terminal into a frame, 2013 and 2019', () => {
  const r13 = jt808.rewriteIdent!(fromHex(vector('dec-2').hex), '13912345678');
  assert.equal(jt808.decode(r13, ctx()).messages[0]!.ident, '13912345678');
  const r19 = jt808.rewriteIdent!(fromHex(vector('dec-6').hex), '13912345678');
  assert.equal(jt808.decode(r19, ctx()).messages[0]!.ident, '13912345678');
});

test('active-safety items 0x65/0x66/0x67/0x70 (synthesised from the layouts): decoded when the profile is on and the length fits', () => {
  // common tail: speed 60, altitude 12 m, 31.230416 N, 121.473701 E, 2026-09-01 08:00:00 (GMT+8), status ACC+positioned,
  // identification "ABC1234" + same time + sequence 3 + 2 attachments + reserved
  const tail = '3c' + '000c' + '01dc89d0' + '073d8aa5' + '260901080000' + '0401' + '41424331323334' + '260901080000' + '03' + '02' + '00';
  const item = (id: number, valueHex: string) => id.toString(16).padStart(2, '0') + (valueHex.length / 2).toString(16).padStart(2, '0') + valueHex;
  const dsm = item(0x65, '00000007' + '01' + '02' + '02' + '50' + '00000000' + tail);
  const tpms = item(0x66, '00000008' + '02' + tail + '01' + '03' + '0004' + '00dc' + '0032' + '0055');
  const bsd = item(0x67, '00000009' + '01' + '02' + tail);
  const harsh = item(0x70, '0000000a' + '01' + '02' + '0005' + '0010' + '0020' + tail);
  const basic = '00000000' + '00000003' + '01dc89d0' + '073d8aa5' + '000c' + '0258' + '005a' + '260901080000';
  const frame = device(0x0200, 1, basic + dsm + tpms + bsd + harsh);
  const m = jt808.decode(frame, ctx({}, { device_profile: 'active_safety' })).messages[0]!;
  assert.equal(m['dsm.alarm.id'], 7);
  assert.equal(m['dsm.alarm.start'], true);
  assert.equal(m['dsm.alarm.type.enum'], 2); // handheld phone
  assert.equal(m['dsm.fatigue.level'], 80);
  assert.equal(m['dsm.alarm.latitude'], 31.230416);
  assert.equal(m['dsm.alarm.longitude'], 121.473701);
  assert.equal(m['dsm.alarm.timestamp'], 1788220800);
  assert.equal(m['dsm.alarm.terminal.id'], 'ABC1234');
  assert.equal(m['dsm.alarm.attachments.count'], 2);
  assert.equal(m['dsm.alarm.label'], '41424331323334' + '260901080000' + '030200');
  assert.equal(m['tpms.alarm.end'], true);
  assert.equal(m['tpms.tyres.count'], 1);
  assert.equal(m['tpms.tyre.1.position'], 3);
  assert.equal(m['tpms.tyre.1.alarm.flags'], 4); // low pressure
  assert.equal(m['tpms.tyre.1.pressure'], 220);
  assert.equal(m['tpms.tyre.1.temperature'], 50);
  assert.equal(m['tpms.tyre.1.battery.level'], 85);
  assert.equal(m['bsd.alarm.type.enum'], 2);
  assert.equal(m['bsd.alarm.speed'], 60);
  assert.equal(m['harsh.alarm.type.enum'], 2); // braking
  assert.equal(m['harsh.time.threshold'], 5);
  assert.equal(m['harsh.threshold.2'], 32);
  const standard = jt808.decode(frame, ctx()).messages[0]!;
  assert.equal(standard['dsm.alarm.id'], undefined);
  assert.equal(standard['item.65'], dsm.slice(4));
  // a length that does not fit the layout (e-lock devices reuse 0x66/0x67) stays raw even with the profile on
  const elock = jt808.decode(device(0x0200, 1, basic + item(0x67, '0102030405060708')), ctx({}, { device_profile: 'active_safety' })).messages[0]!;
  assert.equal(elock['item.67'], '0102030405060708');
  assert.equal(elock['bsd.alarm.id'], undefined);
});

test('sub-packages: each part is acknowledged and handed over to be joined; the joined message decodes like the whole one', () => {
  // a 0x0200 from the golden file, its body split over two sub-packages
  const whole = unescapeFrame(fromHex('7e02000032000000000000022500000000000c0002000000000000000000710000014626061510572501040000006430011f31010ce10200722b04ab560000487e'));
  const body = whole.subarray(13, whole.length - 2);
  const phone = whole.subarray(5, 11);
  const part = (index: number, bytes: Uint8Array, serial: number) => {
    const inner = new Uint8Array(16 + bytes.length + 1);
    inner.set([0x02, 0x00, 0x20 | (bytes.length >> 8), bytes.length & 0xff], 0); // attr: sub-packaged
    inner.set(phone, 4);
    inner.set([serial >> 8, serial & 0xff, 0, 2, 0, index], 10);
    inner.set(bytes, 16);
    let x = 0;
    for (let i = 0; i < inner.length - 1; i++) x ^= inner[i]!;
    inner[inner.length - 1] = x;
    return escapeInner(inner);
  };
  const cut = 20;
  const r1 = jt808.decode(part(1, body.subarray(0, cut), 0x0100), ctx());
  const r2 = jt808.decode(part(2, body.subarray(cut), 0x0101), ctx());
  for (const [r, serial] of [[r1, '0100'], [r2, '0101']] as const) {
    assert.equal(r.messages.length, 0);
    assert.equal(r.replies.length, 1, 'each part gets its 0x8001');
    assert.equal(toHex(r.replies[0]!).slice(2, 6), '8001');
    assert.ok(toHex(unescapeFrame(r.replies[0]!)).includes(serial + '0200'), 'the 0x8001 names the part\'s serial and message id');
    const e = r.effects![0]!;
    assert.equal(e.kind, 'reassemble');
  }
  const [e1, e2] = [r1.effects![0]!, r2.effects![0]!] as { kind: 'reassemble'; key: string; index: number; count: number; bytes: Uint8Array }[];
  assert.equal(e1!.key, e2!.key, 'one key for both parts (message id + first serial)');
  assert.deepEqual([e1!.index, e1!.count, e2!.index, e2!.count], [0, 2, 1, 2]);
  const joined = jt808.decode(Buffer.concat([e1!.bytes, e2!.bytes]), { ...ctx(), reassembled: true });
  const direct = jt808.decode(fromHex('7e02000032000000000000022500000000000c0002000000000000000000710000014626061510572501040000006430011f31010ce10200722b04ab560000487e'), ctx());
  assert.deepEqual(joined.messages, direct.messages, 'the joined message is the message');
  assert.equal(joined.replies.length, 0, 'its 0x8001 is not repeated: the parts were answered');
});

test('custom: text is 0x8300 (the text_message bytes), data goes out under any message id; the 0x0001 naming that id and serial closes it', () => {
  const session = { ident: '13800138000', platformSerial: 7 };
  const viaText = jt808.encode({ name: 'custom', properties: { text: 'hi', flags: 8 } }, session);
  const textMessage = jt808.encode({ name: 'text_message', properties: { text: 'hi', flags: 8 } }, session);
  assert.equal(toHex(viaText.bytes), toHex(textMessage.bytes));
  assert.equal(viaText.replyKey, 'jt808:8300#7');
  const raw = jt808.encode({ name: 'custom', properties: { message_id: 0x8500, data: '01' } }, session);
  assert.equal(toHex(raw.bytes), toHex(buildFrame(0x8500, PHONE, 7, fromHex('01'), 2013)));
  assert.equal(raw.replyKey, 'jt808:8500#7');
  assert.deepEqual(jt808.parseCommand(raw.bytes), { name: 'custom', properties: { message_id: 0x8500, data: '01' } });
  // the terminal's general response to 0x8500 serial 7 carries that reply key
  const answer = jt808.decode(device(0x0001, 3, '0007850000'), ctx({ ident: '13800138000' }));
  assert.deepEqual(answer.commandReplies, [{ replyKey: 'jt808:8500#7', executed: true, response: 0 }]);
  for (const props of [{}, { text: 'a', data: '00', message_id: 1 }, { data: '00' }, { text: 'a', message_id: 0x8300 }, { data: '0g', message_id: 1 }]) {
    assert.throws(() => jt808.encode({ name: 'custom', properties: props }, session), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID', JSON.stringify(props));
  }
});

test('vendor e-lock 0x5501/0x5502 (11-byte header, 1-byte serial): the values Traccar asserts, positions that pass its sanity checks, the general response', () => {
  assert.equal(decodeVector('dec-33').messages[0]!['elock.unlock.result'], 0x65); // Traccar: unlockResult = 0x65
  const tilt = decodeVector('dec-45').messages[0]!;
  assert.deepEqual([tilt['elock.tilt.x'], tilt['elock.tilt.y'], tilt['elock.tilt.z']], [-104, -88, 126]); // Traccar: tilt = "[-104,-88,126]"
  assert.equal(decodeVector('dec-66').messages[0]!['battery.charging.status'], true); // Traccar: charge = true
  for (const id of ['dec-33', 'dec-34-lenient', 'dec-35', 'dec-45', 'dec-66', 'dec-69', 'dec-70']) {
    const r = decodeVector(id);
    const m = r.messages[0]!;
    // Traccar's sanity checks: a fix time after 1999 and not far ahead, coordinates and course in range
    assert.ok((m.timestamp as number) > 946_684_800 && (m.timestamp as number) < 1788220800 + 25 * 3600, `${id}: time`);
    assert.ok(Math.abs(m['position.latitude'] as number) <= 90 && Math.abs(m['position.longitude'] as number) <= 180, `${id}: coordinates`);
    assert.ok((m['position.direction'] as number) >= 0 && (m['position.direction'] as number) <= 360, `${id}: course`);
    assert.equal(m['message.buffered.status'], fromHex(vector(id).hex)[2] === 0x02, `${id}: 0x5502 is a stored (blind-area) report`);
    const reply = unescapeFrame(r.replies[0]!);
    assert.equal(toHex(reply.subarray(1, 3)), '8001', `${id}: answered by the general response`);
  }
  // an e-lock body shorter than its base block is still refused, with the offset of the body
  assert.throws(() => jt808.decode(fromHex('7e5501000474019031118506' + '01020304' + 'ff7e'), ctx({}, { lenient_check: true })), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_TRUNCATED');
});

test('tolerant items: a location whose items end badly keeps its base block and the items before, with the rest as jt808.unparsed.hex and a warning', () => {
  const r = decodeVector('dec-64'); // Traccar keeps this position: its last "item" announces 120 bytes of 8
  const m = r.messages[0]!;
  assert.equal(m['position.latitude'], -27.455656);
  assert.equal(m['jt808.unparsed.offset'], 49);
  assert.match(String(m['jt808.unparsed.hex']), /^0078/);
  assert.ok(r.warnings!.some((w) => w.code === 'EDGE_DECODE_TRAILING' && /offset 49/.test(w.reason)));
  // one stray byte after the last item (seen from a second, independent codec's capture)
  // alarm, status (fix, north, east), lat 31.2, lon 121.4, altitude 10, speed 0, direction 90, 2026-09-01 08:00:00 (GMT+8)
  const base = '00000000' + '00000003' + '01dc1300' + '073c6ac0' + '000a' + '0000' + '005a' + '260901080000';
  const stray = jt808.decode(device(0x0200, 9, base + '01040000001e' + 'aa'), ctx()).messages[0]!;
  assert.equal(stray['vehicle.mileage'], 3, 'the item before the stray byte is kept');
  assert.equal(stray['jt808.unparsed.hex'], 'aa');
});

test('fuzz: a location with any tail of additional-item bytes is never refused while its base block is intact', () => {
  const base = '00000000' + '00000003' + '01dc1300' + '073c6ac0' + '000a' + '0000' + '005a' + '260901080000';
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
      const r = jt808.decode(device(0x0200, 7, base + toHex(tail)), ctx());
      const m = r.messages[0]!;
      assert.equal(m['position.latitude'], 31.2);
      assert.equal(m['position.longitude'], 121.4);
      assert.equal(r.replies.length, 1, 'answered by the general response');
    }),
    { numRuns: 2000, seed: 808 },
  );
});

test('0x0702 driver identity, 0x1003 A/V capabilities and 0x1205 resource lists are decoded into named parameters', () => {
  assert.equal(decodeVector('dec-8').messages[0]!['driver.certificate.id'], '0029b885'); // Traccar: cardCode = "0029b885"
  // card inserted, read, name "LI", certificate, issuer "RTA", expiry 2027-06-30
  const cert = toHex(Buffer.from('D1234567'.padEnd(20, '\0'), 'latin1'));
  const inserted = jt808.decode(device(0x0702, 3, '01' + '260901080000' + '00' + '02' + '4c49' + cert + '03' + '525441' + '20270630'), ctx()).messages[0]!;
  assert.deepEqual(
    [inserted['message.type'], inserted['driver.card.inserted.status'], inserted['driver.name'], inserted['driver.certificate.id'], inserted['driver.certificate.issuer'], inserted['driver.certificate.expiry'], inserted.timestamp],
    ['driver_identity', true, 'LI', 'D1234567', 'RTA', '2027-06-30', 1788220800],
  );
  const removed = jt808.decode(device(0x0702, 4, '02' + '260901090000'), ctx()).messages[0]!;
  assert.deepEqual([removed['driver.card.inserted.status'], removed['driver.certificate.id']], [false, undefined]);
  const caps = jt808.decode(device(0x1003, 5, '06' + '01' + '00' + '01' + '0140' + '01' + '62' + '01' + '04'), ctx());
  assert.deepEqual([caps.messages[0]!['av.video.encoding.enum'], caps.messages[0]!['av.video.channels.max'], caps.messages[0]!['av.audio.frame.length']], [0x62, 4, 320]);
  assert.equal(caps.replies.length, 1, 'answered by the general response');
  const item = '01' + '260327154245' + '260327155245' + '0000000000000000' + '00' + '01' + '01' + '00100000';
  const list = jt808.decode(device(0x1205, 6, '0007' + '00000001' + item), ctx());
  assert.equal(list.commandReplies![0]!.replyKey, 'jt808:9205#7');
  const m = list.messages[0]!;
  assert.deepEqual([m['message.type'], m['video.recordings.count'], m['video.recording.1.channel'], m['video.recording.1.size'], m['video.recording.1.av.type']], ['recording_list', 1, 1, 1048576, 0]);
});
