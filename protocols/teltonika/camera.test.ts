import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { crc16Kermit } from '../../src/codec/crc.js';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import type { DecodeResult, FileChunkEffect, SessionState } from '../../src/protocol/types.js';
import { cameraPart, describeFile } from './camera.js';
import teltonika from './index.js';
import { hexOf } from './test-helpers.js';

const DC = 'dualcam-traccar.tsv';
const V = 'teltonika-vendor.tsv';
const ctx = (session: SessionState) => ({ transport: 'tcp' as const, session, receivedAtMs: 1788220800000, options: teltonika.defaultOptions });
/** Decodes `bytes` with `session` and returns the result and the session after it. */
function step(session: SessionState, bytes: Uint8Array): { r: DecodeResult; session: SessionState } {
  const r = cameraPart.decode(bytes, ctx(session));
  return { r, session: { ...session, ...(r.session ?? {}) } };
}
const hexReplies = (r: DecodeResult) => r.replies.map((b) => toHex(b));

test('the camera part is declared by the module and frames the Traccar DualCam rows (init 16 bytes, START, one DATA packet of a longer read)', () => {
  assert.equal(teltonika.parts?.[0], cameraPart);
  for (const id of ['fdec-1', 'fdec-2']) {
    const b = hexOf(DC, id);
    assert.equal(cameraPart.split(b, 0, b.length), b.length, id);
  }
  const five = hexOf(DC, 'dec-5'); // a 1030-byte DATA packet and 370 bytes of the next
  assert.equal(cameraPart.split(five, 0, five.length), 1030);
  assert.equal(cameraPart.split(five, 1030, five.length), 0);
});

test('the Traccar DualCam session: init → %photof; path → file request with that path; START 17 → RESUME 1; SYNC; DATA (CRC-16/KERMIT) stored at offset 0; COMPLETE from the device ends the file', () => {
  let s: SessionState = {};
  let x = step(s, hexOf(DC, 'dec-1'));
  assert.deepEqual(hexReplies(x.r), ['000800072570686f746f66']); // Traccar's answer for settings 0x44000400
  assert.equal(x.session.ident, '352094082736916');
  assert.equal(x.r.messages[0]!['camera.files.offered'], '%photof');
  s = x.session;
  x = step(s, hexOf(DC, 'dec-2'));
  assert.deepEqual(hexReplies(x.r), ['0008001d' + toHex(new TextEncoder().encode('dsm/picture/231020/231452.jpg'))]);
  s = x.session;
  x = step(s, hexOf(DC, 'dec-3'));
  assert.deepEqual(hexReplies(x.r), ['0002000400000001']); // 17 < 8192: packets, from 1
  s = x.session;
  x = step(s, hexOf(DC, 'dec-4'));
  assert.deepEqual([hexReplies(x.r), x.r.warnings], [[], []]);
  s = x.session;
  const data = hexOf(DC, 'dec-5').subarray(0, 1030);
  x = step(s, data);
  assert.deepEqual(hexReplies(x.r), []);
  const e = x.r.effects![0] as FileChunkEffect;
  assert.deepEqual([e.kind, e.offset, e.bytes.length, e.final, toHex(e.bytes.subarray(0, 4))], ['file-chunk', 0, 1024, false, 'ffd8ffe0']);
  s = x.session;
  x = step(s, hexOf(DC, 'dec-6')); // the device ends the file after 1 of 17 packets
  const fin = x.r.effects![0] as FileChunkEffect;
  assert.deepEqual([fin.offset, fin.bytes.length, fin.final, fin.announce, fin.file], [1024, 0, true, 'media.image.1', { kind: 'image', name: 'camera.jpg' }]);
  assert.equal(fin.meta!['camera.file.name'], 'dsm/picture/231020/231452.jpg');
  assert.deepEqual(hexReplies(x.r), ['0005000400000000']); // nothing more wanted
});

test('a DATA packet with a bad CRC is not stored and the device is asked to resume after the last good packet; a running CRC over the file is accepted too', () => {
  let s: SessionState = {};
  s = step(s, hexOf(V, 'cam-init-forum')).session;
  let x = step(s, hexOf(V, 'cam-start-forum')); // 32 packets
  assert.deepEqual(hexReplies(x.r), ['0002000400000001']);
  s = x.session;
  const chunk = (fill: number, crc?: number) => {
    const b = new Uint8Array(1024).fill(fill);
    const c = crc ?? crc16Kermit(b);
    return fromHex('00040402' + toHex(b) + c.toString(16).padStart(4, '0'));
  };
  s = step(s, chunk(1)).session;
  x = step(s, chunk(2, 0x1234));
  assert.deepEqual(hexReplies(x.r), ['0002000400000002']);
  assert.equal(x.r.effects, undefined);
  assert.deepEqual(x.r.warnings.map((w) => w.code), ['EDGE_DECODE_CHECKSUM']);
  s = x.session;
  // running CRC: the CRC of packets 1 and 2 together
  const running = crc16Kermit(new Uint8Array(1024).fill(2), 0, 1024, crc16Kermit(new Uint8Array(1024).fill(1)));
  x = step(s, chunk(2, running));
  assert.equal((x.r.effects![0] as FileChunkEffect).offset, 1024);
});

test('init without a known file bit is answered CLOSE; bit 25 asks for the path first; packets out of order are typed errors', () => {
  const init = (settings: number) => fromHex('00000005' + '00013ee13c001981' + settings.toString(16).padStart(8, '0'));
  assert.deepEqual(hexReplies(step({}, init(0x40000400)).r), ['00000000']);
  assert.deepEqual(hexReplies(step({}, init(1 << 25)).r), ['000c00020000']);
  assert.deepEqual(hexReplies(step({}, init((1 << 27) | (1 << 29))).r), ['000800072570686f746f72']); // %photor, then %videor
  const typed = (b: Uint8Array, s: SessionState) => assert.throws(() => cameraPart.decode(b, ctx(s)), (e: unknown) => e instanceof EdgeError);
  typed(fromHex('0003000400000001'), {}); // before init
  typed(fromHex('0004000300aabb'), { ident: '1', camera: { queue: [], file: { name: '%photof', got: 0, offset: 0, crc: 0 } } }); // DATA before START
  assert.equal(cameraPart.split(fromHex('00070000'), 0, 4) < 0, true); // not a device command
  assert.deepEqual(describeFile('%videor'), { kind: 'video', source: 'rear', announce: 'media.video.2', fileName: 'camera.h265' });
});

test('random and mutated camera packets give only need-more, skip or typed errors (time-boxed)', () => {
  const seeds = ['fdec-1', 'dec-2', 'dec-3', 'dec-4', 'dec-6'].map((id) => hexOf(DC, id));
  const session = { ident: '352094082736916', camera: { queue: [], file: { name: '%photof', total: 3, bytes: false, got: 0, offset: 0, crc: 0 } } };
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255)).map(([b, i, v]) => { const c = b.slice(); c[i % c.length] = v; return c; })), fc.boolean(), (b, withSession) => {
      const s = cameraPart.split(b, 0, b.length);
      assert.ok(Number.isInteger(s) && s <= b.length);
      try {
        cameraPart.decode(b, ctx(withSession ? session : {}));
      } catch (e) {
        if (!(e instanceof EdgeError)) throw e;
      }
    }),
    { numRuns: 20000, interruptAfterTimeLimit: 1500 },
  );
});
