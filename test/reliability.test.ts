import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type Client } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { freePort } from '../bench/lib/net-probe.js';

/**
 * "Never lose an acknowledged record", end to end. The channel runs as a child process
 * (`node dist/src/cli.js start`) so it can be killed with SIGKILL; simulated Ruptela devices
 * send frames over real TCP and resend any frame they did not see acknowledged; a subscriber
 * collects what reaches the broker. Faults, in turn:
 *
 *   A. the broker stops and restarts on the same port      (breaker opens, spool takes messages)
 *   B. the broker delays PUBACKs beyond publish_timeout_ms  (timeouts open the breaker)
 *   C. SIGKILL of the channel while its spool holds records, restart with the broker down, then
 *      broker back (the recovered spool drains); and SIGKILL again while draining
 *   D. the spool cannot be written: root ignores chmod, so spool.dir points at a regular file
 *      (ENOTDIR on every attempt); while the broker is up messages go direct and are ACKed,
 *      while it is down nothing is ACKed (the devices keep their records and resend)
 *
 * At the end every record a device saw ACKed must have reached the subscriber at least once.
 * The subscriber's session must never miss a publish: the test broker holds the channel's
 * CONNECT (preConnect) after a restart until the subscriber has subscribed again, and stops by
 * cutting the channel's connection first, so what the broker already PUBACKed is flushed to the
 * subscriber before the rest goes down.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const RECORDS_ACK = Buffer.from('0002640113bc', 'hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- a broker that can stop, restart on the same port, delay PUBACKs and gate CONNECTs ----------

class TestBroker {
  port = 0;
  delayPubackMs = 0;
  gateOpen = true;
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private conns: { socket: Socket; client: Client }[] = [];
  private gated: (() => void)[] = [];
  onSubscribe: (clientId: string) => void = () => {};

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      preConnect: (_client, packet, cb) => {
        if (!this.gateOpen && packet.clientId.startsWith('edge-channel')) this.gated.push(() => cb(null, true));
        else cb(null, true);
      },
      authorizePublish: (client, _packet, cb) => {
        if (this.delayPubackMs > 0 && client?.id.startsWith('edge-channel')) setTimeout(() => cb(null), this.delayPubackMs);
        else cb(null);
      },
    });
    aedes.on('subscribe', (_subs, client) => this.onSubscribe(client.id));
    const server = createServer({ noDelay: true }, (socket) => {
      const client = aedes.handle(socket);
      const c = { socket, client };
      this.conns.push(c);
      socket.on('close', () => (this.conns = this.conns.filter((x) => x !== c)));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : this.port;
    this.aedes = aedes;
    this.server = server;
  }

  openGate(): void {
    this.gateOpen = true;
    for (const f of this.gated.splice(0)) f();
  }

  async stop(): Promise<void> {
    const server = this.server!;
    const aedes = this.aedes!;
    this.server = null;
    this.aedes = null;
    const closed = new Promise<void>((r) => server.close(() => r()));
    // publishers first; give the subscriber's socket time to flush what was already accepted
    for (const c of this.conns) if (c.client.id?.startsWith('edge-channel')) c.socket.destroy();
    await sleep(300);
    for (const c of this.conns) c.socket.destroy();
    await closed;
    await new Promise<void>((r) => aedes.close(() => r()));
  }
}

// ---------- simulated devices ----------

interface Counts {
  generated: Set<string>;
  acked: Set<string>;
  frames: number;
  resends: number;
}

class SimDevice {
  private sock: Socket | null = null;
  private got = 0;
  private waiter: ((ok: boolean) => void) | null = null;
  private seq = 0;
  private current: { frame: Uint8Array; keys: string[] } | null = null;
  stopAfterCurrent = false;
  done = false;

  constructor(
    private readonly imei: bigint,
    private readonly port: number,
    private readonly counts: Counts,
    private readonly tsBase: number,
  ) {}

  private nextFrame(): { frame: Uint8Array; keys: string[] } {
    const recs = [];
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ts = this.tsBase + this.seq++;
      recs.push(typicalRecord(ts, this.seq, 8));
      keys.push(`${this.imei}:${ts}`);
    }
    for (const k of keys) this.counts.generated.add(k);
    return { frame: recordsFrame(this.imei, recs), keys };
  }

  private async connectOnce(): Promise<Socket | null> {
    return new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port: this.port, noDelay: true });
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(null));
    });
  }

  private drop(): void {
    this.sock?.destroy();
    this.sock = null;
  }

  async run(): Promise<void> {
    while (!(this.stopAfterCurrent && this.current === null)) {
      if (!this.sock) {
        const s = await this.connectOnce();
        if (!s) {
          await sleep(150);
          continue;
        }
        this.got = 0;
        s.on('data', (b: Buffer) => {
          this.got += b.length;
          if (this.got >= RECORDS_ACK.length && this.waiter) {
            this.got -= RECORDS_ACK.length;
            const w = this.waiter;
            this.waiter = null;
            w(true);
          }
        });
        s.on('close', () => {
          if (this.sock === s) this.sock = null;
          const w = this.waiter;
          this.waiter = null;
          w?.(false);
        });
        s.on('error', () => {});
        this.sock = s;
      }
      const resend = this.current !== null;
      this.current ??= this.nextFrame();
      if (resend) this.counts.resends++;
      this.counts.frames++;
      const sock = this.sock;
      const ok = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve(false);
        }, 2500);
        this.waiter = (v) => {
          clearTimeout(t);
          resolve(v);
        };
        sock.write(this.current!.frame);
      });
      if (ok) {
        for (const k of this.current.keys) this.counts.acked.add(k);
        this.current = null;
        await sleep(15);
      } else {
        this.drop(); // a device that got no ACK reconnects and sends the same records again
        await sleep(100);
      }
    }
    this.drop();
    this.done = true;
  }
}

// ---------- the channel as a child process ----------

class ChannelProcess {
  child: ChildProcess | null = null;
  lines: string[] = [];

  constructor(private readonly configPath: string) {}

  start(): void {
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli.js'), 'start', '--config', this.configPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const take = (b: Buffer) => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    this.child = child;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await exited;
    this.child = null;
  }

  logged(pattern: RegExp): boolean {
    return this.lines.some((l) => pattern.test(l));
  }
}

async function waitUntil(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('fault injection: every record a device saw ACKed reaches the broker (broker restart, PUBACK delay, SIGKILL, unwritable spool)', { timeout: 120_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'edge-rel-'));
  const root = `rel${process.pid}`;
  const broker = new TestBroker();
  await broker.start();
  const channelPort = await freePort();
  const config = (spoolDir: string) => ({
    log_level: 'info',
    mqtt: { url: `mqtt://127.0.0.1:${broker.port}`, topic_root: root, client_id: 'edge-channel' },
    pool: { threads: 1 },
    commands: { dir: `${spoolDir}-commands` },
    media: { dir: `${spoolDir}-media` },
    spool: { dir: spoolDir, publish_timeout_ms: 800, probe_min_ms: 200, probe_max_ms: 1500, segment_bytes: 64 * 1024, drain_rate: 3000 },
    channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: channelPort, idle_timeout_s: 60 }],
    stats_interval_s: 2,
    shutdown_timeout_s: 3,
  });
  const cfgGood = join(tmp, 'good.json');
  const cfgBadDisk = join(tmp, 'bad-disk.json');
  writeFileSync(cfgGood, JSON.stringify(config(join(tmp, 'spool'))));
  writeFileSync(join(tmp, 'a-file'), 'not a directory');
  writeFileSync(cfgBadDisk, JSON.stringify(config(join(tmp, 'a-file'))));

  // the subscriber: persistent session, subscribed throughout (resubscribes after a broker restart)
  const delivered = new Map<string, number>();
  const idsByKey = new Map<string, Set<string>>();
  let received = 0;
  const subId = `sub-${root}`;
  let subscribed = false;
  broker.onSubscribe = (id) => {
    if (id === subId) subscribed = true;
  };
  const sub: MqttClient = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: subId, clean: false, reconnectPeriod: 200 });
  sub.on('error', () => {});
  sub.on('message', (_t, payload) => {
    const m = JSON.parse(payload.toString()) as { ident: string; timestamp: number; 'message.id': string };
    const key = `${m.ident}:${m.timestamp}`;
    received++;
    delivered.set(key, (delivered.get(key) ?? 0) + 1);
    const ids = idsByKey.get(key) ?? new Set<string>();
    ids.add(m['message.id']);
    idsByKey.set(key, ids);
  });
  await sub.subscribeAsync(`${root}/message/#`, { qos: 1 });

  const restartBroker = async () => {
    subscribed = false;
    broker.gateOpen = false;
    await broker.start();
    await waitUntil('subscriber resubscribed', () => subscribed, 10_000);
    broker.openGate();
  };

  const counts: Counts = { generated: new Set(), acked: new Set(), frames: 0, resends: 0 };
  const channel = new ChannelProcess(cfgGood);
  const devices = Array.from({ length: 6 }, (_, i) => new SimDevice(863071018100000n + BigInt(i), channelPort, counts, 1_700_000_000 + i * 1_000_000));
  const phase: string[] = [];
  const ackedIn = async (label: string, ms: number) => {
    const before = counts.acked.size;
    await sleep(ms);
    const n = counts.acked.size - before;
    phase.push(`${label}: +${n} acked`);
    return n;
  };
  let running: Promise<void>[] = [];
  try {
    channel.start();
    await waitUntil('channel listening', () => channel.logged(/listening/), 15_000);
    running = devices.map((d) => d.run());
    assert.ok((await ackedIn('normal', 1000)) > 0, 'records are ACKed in normal operation');

    // A. broker down, then back on the same port
    await broker.stop();
    assert.ok((await ackedIn('A broker down (spool)', 2000)) > 0, 'with the broker down, frames are ACKed once spooled');
    await restartBroker();
    await ackedIn('A broker back', 1000);

    // B. PUBACKs later than publish_timeout_ms
    broker.delayPubackMs = 1500;
    await ackedIn('B PUBACK delay', 2200);
    broker.delayPubackMs = 0;
    await ackedIn('B delay over', 1000);
    assert.ok(channel.logged(/EDGE_PUBLISH_TIMEOUT/), 'late PUBACKs are detected as timeouts');
    assert.ok(channel.logged(/EDGE_BREAKER_OPEN/), 'the breaker opened');

    // C. SIGKILL while the spool holds records; restart with the broker down; broker back
    await broker.stop();
    await ackedIn('C broker down', 1000);
    await channel.kill('SIGKILL');
    channel.start();
    await ackedIn('C killed, restarted without broker (spooling)', 3600);
    const mark = channel.lines.length;
    await restartBroker();
    await waitUntil('the restarted channel to start draining', () => channel.lines.slice(mark).some((l) => /circuit breaker closed|MQTT connected/.test(l)), 10_000);
    await ackedIn('C broker back, draining', 400);
    await channel.kill('SIGKILL'); // again, in the middle of the drain (drain_rate bounds it)
    channel.start();
    // await the restarted process's recovery line instead of trusting a fixed time: start-up takes
    // well over a second on a loaded 2-core machine (the assertion below still says what is missing)
    await waitUntil('the second restart to recover the spool', () => channel.lines.filter((l) => /spool recovered/.test(l)).length >= 2, 15_000).catch(() => undefined);
    await ackedIn('C killed during drain, restarted', 2000);
    const recovered = channel.lines.filter((l) => /spool recovered/.test(l)).map((l) => (JSON.parse(l) as { records: number }).records);
    phase.push(`C spool records recovered after each SIGKILL: ${recovered.join(', ')}`);
    assert.ok(recovered.length === 2 && recovered[0]! > 0 && recovered[1]! > 0, 'both restarts found records in the spool and drained them');
    if (process.env.EDGE_REL_LOG) writeFileSync(process.env.EDGE_REL_LOG, channel.lines.join('\n'));

    // D. unwritable spool: settle (old spool drained), then restart with spool.dir = a regular file
    await waitUntil('the spool to drain before switching spool.dir', () => [...counts.acked].every((k) => delivered.has(k)), 20_000);
    await channel.kill('SIGTERM');
    channel.lines.length = 0;
    const bad = new ChannelProcess(cfgBadDisk);
    bad.start();
    await waitUntil('channel with a broken spool listening', () => bad.logged(/listening/), 15_000);
    assert.ok(bad.logged(/EDGE_SPOOL_WRITE_FAILED/), 'the broken spool is reported with EDGE_SPOOL_WRITE_FAILED');
    assert.ok((await ackedIn('D broken spool, broker up (direct)', 1000)) > 0, 'direct publishing still serves devices');
    await broker.stop();
    await sleep(600);
    assert.equal(await ackedIn('D broken spool, broker down', 1200), 0, 'nothing is ACKed when neither broker nor spool can take it');
    await restartBroker();
    await ackedIn('D broker back', 1000);

    // the end: devices finish (resending until ACKed), everything ACKed must be delivered
    for (const d of devices) d.stopAfterCurrent = true;
    await Promise.race([Promise.all(running), sleep(20_000)]);
    await waitUntil('every ACKed record on the broker', () => [...counts.acked].every((k) => delivered.has(k)), 20_000).catch(() => undefined);
    const missing = [...counts.acked].filter((k) => !delivered.has(k));
    const notAcked = [...counts.generated].filter((k) => !counts.acked.has(k));
    const dupKeys = [...delivered.values()].filter((n) => n > 1).length;
    const unstableIds = [...idsByKey.values()].filter((s) => s.size > 1).length;
    const summary = { sent: counts.generated.size, acked: counts.acked.size, delivered: delivered.size, received, duplicates: received - delivered.size, records_with_duplicates: dupKeys, frames: counts.frames, resent_frames: counts.resends, never_acked: notAcked.length, acked_but_missing: missing.length };
    console.log(`# reliability: ${JSON.stringify(summary)}`);
    for (const p of phase) console.log(`#   ${p}`);
    await bad.kill('SIGTERM');
    assert.deepEqual(missing, [], 'ACKed records missing on the broker');
    assert.equal(notAcked.length, 0, 'devices resend until ACKed: every generated record is ACKed in the end');
    assert.equal(unstableIds, 0, 'a record published twice carries the same message.id');
  } finally {
    for (const d of devices) d.stopAfterCurrent = true;
    await channel.kill('SIGKILL');
    await sub.endAsync(true).catch(() => undefined);
    await broker.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
});
