import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc16Kermit } from '../../src/codec/crc.js';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError, type ErrorCode } from '../../src/errors.js';
import ruptela from './index.js';
import { ctx, deviceFrame, loadGolden, payloadOf } from './test-helpers.js';

const IMEI = 863071016796572n;
const vectors = [...(loadGolden('golden-traccar.json').vectors ?? []), ...(loadGolden('golden-vendor.json').vectors ?? [])];
const hexOf = (id: string): string => vectors.find((v) => v.id === id)!.hex;
const decodeHex = (hex: string) => ruptela.decode(fromHex(hex), ctx());
const isCode = (code: ErrorCode, offset?: number) => (e: unknown) =>
  e instanceof EdgeError && e.code === code && (offset === undefined || e.offset === offset);

const h = (v: number, bytes: number): string => v.toString(16).padStart(bytes * 2, '0');
type Io = [number, number | string][];
/** One extended (cmd 68) record: fixed position, the given key, record extension and IO groups. */
function extRecord(ts: number, tsExt: number, ext: number, io1: Io = [], io2: Io = [], io4: Io = [], io8: Io = []): string {
  const group = (io: Io, w: number) => h(io.length, 1) + io.map(([id, v]) => h(id, 2) + (typeof v === 'string' ? v : h(v, w))).join('');
  return (
    h(ts, 4) + h(tsExt, 1) + h(ext, 1) + '00' + h(219231566, 4) + h(470554533, 4) + h(1373, 2) + h(21590, 2) + '0c' + h(0, 2) + '09' + h(5, 2) +
    group(io1, 1) + group(io2, 2) + group(io4, 4) + group(io8, 8)
  );
}
const records68 = (...recs: string[]) => deviceFrame(IMEI, 68, '00' + h(recs.length, 1) + recs.join(''));

test('T#11: two 4-part groups in one second merge by (timestamp, tsExt) into 2 messages', () => {
  const r = decodeHex(hexOf('T#11'));
  assert.equal(r.messages.length, 2);
  assert.deepEqual(r.messages.map((m) => [m.timestamp, m['timestamp.key']]), [[1476824891, 0], [1476824891, 1]]);
  // the union holds ids from every part: 5 (part 0), 133 (part 1), 65 (part 2), 142 (parts 0 and 3)
  for (const m of r.messages) for (const k of ['din.4', 'io.133', 'vehicle.mileage', 'io.142']) assert.ok(k in m, k);
  assert.deepEqual(r.warnings, []);
});

test('T#1 (3 parts) and T#10 (4 parts) each give one message', () => {
  assert.equal(decodeHex(hexOf('T#1')).messages.length, 1);
  assert.equal(decodeHex(hexOf('T#10')).messages.length, 1);
  assert.equal(decodeHex(hexOf('T#1')).messages[0]!['ibutton.code'], '01d042f31d000030');
});

test('interleaved parts of two groups (traccar#1855 pattern) merge by key, not adjacency', () => {
  const t = 1700000000;
  const f = records68(
    extRecord(t, 0, 0x11, [[2, 1]]),
    extRecord(t + 1, 1, 0x11, [[3, 1]]),
    extRecord(t, 0, 0x10, [[4, 0]]),
    extRecord(t + 1, 1, 0x10, [[5, 1]]),
  );
  const r = ruptela.decode(f, ctx());
  assert.deepEqual(r.warnings, []);
  assert.equal(r.messages.length, 2);
  assert.deepEqual([r.messages[0]!['din.1'], r.messages[0]!['din.3']], [true, false]);
  assert.deepEqual([r.messages[1]!['din.2'], r.messages[1]!['din.4']], [true, true]);
  assert.equal(r.messages[1]!['engine.ignition.status'], true);
});

test('a group not complete inside the frame is emitted as one message with a warning', () => {
  const r = ruptela.decode(records68(extRecord(1700000000, 0, 0x20, [[2, 1]]), extRecord(1700000000, 0, 0x21, [[3, 0]])), ctx());
  assert.equal(r.messages.length, 1);
  assert.equal(r.messages[0]!['din.1'], true);
  assert.equal(r.messages[0]!['din.2'], false);
  assert.deepEqual(r.warnings.map((w) => w.code), ['EDGE_DECODE_PARTIAL']);
  assert.deepEqual(r.replies.map((b) => toHex(b)), ['0002640113bc']);
});

test('duplicate IO id in one record: the last value is kept and reported', () => {
  const r = ruptela.decode(records68(extRecord(1700000000, 0, 0, [[27, 10], [27, 11]])), ctx());
  assert.equal(r.messages[0]!['io.27'], 11);
  assert.deepEqual(r.warnings.map((w) => w.code), ['EDGE_DECODE_INVALID']);
});

test('an IO id in an unexpected group is published raw with a warning; error sentinels stay raw', () => {
  const r = ruptela.decode(records68(extRecord(1700000000, 0, 0, [[29, 200], [207, 254], [522, 1]], [[32, 0xfff6]], [], [[34, 'ffffffffffffffff'], [155, '3132333435363738'], [156, '3930000000000000']])), ctx());
  const m = r.messages[0]!;
  assert.equal(m['io.29'], 200);
  assert.equal(m['io.207'], 254);
  assert.equal(m['io.32'], -10, 'signed per the signed-id list in any width');
  assert.equal(m['io.34'], 'ffffffffffffffff');
  assert.equal(m['tacho.fms.driver.id.1'], '1234567890');
  assert.equal(m['can.engine.ignition.status'], true);
  assert.equal(m['engine.ignition.status'], true);
  assert.ok(!('io.155' in m) && !('external.powersource.voltage' in m) && !('can.fuel.level' in m));
  assert.deepEqual(r.warnings.map((w) => w.code), ['EDGE_DECODE_INVALID', 'EDGE_DECODE_INVALID']);
});

test('T#3: no-fix sentinels give no coordinates and position.valid false', () => {
  const r = decodeHex(hexOf('T#3'));
  assert.equal(r.messages.length, 29);
  for (const m of r.messages) {
    assert.equal(m['position.valid'], false);
    for (const k of ['latitude', 'longitude', 'altitude', 'direction', 'speed', 'satellites', 'hdop']) assert.ok(!(`position.${k}` in m), k);
  }
  assert.equal(r.messages[0]!.timestamp, 946684811);
});

test('HDOP 254 marks a GSM-derived position', () => {
  const rec = h(1700000000, 4) + '0000' + h(252712755, 4) + h(546305118, 4) + h(1971, 2) + h(6999, 2) + '00' + h(0, 2) + 'fe' + '07' + '00000000';
  const m = ruptela.decode(deviceFrame(IMEI, 1, '0001' + rec), ctx()).messages[0]!;
  assert.equal(m['position.gsm.status'], true);
  assert.equal(m['position.valid'], false);
  assert.ok(!('position.hdop' in m));
  assert.equal(m['position.latitude'], 54.6305118);
});

test('T#16: zero-IO records carry only the header fields', () => {
  const r = decodeHex(hexOf('T#16'));
  assert.equal(r.messages.length, 5);
  for (const m of r.messages) assert.equal(Object.keys(m).length, 13);
});

test('T#15: 14-digit IMEI is published without zero padding', () => {
  const r = decodeHex(hexOf('T#15'));
  assert.equal(r.session?.ident, '12207007303107');
  assert.equal(r.messages[0]!.ident, '12207007303107');
});

test('truncated payloads with a valid length and CRC throw EDGE_DECODE_TRUNCATED', () => {
  const t12 = payloadOf(hexOf('T#12'));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 1, t12.slice(0, -10)), ctx()), isCode('EDGE_DECODE_TRUNCATED'));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 1, '0002' + t12.slice(4)), ctx()), isCode('EDGE_DECODE_TRUNCATED'));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 1, ''), ctx()), isCode('EDGE_DECODE_TRUNCATED', 11));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 15, payloadOf(hexOf('T#2')).slice(0, -2)), ctx()), isCode('EDGE_DECODE_TRUNCATED', 46));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 9, payloadOf(hexOf('V#1')).slice(0, -2)), ctx()), isCode('EDGE_DECODE_TRUNCATED'));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 18, '0101010500'), ctx()), isCode('EDGE_DECODE_TRUNCATED', 15));
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 17, ''), ctx()), isCode('EDGE_DECODE_TRUNCATED'));
});

test('bad CRC and bad length are rejected before any field is read', () => {
  const b = fromHex(hexOf('T#12'));
  b[20] = b[20]! ^ 1;
  assert.throws(() => ruptela.decode(b, ctx()), isCode('EDGE_DECODE_CHECKSUM', b.length - 2));
  assert.throws(() => ruptela.decode(fromHex('0002'), ctx()), isCode('EDGE_FRAME_LENGTH', 0));
  assert.throws(() => ruptela.decode(fromHex('00011e1e08'), ctx()), isCode('EDGE_FRAME_LENGTH', 0));
});

test('a short frame (len < 9) other than cmd 30 is invalid', () => {
  const body = fromHex('1001');
  const crc = crc16Kermit(body);
  assert.throws(() => ruptela.decode(fromHex(`0002${toHex(body)}${h(crc, 2)}`), ctx()), isCode('EDGE_DECODE_INVALID', 2));
});

test('files: the last part gets no next-part request; other commands', () => {
  const last = ruptela.decode(deviceFrame(IMEI, 37, '0201' + '3544444131464144' + '000a' + '0009' + 'ffd9'), ctx());
  assert.deepEqual(last.replies, []);
  assert.equal(last.messages[0]!['file.part'], 9);
  const sub1 = ruptela.decode(deviceFrame(IMEI, 37, '0100'), ctx());
  assert.deepEqual(sub1.warnings.map((w) => w.code), ['EDGE_DECODE_UNSUPPORTED']);
  const failed = ruptela.decode(deviceFrame(IMEI, 17, '02'), ctx());
  assert.deepEqual(failed.commandReplies, [{ replyKey: 'ruptela:17', executed: false, response: 2 }]);
  const unknown = ruptela.decode(deviceFrame(IMEI, 99, 'aa'), ctx());
  assert.deepEqual(unknown.warnings.map((w) => w.code), ['EDGE_DECODE_UNSUPPORTED']);
  assert.deepEqual(unknown.session, { ident: String(IMEI) });
});

test('fuzz: random bytes and random well-framed payloads only ever throw EdgeError', () => {
  const onlyEdge = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof EdgeError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => onlyEdge(() => ruptela.decode(b, ctx()))),
    { numRuns: 300 },
  );
  const cmds = [1, 2, 3, 4, 7, 9, 15, 16, 17, 18, 37, 68, 12, 30];
  fc.assert(
    fc.property(fc.constantFrom(...cmds), fc.uint8Array({ maxLength: 200 }), (cmd, payload) => {
      onlyEdge(() => ruptela.decode(deviceFrame(IMEI, cmd, toHex(payload)), ctx()));
      onlyEdge(() => ruptela.parseCommand(deviceFrame(IMEI, cmd, toHex(payload)).subarray(8)));
    }),
    { numRuns: 600 },
  );
});
