import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildProxyV2, parseProxyHeader, PROXY_V1_MAX } from './proxy-protocol.js';
import { mulberry32 as rng } from '../util/prng.js';

// Golden vectors from HAProxy's "The PROXY protocol" specification: the v1 lines of section 2.1
// (its examples and its longest cases) and v2 headers laid out byte by byte from section 2.2.
const V1_EXAMPLE = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
const V1_MAX_V4 = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
const V1_MAX_V6 = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
const V1_UNKNOWN = 'PROXY UNKNOWN\r\n';
const V1_UNKNOWN_MAX = 'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';

const SIG = '0d0a0d0a000d0a515549540a';
// PROXY, INET/STREAM, 12 bytes: 127.0.0.2:40000 -> 10.0.0.1:5046
const V2_INET = Buffer.from(SIG + '21' + '11' + '000c' + '7f000002' + '0a000001' + '9c40' + '13b6', 'hex');
// PROXY, INET6/STREAM, 36 bytes: 2001:db8::1:1234 -> ::1:5046
const V2_INET6 = Buffer.from(SIG + '21' + '21' + '0024' + '20010db8000000000000000000000001' + '00000000000000000000000000000001' + '04d2' + '13b6', 'hex');
// LOCAL (a health check), UNSPEC, no address
const V2_LOCAL = Buffer.from(SIG + '20' + '00' + '0000', 'hex');
// PROXY, INET/STREAM, with two TLVs after the address: PP2_TYPE_ALPN "h2" and PP2_TYPE_NOOP of 3 bytes
const V2_TLVS = Buffer.from(SIG + '21' + '11' + '0017' + '7f000002' + '0a000001' + '9c40' + '13b6' + '010002' + '6832' + '040003' + '000000', 'hex');

const GOLDEN: { name: string; bytes: Buffer; version: 1 | 2; source: { address: string; port: number } | null }[] = [
  { name: 'v1 spec example', bytes: Buffer.from(V1_EXAMPLE), version: 1, source: { address: '192.168.0.1', port: 56324 } },
  { name: 'v1 longest TCP4', bytes: Buffer.from(V1_MAX_V4), version: 1, source: { address: '255.255.255.255', port: 65535 } },
  { name: 'v1 longest TCP6', bytes: Buffer.from(V1_MAX_V6), version: 1, source: { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 } },
  { name: 'v1 UNKNOWN', bytes: Buffer.from(V1_UNKNOWN), version: 1, source: null },
  { name: 'v1 UNKNOWN, longest (107 bytes)', bytes: Buffer.from(V1_UNKNOWN_MAX), version: 1, source: null },
  { name: 'v2 INET', bytes: V2_INET, version: 2, source: { address: '127.0.0.2', port: 40000 } },
  { name: 'v2 INET6', bytes: V2_INET6, version: 2, source: { address: '2001:db8::1', port: 1234 } },
  { name: 'v2 LOCAL', bytes: V2_LOCAL, version: 2, source: null },
  { name: 'v2 INET with TLVs (skipped)', bytes: V2_TLVS, version: 2, source: { address: '127.0.0.2', port: 40000 } },
];

test('PROXY golden vectors: source, version and header length; the device bytes after it are left alone', () => {
  assert.equal(V1_UNKNOWN_MAX.length, PROXY_V1_MAX);
  for (const g of GOLDEN) {
    const tail = Buffer.from([0x00, 0x0f, 0xaa]);
    const r = parseProxyHeader(Buffer.concat([g.bytes, tail]));
    assert.equal(r.kind, 'ok', g.name);
    if (r.kind !== 'ok') continue;
    assert.equal(r.version, g.version, g.name);
    assert.equal(r.consumed, g.bytes.length, g.name);
    assert.deepEqual(r.source, g.source, g.name);
  }
});

test('PROXY: every truncation of every golden vector asks for more bytes, never errors or succeeds', () => {
  for (const g of GOLDEN) {
    for (let n = 0; n < g.bytes.length; n++) {
      const r = parseProxyHeader(g.bytes.subarray(0, n));
      assert.equal(r.kind, 'more', `${g.name} cut at ${n}: ${JSON.stringify(r)}`);
    }
  }
});

test('PROXY: an IPv4-mapped v6 source is reported in its IPv4 form (guards and counters spell IPv4 that way)', () => {
  const r = parseProxyHeader(Buffer.from('PROXY TCP6 ::ffff:127.0.0.2 ::1 1 2\r\n'));
  assert.deepEqual(r.kind === 'ok' && r.source, { address: '127.0.0.2', port: 1 });
  const v2 = buildProxyV2({ address: '::ffff:127.0.0.2', port: 7 }, { address: '::1', port: 8 });
  const r2 = parseProxyHeader(v2);
  assert.deepEqual(r2.kind === 'ok' && r2.source, { address: '127.0.0.2', port: 7 });
});

test('PROXY: buildProxyV2 produces the spec layout (equal to the hand-laid golden vector)', () => {
  assert.deepEqual(buildProxyV2({ address: '127.0.0.2', port: 40000 }, { address: '10.0.0.1', port: 5046 }), V2_INET);
  assert.deepEqual(buildProxyV2({ address: '2001:db8::1', port: 1234 }, { address: '::1', port: 5046 }), V2_INET6);
});

test('PROXY: malformed headers are errors with a reason', () => {
  const bad: [string, Buffer][] = [
    ['device bytes, no header', Buffer.from('0011223344', 'hex')],
    ['lowercase proxy', Buffer.from('proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n')],
    ['v1 unknown protocol', Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n')],
    ['v1 missing field', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n')],
    ['v1 extra field', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n')],
    ['v1 double space', Buffer.from('PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n')],
    ['v1 v6 address under TCP4', Buffer.from('PROXY TCP4 ::1 ::1 1 2\r\n')],
    ['v1 v4 address under TCP6', Buffer.from('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n')],
    ['v1 short IPv4', Buffer.from('PROXY TCP4 10.1 5.6.7.8 1 2\r\n')],
    ['v1 octet over 255', Buffer.from('PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n')],
    ['v1 port over 65535', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n')],
    ['v1 port with leading zero', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n')],
    ['v1 negative port', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n')],
    ['v1 LF only', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n')],
    ['v1 CR then other', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX')],
    ['v1 binary byte', Buffer.from('PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n', 'latin1')],
    ['v1 no CRLF within 107 bytes', Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(120))],
    ['v2 version 1', Buffer.from(SIG + '11' + '11' + '000c' + '7f0000020a0000019c4013b6', 'hex')],
    ['v2 command 2', Buffer.from(SIG + '22' + '11' + '000c' + '7f0000020a0000019c4013b6', 'hex')],
    ['v2 family 4', Buffer.from(SIG + '21' + '41' + '000c' + '7f0000020a0000019c4013b6', 'hex')],
    ['v2 transport 3', Buffer.from(SIG + '21' + '13' + '000c' + '7f0000020a0000019c4013b6', 'hex')],
    ['v2 INET length shorter than the address block', Buffer.from(SIG + '21' + '11' + '000b' + '7f0000020a0000019c4013', 'hex')],
    ['v2 INET6 length 12', Buffer.from(SIG + '21' + '21' + '000c' + '7f0000020a0000019c4013b6', 'hex')],
  ];
  for (const [name, bytes] of bad) {
    const r = parseProxyHeader(bytes);
    assert.equal(r.kind, 'error', `${name}: ${JSON.stringify(r)}`);
    assert.ok(r.kind === 'error' && r.reason.length > 5, name);
  }
});

test('PROXY v1 at exactly the 107-byte limit without CRLF is refused, one byte less still waits', () => {
  assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(PROXY_V1_MAX - 15))).kind, 'more');
  assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(PROXY_V1_MAX - 14))).kind, 'error');
});

test('PROXY v2: LOCAL, UNSPEC and UNIX headers carry no usable source (the socket address is used)', () => {
  const unspecProxy = Buffer.from(SIG + '21' + '00' + '0003' + 'aabbcc', 'hex');
  const r = parseProxyHeader(unspecProxy);
  assert.deepEqual(r, { kind: 'ok', version: 2, consumed: 19, source: null });
  const unix = Buffer.concat([Buffer.from(SIG + '21' + '31' + '00d8', 'hex'), Buffer.alloc(216, 0x41)]);
  assert.deepEqual(parseProxyHeader(unix), { kind: 'ok', version: 2, consumed: 232, source: null });
  // LOCAL may carry an address block and TLVs: all of it is skipped
  const localWithAddr = Buffer.from(SIG + '20' + '11' + '000c' + '7f0000020a0000019c4013b6', 'hex');
  assert.deepEqual(parseProxyHeader(localWithAddr), { kind: 'ok', version: 2, consumed: 28, source: null });
});


test('PROXY fuzz: mutated and random inputs never throw, and an ok result never claims more bytes than given', () => {
  const r = rng(0x5eed);
  let oks = 0;
  let errors = 0;
  for (let i = 0; i < 20000; i++) {
    const base = GOLDEN[Math.floor(r() * GOLDEN.length)]!.bytes;
    let b: Buffer;
    if (i % 4 === 0) {
      b = Buffer.alloc(Math.floor(r() * 300));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(r() * 256);
      if (r() < 0.5) Buffer.from(r() < 0.5 ? SIG : '50524f585920', 'hex').copy(b, 0);
    } else {
      b = Buffer.from(base);
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      if (r() < 0.3) b = b.subarray(0, Math.floor(r() * b.length));
    }
    const out = parseProxyHeader(b);
    if (out.kind === 'ok') {
      oks++;
      assert.ok(out.consumed <= b.length && out.consumed >= 15, `consumed ${out.consumed} of ${b.length}`);
      if (out.source) assert.ok(out.source.port >= 0 && out.source.port <= 65535);
    } else if (out.kind === 'error') errors++;
  }
  // the mutations must exercise both outcomes, or the fuzz proves nothing
  assert.ok(oks > 100 && errors > 100, `ok ${oks}, error ${errors}`);
});
