import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connectAsync } from 'mqtt';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { startHarness, waitFor, sleep, type Harness } from './support/harness.js';

/**
 * Channel guards over real loopback sockets: clients bound to 127.0.0.1, 127.0.0.2 and ::1, and
 * IPv4-mapped peers (the channel listens dual-stack on "::", so IPv4 clients appear as
 * ::ffff:a.b.c.d and must be normalised before matching).
 */
const ACK = '0002640113bc';
let imeiSeq = 864000000000000n;
const frame = () => recordsFrame(imeiSeq++, [typicalRecord(1735690000, 1)]);

interface Client {
  socket: Socket;
  got: string;
  closed: boolean;
}

function tcpClient(host: string, port: number, localAddress: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c: Client = { socket: connect({ host, port, localAddress, noDelay: true }), got: '', closed: false };
    c.socket.on('data', (d) => (c.got += d.toString('hex')));
    c.socket.on('close', () => (c.closed = true));
    c.socket.on('error', () => {});
    c.socket.once('connect', () => resolve(c));
    c.socket.once('error', reject);
  });
}

/** Connects from localAddress and sends one records frame: 'acked' or 'closed' (never read). */
async function tcpVerdict(h: Harness, localAddress: string): Promise<'acked' | 'closed'> {
  const host = localAddress.includes(':') ? '::1' : '127.0.0.1';
  const c = await tcpClient(host, h.app.channels[0]!.tcpPort, localAddress);
  c.socket.write(frame());
  const r = await waitFor(`verdict for ${localAddress}`, () => (c.got === ACK ? 'acked' : c.closed ? 'closed' : undefined) as 'acked' | 'closed' | undefined);
  assert.equal(r === 'closed' ? c.got : ACK, r === 'closed' ? '' : c.got, 'a rejected peer gets no byte back');
  c.socket.destroy();
  return r;
}

async function udpClient(localAddress: string): Promise<{ sock: UdpSocket; got: string[] }> {
  const sock = createSocket(localAddress.includes(':') ? 'udp6' : 'udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString('hex')));
  await new Promise<void>((r) => sock.bind(0, localAddress, r));
  return { sock, got };
}

async function udpVerdict(h: Harness, localAddress: string): Promise<'acked' | 'dropped'> {
  const c = await udpClient(localAddress);
  c.sock.send(frame(), h.app.channels[0]!.udpPort, localAddress.includes(':') ? '::1' : '127.0.0.1');
  const acked = await waitFor('udp reply', () => c.got.length > 0, 400).then(() => true, () => false);
  c.sock.close();
  return acked ? 'acked' : 'dropped';
}

const channel = (extra: Record<string, unknown>) => [{ id: 1, protocol: 'ruptela', host: '::', tcp_port: 0, udp_port: 0, ...extra }];

test('whitelist: only listed peers get in, TCP and UDP; IPv4-mapped peers match IPv4 entries', async () => {
  const h = await startHarness({ channels: channel({ ip_whitelist: ['127.0.0.1'] }) });
  try {
    assert.equal(await tcpVerdict(h, '127.0.0.1'), 'acked');
    assert.equal(await tcpVerdict(h, '127.0.0.2'), 'closed');
    assert.equal(await tcpVerdict(h, '::1'), 'closed');
    assert.equal(await udpVerdict(h, '127.0.0.1'), 'acked');
    assert.equal(await udpVerdict(h, '127.0.0.2'), 'dropped');
    const rej = await waitFor('rejected log', () => h.received.find((r) => r.topic.endsWith('/connections/rejected')));
    const ev = JSON.parse(rej.payload) as { close_code: number; peer: string };
    assert.equal(ev.close_code, 16);
    assert.match(ev.peer, /127\.0\.0\.2|::1/);
  } finally {
    await h.close();
  }
});

test('CIDR ranges for IPv4 and IPv6, and the blacklist wins over the whitelist', async () => {
  const h = await startHarness({ channels: channel({ ip_whitelist: ['127.0.0.0/30', '::1/128'], ip_blacklist: ['127.0.0.2'] }) });
  try {
    assert.equal(await tcpVerdict(h, '127.0.0.1'), 'acked');
    assert.equal(await tcpVerdict(h, '127.0.0.3'), 'acked');
    assert.equal(await tcpVerdict(h, '127.0.0.2'), 'closed');
    assert.equal(await tcpVerdict(h, '127.0.0.9'), 'closed');
    assert.equal(await tcpVerdict(h, '::1'), 'acked');
    assert.equal(await udpVerdict(h, '127.0.0.2'), 'dropped');
    assert.equal(await udpVerdict(h, '::1'), 'acked');
    const codes = await waitFor('two rejected logs', () => {
      const c = h.received.filter((r) => r.topic.endsWith('/connections/rejected')).map((r) => (JSON.parse(r.payload) as { close_code: number }).close_code);
      return c.length >= 2 ? c : undefined;
    });
    assert.deepEqual([...codes].sort(), [16, 20]);
  } finally {
    await h.close();
  }
});

test('UDP flood: 10x the per-minute limit decodes exactly the limit, drops are aggregated, TCP devices keep their ACKs', async () => {
  const limit = 25;
  const h = await startHarness({ channels: channel({ max_udp_packets_per_minute: limit }), extra: { stats_interval_s: 1 } });
  try {
    const tcp = await tcpClient('127.0.0.1', h.app.channels[0]!.tcpPort, '127.0.0.1');
    const flood = await udpClient('127.0.0.2');
    const port = h.app.channels[0]!.udpPort;
    let acks = 0;
    for (let i = 0; i < limit * 10; i++) {
      flood.sock.send(frame(), port, '127.0.0.1');
      if (i % 25 === 0) {
        tcp.socket.write(frame());
        acks++;
        await waitFor('tcp ACK during the flood', () => tcp.got.length === acks * ACK.length);
      }
    }
    await waitFor('flood replies', () => flood.got.length >= limit);
    const drops = await waitFor('aggregated drops event', () => {
      const d = h.received.filter((r) => r.topic === `${h.root}/log/gw/channels/1/drops`).map((r) => JSON.parse(r.payload) as { total: number; by_reason: Record<string, number>; top_sources: { ip: string; count: number }[] });
      const total = d.reduce((n, x) => n + x.total, 0);
      return total >= limit * 9 ? d : undefined;
    }, 5000);
    await sleep(200);
    assert.equal(flood.got.length, limit, 'exactly the limit was decoded and answered');
    assert.equal(drops.reduce((n, x) => n + (x.by_reason.rate ?? 0), 0), limit * 9);
    assert.equal(drops[0]!.top_sources[0]!.ip, '127.0.0.2');
    // the aggregate is also retained state: a late subscriber gets it at once
    const late = await connectAsync(h.app.brokerUrl, { clientId: `late-${h.root}` });
    const retained = new Promise<boolean>((resolve) => late.on('message', (_t, _p, pkt) => resolve(pkt.retain)));
    await late.subscribeAsync(`${h.root}/state/gw/channels/1/drops`, { qos: 1 });
    assert.equal(await retained, true, 'retained drops state');
    await late.endAsync();
    assert.equal(tcp.got, ACK.repeat(acks));
    flood.sock.close();
    tcp.socket.destroy();
  } finally {
    await h.close();
  }
});

test('reload: blacklisting a connected peer closes its connection (code 20)', async () => {
  const h = await startHarness({ channels: channel({}) });
  try {
    const c = await tcpClient('127.0.0.1', h.app.channels[0]!.tcpPort, '127.0.0.2');
    c.socket.write(frame());
    await waitFor('ACK before the reload', () => c.got === ACK);
    const cfg = h.app.config;
    const plan = h.app.reload({ ...cfg, channels: [{ ...cfg.channels[0]!, ip_blacklist: ['127.0.0.2/32'] }] });
    assert.deepEqual(plan, { live: ['channels[0].ip_blacklist'], restart: [] });
    await waitFor('connection closed by the reload', () => c.closed);
    const closed = await waitFor('closed log', () => h.received.find((r) => r.topic.endsWith('/closed')));
    assert.equal((JSON.parse(closed.payload) as { close_code: number }).close_code, 20);
    assert.equal(await tcpVerdict(h, '127.0.0.2'), 'closed');
    assert.equal(await tcpVerdict(h, '127.0.0.1'), 'acked');
  } finally {
    await h.close();
  }
});

const redisUrl = process.env.REDIS_URL;
test('two channel instances sharing Redis enforce one combined UDP limit', { skip: redisUrl ? false : 'REDIS_URL is not set (.ci/run sets it)' }, async () => {
  const limit = 30;
  const id = `g${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const ch = [{ id, protocol: 'ruptela', host: '127.0.0.1', udp_port: 0, max_udp_packets_per_minute: limit }];
  const a = await startHarness({ channels: ch, extra: { redis_url: redisUrl } });
  const b = await startHarness({ channels: ch, extra: { redis_url: redisUrl } });
  try {
    await waitFor('both limiters count in Redis', () => a.app.channels[0]!.guards.limiterStore === 'redis' && b.app.channels[0]!.guards.limiterStore === 'redis');
    const ca = await udpClient('127.0.0.1');
    const cb = await udpClient('127.0.0.1');
    for (let i = 0; i < limit; i++) {
      ca.sock.send(frame(), a.app.channels[0]!.udpPort, '127.0.0.1');
      cb.sock.send(frame(), b.app.channels[0]!.udpPort, '127.0.0.1');
      await sleep(2);
    }
    await waitFor('replies', () => ca.got.length + cb.got.length >= limit);
    await sleep(500);
    assert.equal(ca.got.length + cb.got.length, limit, `combined replies ${ca.got.length} + ${cb.got.length}`);
    assert.ok(ca.got.length > 0 && cb.got.length > 0, 'both instances served part of the limit');
    assert.equal(a.app.channels[0]!.guards.limiterStore, 'redis');
    ca.sock.close();
    cb.sock.close();
  } finally {
    await a.close();
    await b.close();
  }
});
