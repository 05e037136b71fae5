import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter } from '../../src/codec/byte-writer.js';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import { Framer } from '../../src/net/framer.js';
import { SPLIT_INVALID } from '../../src/protocol/types.js';
import { wrapTcpFrame } from './frame.js';
import teltonika from './index.js';
import { ctx, hexOf } from './test-helpers.js';

const TR = 'teltonika-traccar.tsv';
const VENDOR = 'teltonika-vendor.tsv';
const IMEI = { ident: '123456789012345' };
const first = (file: string, id: string, options: Record<string, unknown> = {}) => teltonika.decode(hexOf(file, id), ctx(IMEI, options)).messages[0]!;

test('the values Traccar\'s tests assert (tag1Voltage, tag1Battery, driverUniqueId, eyeTemp1) in this project\'s names and units', () => {
  assert.equal(first(TR, 'dec-3')['ble.beacon.1.battery.voltage'], 3.09); // 3090 mV, IO 548 TLV 2
  assert.equal(first(TR, 'dec-5')['eye.sensor.1.battery.voltage'], 3.03); // 3030 mV, IO 10831 TLV 14
  assert.equal(first(TR, 'dec-6')['driver.id'], '12749884'); // Codec 13 GTSL line
  assert.equal(first(TR, 'dec-45')['eye.sensor.temperature.1'], -11.87); // IO 10800
});

test('the replies equal the server frames the vendor prints (IMEI accept, TCP ACK 1 and 2, UDP ACKs)', () => {
  const reply = (file: string, id: string, transport: 'tcp' | 'udp', session = {}) => toHex(teltonika.decode(hexOf(file, id), ctx(session, {}, transport)).replies[0]!);
  assert.equal(reply(VENDOR, 'imei-login', 'tcp'), toHex(hexOf(VENDOR, 'imei-accept-srv')));
  assert.equal(reply(VENDOR, 'c8-tcp-ex1', 'tcp', IMEI), toHex(hexOf(VENDOR, 'tcp-ack-1-srv')));
  assert.equal(reply(VENDOR, 'c8-tcp-ex3', 'tcp', IMEI), toHex(hexOf(VENDOR, 'tcp-ack-2-srv')));
  assert.equal(reply(VENDOR, 'c16-tcp-ex1', 'tcp', IMEI), toHex(hexOf(VENDOR, 'tcp-ack-2-srv')));
  assert.equal(reply(VENDOR, 'c8-udp-ex1', 'udp'), toHex(hexOf(VENDOR, 'c8-udp-ack1')));
  assert.equal(reply(VENDOR, 'c8e-udp-ex1', 'udp'), toHex(hexOf(VENDOR, 'c8e-udp-ack1')));
});

test('a ping byte and a login in one read are two frames (Traccar TeltonikaFrameDecoderTest fdec-1); the ping gets nothing', () => {
  const frames: string[] = [];
  new Framer(teltonika, teltonika.maxFrameBytes).push(Buffer.from(hexOf(TR, 'fdec-1')), (f) => frames.push(f.toString('hex')));
  assert.deepEqual(frames, ['ff', '000f313233343536373839303132333435']);
  const r = teltonika.decode(fromHex('ff'), ctx());
  assert.deepEqual([r.messages, r.replies, r.session], [[], [], undefined]);
});

test('refused without an ACK: data before the login, a non-digit IMEI, a CRC field with non-zero high bytes, N1 ≠ N2, leftover bytes', () => {
  const code = (bytes: Uint8Array, c = ctx(IMEI)) => {
    try {
      teltonika.decode(bytes, c);
    } catch (e) {
      assert.ok(e instanceof EdgeError);
      return e.code;
    }
    return 'decoded';
  };
  const ex1 = hexOf(VENDOR, 'c8-tcp-ex1');
  assert.equal(code(ex1, ctx({})), 'EDGE_DECODE_INVALID');
  assert.equal(code(fromHex('000f333536333037303432343431413031'), ctx({})), 'EDGE_DECODE_INVALID'); // "356307042441A01"
  const high = ex1.slice();
  high[high.length - 4] = 1;
  assert.equal(code(high), 'EDGE_DECODE_CHECKSUM');
  const data = ex1.subarray(8, ex1.length - 4).slice();
  data[data.length - 1] = 2; // number of data 2
  assert.equal(code(wrapTcpFrame(data)), 'EDGE_DECODE_INVALID');
  const longer = new Uint8Array(data.length + 1);
  longer.set(ex1.subarray(8, ex1.length - 5));
  longer[longer.length - 1] = 1; // a stray byte before number of data 2
  assert.equal(code(wrapTcpFrame(longer)), 'EDGE_DECODE_INVALID');
  // a UDP datagram on TCP framing rules and the reverse
  assert.equal(code(hexOf(VENDOR, 'c8-tcp-ex1'), ctx({}, {}, 'udp')), 'EDGE_DECODE_INVALID');
  assert.equal(teltonika.split(fromHex('0000ff00'), 0, 4), SPLIT_INVALID);
});

/** A synthesized Codec 8E record (this project's bytes, not a capture) with the given 8-byte IO elements. */
function c8eWith(eight: [number, string][]): Uint8Array {
  const w = new ByteWriter();
  w.u8(0x8e).u8(1);
  w.u64(1767225600000n).u8(0).i32(250000000).i32(546000000).u16(100).u16(90).u8(7).u16(50);
  w.u16(0).u16(eight.length).u16(0).u16(0).u16(0).u16(eight.length);
  for (const [id, hex] of eight) w.u16(id).bytes(fromHex(hex));
  w.u16(0).u8(1);
  return wrapTcpFrame(w.finish());
}

test('driver ids for assets: iButton (78) in wire order, tachograph driver 1/2 (FMx6 195‖196, 197‖198) and ALLCAN300 (FMB 147‖148) as card numbers', () => {
  const ascii = (s: string) => toHex(new TextEncoder().encode(s));
  const card = ascii('DRV0000012345600'); // 16 characters: two 8-byte halves
  const fmx6 = teltonika.decode(c8eWith([[195, card.slice(0, 16)], [196, card.slice(16)], [78, '01d042f31d000030']]), ctx(IMEI, { io_dictionary: 'fmx6' })).messages[0]!;
  assert.equal(fmx6['tacho.fms.driver.id.1'], 'DRV0000012345600');
  assert.equal(fmx6['ibutton.code'], '01d042f31d000030');
  assert.equal(fmx6['io.195'], undefined);
  // the same ids on the FMB line mean nothing known: raw
  const fmb = teltonika.decode(c8eWith([[195, card.slice(0, 16)], [196, card.slice(16)]]), ctx(IMEI)).messages[0]!;
  assert.equal(fmb['tacho.fms.driver.id.1'], undefined);
  assert.equal(fmb['io.195'], card.slice(0, 16));
  // ALLCAN300 on FMB, halves in reverse wire order, NUL padding trimmed
  const padded = ascii('1234567890') + '000000000000';
  const allcan = teltonika.decode(c8eWith([[148, padded.slice(16)], [147, padded.slice(0, 16)]]), ctx(IMEI)).messages[0]!;
  assert.equal(allcan['tacho.fms.driver.id.1'], '1234567890');
  assert.equal(allcan['io.148'], undefined);
  // one half alone is published raw, nothing is claimed
  const half = teltonika.decode(c8eWith([[147, padded.slice(0, 16)]]), ctx(IMEI)).messages[0]!;
  assert.equal(half['io.147'], padded.slice(0, 16));
  // io_dictionary none: all raw
  assert.equal(teltonika.decode(c8eWith([[78, '01d042f31d000030']]), ctx(IMEI, { io_dictionary: 'none' })).messages[0]!['io.78'], '01d042f31d000030');
});

test('Codec 8 with the 16-byte group (Traccar "extended", dec-46/47) is refused without the option and read with it', () => {
  assert.throws(() => teltonika.decode(hexOf(TR, 'dec-47'), ctx(IMEI)), EdgeError);
  assert.equal(teltonika.decode(hexOf(TR, 'dec-47'), ctx(IMEI, { codec8_16_byte_group: true })).messages.length, 11);
});

test('commands: custom takes exactly one of text / data, custom_imei needs a decimal IMEI ident, unknown names are typed errors', () => {
  const invalid = (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID';
  assert.throws(() => teltonika.encode({ name: 'custom', properties: {} }, {}), invalid);
  assert.throws(() => teltonika.encode({ name: 'custom', properties: { text: 'a', data: '00' } }, {}), invalid);
  assert.throws(() => teltonika.encode({ name: 'custom', properties: { data: 'abc' } }, {}), invalid);
  assert.throws(() => teltonika.encode({ name: 'custom_imei', properties: { text: 'getver' } }, { ident: 'x1' }), invalid);
  assert.throws(() => teltonika.encode({ name: 'set_digital_outputs', properties: { outputs: '12' } }, {}), invalid);
  assert.throws(() => teltonika.encode({ name: 'toString', properties: {} }, {}), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_UNKNOWN');
  const enc = teltonika.encode({ name: 'set_digital_outputs', properties: { outputs: '11' } }, {});
  assert.equal(toHex(enc.bytes), toHex(hexOf(TR, 'enc-1'))); // "setdigout 11", Traccar's encoder test
  assert.deepEqual(teltonika.parseCommand(enc.bytes), { name: 'set_digital_outputs', properties: { outputs: '11' } });
});

test('rewriteIdent and resealFrame keep logins and UDP datagrams decodable under another IMEI', () => {
  const login = teltonika.rewriteIdent!(hexOf(VENDOR, 'imei-login'), '350000000000001');
  assert.equal(teltonika.decode(login, ctx()).session?.ident, '350000000000001');
  const udp = teltonika.rewriteIdent!(hexOf(VENDOR, 'c8e-udp-ex1'), '3500000000000012');
  const r = teltonika.decode(udp, ctx({}, {}, 'udp'));
  assert.equal(r.session?.ident, '3500000000000012');
  assert.equal(r.messages[0]!['x.acceleration'], 0.157);
  const data = hexOf(VENDOR, 'c8-tcp-ex1');
  assert.equal(teltonika.rewriteIdent!(data, '1'), data);
});
