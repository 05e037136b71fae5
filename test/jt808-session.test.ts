import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../src/codec/hex.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { buildFrame, escapeInner, unescapeFrame } from '../protocols/jt808/frame.js';

/**
 * JT/T 808 session features through the real runtime over TCP: auth codes issued, stored and
 * checked (also after a restart), sub-packaged 0x0801 with a withheld packet (0x8800 naming it,
 * completion once it is resent, the photo stored with its sha256 and announced), 0x8003 for other
 * sub-packaged messages, and the request sent when a message stalls.
 */
const PHONE = Uint8Array.from([0x01, 0x38, 0x00, 0x13, 0x80, 0x00]);
const IDENT = '13800138000';
const hex = (b: Uint8Array) => toHex(b);
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

/** One device connection that collects the server's frames (un-escaped, delimiters removed). */
class Device {
  private buf = Buffer.alloc(0);
  readonly frames: Uint8Array[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const s = this.buf.indexOf(0x7e);
        const e = s < 0 ? -1 : this.buf.indexOf(0x7e, s + 1);
        if (e < 0) break;
        this.frames.push(unescapeFrame(this.buf.subarray(s, e + 1)).slice(1, -1));
        this.buf = this.buf.subarray(e + 1);
      }
    });
  }
  static async open(port: number): Promise<Device> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Device(socket);
  }
  send(...frames: Uint8Array[]): void {
    for (const f of frames) this.socket.write(f);
  }
  /** Waits for the next `n` frames after those already taken. */
  private taken = 0;
  async next(n = 1, timeoutMs = 5000): Promise<Uint8Array[]> {
    await waitFor(`${n} more server frame(s) (have ${this.frames.length - this.taken})`, () => this.frames.length >= this.taken + n, timeoutMs);
    const out = this.frames.slice(this.taken, this.taken + n);
    this.taken += n;
    return out;
  }
  get pending(): number {
    return this.frames.length - this.taken;
  }
  close(): void {
    this.socket.destroy();
  }
}

/** msg id of a server frame, and its body (after the 12-byte 2013 header). */
const idOf = (f: Uint8Array) => (f[0]! << 8) | f[1]!;
const bodyOf = (f: Uint8Array) => f.subarray(12, -1);

/** A sub-packaged 2013 frame: packet `index` (1-based) of `total`. */
function packet(msgId: number, serial: number, total: number, index: number, body: Uint8Array): Uint8Array {
  const inner = new Uint8Array(16 + body.length + 1);
  const attr = 0x2000 | body.length;
  inner.set([msgId >> 8, msgId & 0xff, attr >> 8, attr & 0xff], 0);
  inner.set(PHONE, 4);
  inner.set([serial >> 8, serial & 0xff, total >> 8, total & 0xff, index >> 8, index & 0xff], 10);
  inner.set(body, 16);
  let x = 0;
  for (let i = 0; i < inner.length - 1; i++) x ^= inner[i]!;
  inner[inner.length - 1] = x;
  return escapeInner(inner);
}

const REGISTRATION = Buffer.from('002c012f' + '3730313131' + '00'.repeat(20) + '00'.repeat(7) + '01', 'hex');
const BASIC = Buffer.from('00000000' + '00000003' + '01aab482' + '04ea7e57' + '0008' + '01ad' + '00b6' + '260327155245', 'hex');

function channel(options: Record<string, unknown> = {}, reassembly: Record<string, unknown> = {}) {
  return [{ id: 8, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options, reassembly }];
}

const messages = (h: Harness) => h.received.filter((m) => m.topic.startsWith(`${h.root}/message/`)).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

test('jt808 auth codes: registration gets a random code stored per terminal; 0x0102 with it gets result 0, another code result 1; a restart keeps the code', async () => {
  const credentials = mkdtempSync(join(tmpdir(), 'edge-cred-'));
  const extra = { credentials: { dir: credentials } };
  let h = await startHarness({ channels: channel(), extra, threads: 1 });
  let code = '';
  try {
    const d = await Device.open(h.app.channels[0]!.tcpPort);
    d.send(buildFrame(0x0100, PHONE, 1, REGISTRATION, 2013));
    const [reg] = await d.next();
    assert.equal(idOf(reg!), 0x8100);
    assert.equal(hex(bodyOf(reg!).subarray(0, 3)), '000100', 'answers serial 1, result 0');
    code = Buffer.from(bodyOf(reg!).subarray(3)).toString('latin1');
    assert.match(code, /^[0-9a-f]{16}$/, 'a random code, not the deterministic "ec…" one');
    // a second terminal on another connection gets another code
    const other = await Device.open(h.app.channels[0]!.tcpPort);
    other.send(buildFrame(0x0100, Uint8Array.from([0, 0, 0, 0, 0, 0x42]), 1, REGISTRATION, 2013));
    const [reg2] = await other.next();
    assert.notEqual(Buffer.from(bodyOf(reg2!).subarray(3)).toString('latin1'), code);
    other.close();

    d.send(buildFrame(0x0102, PHONE, 2, ascii('wrong'), 2013));
    const [bad] = await d.next();
    assert.equal(idOf(bad!), 0x8001);
    assert.equal(hex(bodyOf(bad!)), '0002010201', '0x8001 result 1: failure');
    d.send(buildFrame(0x0102, PHONE, 3, ascii(code), 2013));
    const [ok] = await d.next();
    assert.equal(hex(bodyOf(ok!)), '0003010200', '0x8001 result 0');
    const auths = await waitFor('both authentication messages', () => {
      const m = messages(h).filter((x) => x['message.type'] === 'authentication');
      return m.length === 2 ? m : undefined;
    });
    assert.deepEqual(
      auths.map((m) => m['auth.code.valid']),
      [false, true],
    );
    d.close();
  } finally {
    await h.close();
  }
  // the same credentials directory after a restart: the code is still the terminal's
  h = await startHarness({ channels: channel(), extra });
  try {
    const d = await Device.open(h.app.channels[0]!.tcpPort);
    d.send(buildFrame(0x0102, PHONE, 4, ascii(code), 2013));
    const [ok] = await d.next();
    assert.equal(hex(bodyOf(ok!)), '0004010200', 'accepted after the restart');
    d.close();
  } finally {
    await h.close();
    rmSync(credentials, { recursive: true, force: true });
  }
});

test('jt808 sub-packaged 0x0801 with one packet withheld: 0x8800 lists exactly that packet; resending it completes the photo, stored with its sha256 and announced as media.image.<channel>', async () => {
  // worker threads: the effects (parts with their re-send context, the file) cross the thread boundary
  const h = await startHarness({ channels: channel(), threads: 2 });
  try {
    const d = await Device.open(h.app.channels[0]!.tcpPort);
    // media id 0x2a, image (0), JPEG (0), event 1, channel 2; then the location block and 300 photo bytes
    const photo = Buffer.alloc(300);
    for (let i = 0; i < photo.length; i++) photo[i] = (i * 7 + 0x7e) & 0xff; // 7E/7D bytes: escaping on the way
    const body = Buffer.concat([Buffer.from('0000002a00000102', 'hex'), BASIC, photo]);
    const cuts = [0, 100, 200, 300, body.length];
    const parts = cuts.slice(0, -1).map((a, i) => packet(0x0801, 0x40 + i, 4, i + 1, body.subarray(a, cuts[i + 1])));
    d.send(parts[0]!, parts[1]!, parts[3]!); // packet 3 withheld
    const replies = await d.next(4);
    assert.deepEqual(replies.slice(0, 3).map(idOf), [0x8001, 0x8001, 0x8001], 'each packet acknowledged');
    assert.equal(idOf(replies[3]!), 0x8800);
    assert.equal(hex(bodyOf(replies[3]!)), '0000002a' + '01' + '0003', 'the media id, one packet missing: number 3');
    assert.equal(messages(h).length, 0, 'nothing published yet');

    d.send(parts[2]!);
    const [ack3, done] = await d.next(2);
    assert.equal(idOf(ack3!), 0x8001);
    assert.equal(idOf(done!), 0x8800);
    assert.equal(hex(bodyOf(done!)), '0000002a', 'complete: the media id alone');
    const [m] = await waitFor('the announcement', () => (messages(h).length > 0 ? messages(h) : undefined));
    assert.equal(m!.ident, IDENT);
    assert.equal(m!['message.type'], 'media_data');
    assert.equal(m!['media.id'], 42);
    assert.equal(m!['media.channel'], 2);
    assert.equal(m!['position.latitude'], 27.964546);
    assert.equal(m!['media.image.2.size'], 300);
    assert.equal(m!['media.image.2.sha256'], createHash('sha256').update(photo).digest('hex'));
    const path = m!['media.image.2.path'] as string;
    assert.match(path, /image-\d{8}T\d{6}Z-media-42\.jpg$/);
    assert.deepEqual(readFileSync(path), photo, 'the stored file is the photo');
    assert.equal(h.app.channels[0]!.counters.resendRequests, 1);
    assert.equal(d.pending, 0, 'no further frames');
    d.close();
  } finally {
    await h.close();
  }
});

test('jt808 other sub-packaged messages are asked for with 0x8003; a message whose last packet never comes is asked for after resend_after_s', async () => {
  const h = await startHarness({ channels: channel({}, { resend_after_s: 1 }) });
  try {
    const d = await Device.open(h.app.channels[0]!.tcpPort);
    // a 0x0704 batch of one location in 3 packets, serials 0x70..0x72, packet 2 withheld
    const loc = Buffer.concat([BASIC, Buffer.from('01040000006430011f', 'hex')]);
    const batch = Buffer.concat([Buffer.from([0, 1, 0, 0, loc.length]), loc]);
    const cuts = [0, 10, 20, batch.length];
    const parts = cuts.slice(0, -1).map((a, i) => packet(0x0704, 0x70 + i, 3, i + 1, batch.subarray(a, cuts[i + 1])));
    d.send(parts[0]!, parts[2]!);
    const r = await d.next(3);
    assert.deepEqual(r.map(idOf), [0x8001, 0x8001, 0x8003]);
    assert.equal(hex(bodyOf(r[2]!)), '0070' + '01' + '0002', 'first serial 0x70, one packet: number 2');
    d.send(parts[1]!);
    await d.next(1);
    await waitFor('the batch location', () => messages(h).some((m) => m['position.latitude'] === 27.964546 && m['message.buffered.status'] === false));

    // a 0x0801 whose last packet is lost: nothing triggers on arrival, the sweep asks after ~1 s
    const body = Buffer.concat([Buffer.from('0000000701000301', 'hex'), BASIC, Buffer.alloc(50, 1)]);
    d.send(packet(0x0801, 0x90, 2, 1, body.subarray(0, 40)));
    await d.next(1);
    const [late] = await d.next(1, 6000);
    assert.equal(idOf(late!), 0x8800);
    assert.equal(hex(bodyOf(late!)), '00000007' + '01' + '0002');
    d.close();
  } finally {
    await h.close();
  }
});

test('jt808 a location whose item tail is malformed gets the general response and is published with jt808.unparsed.hex; the next frames flow', async () => {
  const h = await startHarness({ channels: [{ id: 8, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options: { auth_code: 'derived' } }] });
  try {
    const dev = await Device.open(h.app.channels[0]!.tcpPort);
    // alarm, status (fix, north, east), 31.2 N, 121.4 E, 10 m, 0 km/h, 90°, 2026-09-01 08:00:00 GMT+8; mileage item, then an item that overruns the body
    const base = Buffer.from('00000000' + '00000003' + '01dc1300' + '073c6ac0' + '000a' + '0000' + '005a' + '260901080000' + '01040000001e' + '30ff01', 'hex');
    dev.send(buildFrame(0x0200, PHONE, 21, base, 2013), buildFrame(0x0002, PHONE, 22, new Uint8Array(0), 2013));
    const [a, b] = await dev.next(2);
    assert.deepEqual([idOf(a!), hex(bodyOf(a!))], [0x8001, '001502000' + '0'], 'the location is acknowledged (result 0)');
    assert.deepEqual([idOf(b!), hex(bodyOf(b!))], [0x8001, '001600020' + '0'], 'and the heartbeat after it');
    const msg = await waitFor('the location published', () => h.received.find((r) => r.topic === `${h.root}/message/gw/channels/8/${IDENT}`), 5000);
    const m = JSON.parse(msg.payload) as Record<string, unknown>;
    assert.equal(m['position.latitude'], 31.2);
    assert.equal(m['vehicle.mileage'], 3, 'the item before the bad one is kept');
    assert.equal(m['jt808.unparsed.hex'], '30ff01');
    dev.close();
  } finally {
    await h.close();
  }
});

test('jt808 auth_code "accept" (migration): a code this server never issued gets result 0, is recorded for the terminal and survives a restart; auth.code.valid says whether it was the code on record', async () => {
  const credentials = mkdtempSync(join(tmpdir(), 'edge-cred-'));
  const extra = { credentials: { dir: credentials } };
  let h = await startHarness({ channels: channel({ auth_code: 'accept' }), extra });
  try {
    const d = await Device.open(h.app.channels[0]!.tcpPort);
    d.send(buildFrame(0x0102, PHONE, 1, ascii('OLDPLATFORM42'), 2013));
    const [first] = await d.next();
    assert.equal(hex(bodyOf(first!)), '0001010200', 'accepted: result 0');
    const auth = await waitFor('the authentication message', () => messages(h).find((x) => x['message.type'] === 'authentication'));
    assert.equal(auth['auth.code.valid'], false, 'honest: it was not a code on record');
    assert.equal(auth['auth.code.recorded'], true);
    d.close();
    await h.close();
    h = await startHarness({ channels: channel(), extra });
    const again = await Device.open(h.app.channels[0]!.tcpPort);
    again.send(buildFrame(0x0102, PHONE, 2, ascii('OLDPLATFORM42'), 2013));
    const [ok] = await again.next();
    assert.equal(hex(bodyOf(ok!)), '0002010200', 'the recorded code is now the one on record, even in the strict "issued" mode');
    const valid = await waitFor('the authentication message', () => messages(h).find((x) => x['message.type'] === 'authentication'));
    assert.equal(valid['auth.code.valid'], true);
    again.close();
  } finally {
    await h.close();
    rmSync(credentials, { recursive: true, force: true });
  }
});
