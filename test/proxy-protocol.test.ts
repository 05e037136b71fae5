import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { buildProxyV2 } from '../src/net/proxy-protocol.js';
import { Writable } from 'node:stream';
import { ChannelGuards } from '../src/channel/channel-guards.js';
import { validateConfig } from '../src/config/validate.js';
import { createLogger } from '../src/util/log.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { connectFrom } from './support/device-socket.js';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

/**
 * PROXY protocol on a real TCP listener: the test acts as the load balancer (it connects from
 * 127.0.0.1, the trusted proxy) and writes the header a balancer would, naming the device address.
 */
const ACK = '0002640113bc';
let imeiSeq = 865100000000000n;
const frame = () => recordsFrame(imeiSeq++, [typicalRecord(1735690000, 1)]);

const v1 = (src: string, sport: number) => Buffer.from(`PROXY TCP4 ${src} 127.0.0.1 ${sport} 5046\r\n`);
const v2 = (src: string, sport: number) => buildProxyV2({ address: src, port: sport }, { address: '127.0.0.1', port: 5046 });

const channel = (extra: Record<string, unknown>) => [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, proxy_protocol: true, trusted_proxies: ['127.0.0.1/32'], ...extra }];

function rejections(h: Harness): { close_code: number; peer: string; detail?: string }[] {
  return h.received.filter((r) => r.topic.endsWith('/connections/rejected')).map((r) => JSON.parse(r.payload) as { close_code: number; peer: string; detail?: string });
}

test('PROXY v1 and v2 from a trusted balancer: the device address in the header is what the blacklist checks', async () => {
  const h = await startHarness({ channels: channel({ ip_blacklist: ['127.0.0.2'] }) });
  try {
    const port = h.app.channels[0]!.tcpPort;
    for (const [name, header, sport] of [['v1', v1('127.0.0.2', 40001), 40001], ['v2', v2('127.0.0.2', 40002), 40002]] as const) {
      const c = await connectFrom(port, '127.0.0.1');
      // header and the first device frame in one write, as a balancer may forward them
      c.socket.write(Buffer.concat([header, frame()]));
      await waitFor(`${name} connection closed`, () => c.closed);
      assert.equal(c.got, '', `${name}: a blacklisted device gets no byte back`);
      const ev = await waitFor(`${name} rejection`, () => rejections(h).find((e) => e.peer === `127.0.0.2:${sport}`));
      assert.equal(ev.close_code, 20, name);
      assert.equal(ev.detail, `via 127.0.0.1:${c.localPort}`);
    }
    // the balancer's own address is not blacklisted: a header naming another device gets through
    const ok = await connectFrom(port, '127.0.0.1');
    ok.socket.write(v2('127.0.0.9', 40003));
    ok.socket.write(frame());
    await waitFor('ack through the proxy', () => ok.got === ACK);
    const accepted = await waitFor('accepted event', () => h.received.find((r) => r.topic.endsWith('/accepted') && r.payload.includes('127.0.0.9:40003')));
    assert.match(accepted.payload, /"peer":"127\.0\.0\.9:40003"/);
    ok.socket.destroy();
    const msg = await waitFor('message with the device peer', () => h.received.find((r) => r.topic.includes('/message/gw/') && r.payload.includes('"peer"')));
    assert.match(msg.payload, /"peer":"127\.0\.0\.9:40003"/);
    assert.equal(h.app.channels[0]!.guards.drops.totals().blacklist, 2);
  } finally {
    await h.close();
  }
});

test('PROXY: a header from an untrusted source, a missing or malformed header and a slow one close with code 24 before any frame', async () => {
  const h = await startHarness({ channels: channel({ trusted_proxies: ['127.0.0.1/32'], proxy_header_timeout_s: 1 }) });
  const h2 = await startHarness({ channels: channel({ trusted_proxies: ['10.0.0.0/8'] }) });
  try {
    // untrusted: the source (127.0.0.1) is not in 10.0.0.0/8, even with a well-formed header
    const u = await connectFrom(h2.app.channels[0]!.tcpPort, '127.0.0.1');
    u.socket.write(Buffer.concat([v2('127.0.0.9', 1), frame()]));
    await waitFor('untrusted closed', () => u.closed);
    assert.equal(u.got, '');
    const ue = await waitFor('untrusted rejection', () => rejections(h2)[0]);
    assert.equal(ue.close_code, 24);
    assert.match(ue.detail ?? '', /not in trusted_proxies/);

    const port = h.app.channels[0]!.tcpPort;
    const cases: [string, Buffer | null, RegExp][] = [
      ['missing (device bytes first)', Buffer.from(frame()), /no PROXY protocol header/],
      ['malformed v1', Buffer.from('PROXY TCP4 1.2.3 127.0.0.1 1 2\r\n'), /not an IPv4 address/],
      ['malformed v2', Buffer.concat([v2('127.0.0.9', 1).subarray(0, 12), Buffer.from('31110000', 'hex')]), /version 3/],
      ['slow (half a header, then nothing)', v2('127.0.0.9', 1).subarray(0, 20), /no complete PROXY header within 1 s \(20 bytes received\)/],
    ];
    for (const [name, bytes, reason] of cases) {
      const c = await connectFrom(port, '127.0.0.1');
      if (bytes) c.socket.write(bytes);
      await waitFor(`${name}: closed`, () => c.closed, 4000);
      assert.equal(c.got, '', `${name}: nothing is answered`);
      const ev = await waitFor(`${name}: rejection`, () => rejections(h).find((e) => reason.test(e.detail ?? '')));
      assert.equal(ev.close_code, 24, name);
      assert.equal(ev.peer, `127.0.0.1:${c.localPort}`, `${name}: the peer is the balancer's address (no device address is known)`);
    }
    assert.equal(h.app.channels[0]!.guards.drops.totals().proxy, 4);
    assert.equal(h.app.channels[0]!.counters.frames, 0, 'no frame was read');
  } finally {
    await h.close();
    await h2.close();
  }
});

test('PROXY: proxy_protocol without trusted_proxies is a config error, also on reload', () => {
  assert.throws(() => validateConfig({ channels: channel({ trusted_proxies: [] }) }), /channels\[0\]\.trusted_proxies/);
  assert.throws(() => validateConfig({ channels: channel({ trusted_proxies: ['10.0.0.300'] }) }), /channels\[0\]\.trusted_proxies\[0\]/);
  const valid = validateConfig({ channels: channel({}) }).channels[0]!;
  const cfg = (extra: Record<string, unknown>) => ({ ...valid, ...extra });
  // the guards check again: a reload hands them a channel config too
  assert.throws(() => new ChannelGuards(cfg({ trusted_proxies: [] }), '', quiet), /channels\[1\]\.trusted_proxies: proxy_protocol is on/);
  const g = new ChannelGuards(cfg({}), '', quiet);
  assert.equal(g.trustedProxy('127.0.0.1'), true);
  assert.equal(g.trustedProxy('::ffff:127.0.0.1'), true);
  assert.equal(g.trustedProxy('127.0.0.2'), false);
  assert.throws(() => g.update(cfg({ trusted_proxies: [] })), /proxy_protocol is on/);
  assert.equal(g.trustedProxy('127.0.0.1'), true, 'a rejected reload keeps the old list');
});
