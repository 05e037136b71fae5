import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../util/log.js';
import { parseHexLines } from '../cli/hex-input.js';
import { cutFrames } from '../net/cut-frames.js';
import { SPLIT_NEED_MORE } from '../protocol/types.js';
import { CAPTURE_HEADER, TrafficCapture, type CapturedLink } from './traffic-capture.js';

const MiB = 1024 * 1024;

function setup(over: Partial<TrafficCapture['cfg']> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-capture-'));
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('warn', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), cb()) }));
  const counters = { captureRows: 0, captureDroppedRows: 0, captureWriteErrors: 0 };
  let nowMs = Date.parse('2026-11-29T10:00:00.000Z');
  const capture = new TrafficCapture({ enabled: true, idents: [], dir: join(dir, 'cap'), max_bytes: MiB, ...over }, { channelId: '7', now: () => (nowMs += 1), log, counters });
  return { dir, capture, counters, lines, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const link = (id: string, ident?: string): CapturedLink => ({ id, peer: '127.0.0.1:4000', part: '', ident });

test('capture: rows are decode-ready TSV (header, hex column, server rows skipped by the reader)', async () => {
  const { capture, counters, cleanup } = setup();
  try {
    const tap = capture.tap(link('tcp-1', '013226008765520'));
    tap.inbound(Buffer.from('0009000310f561', 'hex'));
    tap.inbound(Buffer.from('74900710bd93', 'hex'));
    tap.outbound(Buffer.from('00027401862d', 'hex'));
    await capture.close();
    const text = readFileSync(capture.file, 'utf8');
    assert.ok(text.startsWith(CAPTURE_HEADER));
    const rows = text.trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[4], r[5], r[6]]), [
      ['2026-11-29T10:00:00.001Z', 'tcp-1', '127.0.0.1:4000', '013226008765520', 'device->server', '0009000310f561'],
      ['2026-11-29T10:00:00.002Z', 'tcp-1', '127.0.0.1:4000', '013226008765520', 'device->server', '74900710bd93'],
      ['2026-11-29T10:00:00.003Z', 'tcp-1', '127.0.0.1:4000', '013226008765520', 'server->device', '00027401862d'],
    ]);
    assert.equal(counters.captureRows, 3);
    // the reader: two device rows of one stream, the server row skipped
    const read = parseHexLines(text);
    assert.deepEqual(read.map((l) => [Buffer.from(l.bytes).toString('hex'), l.stream]), [
      ['0009000310f561', '1/tcp-1'],
      ['74900710bd93', '1/tcp-1'],
    ]);
  } finally {
    cleanup();
  }
});

test('capture: the file and its one .1 rotation stay within max_bytes and keep the latest rows', async () => {
  const { capture, counters, cleanup } = setup({ max_bytes: MiB });
  try {
    const tap = capture.tap(link('tcp-2'));
    const chunk = Buffer.alloc(1000, 0xab);
    const total = 3000; // ~6 MB of rows into a 1 MiB bound: several rotations
    for (let i = 0; i < total; i++) {
      chunk.writeUInt32BE(i, 0);
      tap.inbound(chunk);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 300));
    tap.inbound(Buffer.from('ffffffffffffffff', 'hex'));
    await capture.close();
    const a = statSync(capture.file).size;
    const b = statSync(`${capture.file}.1`).size;
    assert.ok(a + b <= MiB, `${a} + ${b} bytes within ${MiB}`);
    assert.ok(a + b > MiB * 0.9, 'the bound is used, not left empty');
    for (const f of [capture.file, `${capture.file}.1`]) assert.ok(readFileSync(f, 'utf8').startsWith(CAPTURE_HEADER), `${f} starts with the header`);
    // the newest row is the last of the current file
    const last = readFileSync(capture.file, 'utf8').trim().split('\n').at(-1)!.split('\t')[6]!;
    assert.equal(last, 'ffffffffffffffff');
    assert.equal(counters.captureRows + counters.captureDroppedRows, total + 1);
    assert.ok(counters.captureRows > total / 2, `${counters.captureRows} rows written`);
  } finally {
    cleanup();
  }
});

test('capture with idents: rows before identification are held and written once the ident is listed; other devices are not captured', async () => {
  const { capture, cleanup } = setup({ idents: ['111'] });
  try {
    const a = { id: 'tcp-3', peer: '10.0.0.1:1', part: '', ident: undefined as string | undefined };
    const b = { id: 'tcp-4', peer: '10.0.0.2:2', part: '', ident: undefined as string | undefined };
    const ta = capture.tap(a);
    const tb = capture.tap(b);
    ta.inbound(Uint8Array.of(1, 1, 1, 1));
    tb.inbound(Uint8Array.of(2, 2, 2, 2));
    a.ident = '111';
    b.ident = '222';
    ta.outbound(Uint8Array.of(3, 3, 3, 3));
    tb.outbound(Uint8Array.of(4, 4, 4, 4));
    tb.inbound(Uint8Array.of(5, 5, 5, 5));
    await capture.close();
    const rows = readFileSync(capture.file, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.deepEqual(rows.map((r) => [r[1], r[4], r[5], r[6]]), [
      ['tcp-3', '111', 'device->server', '01010101'],
      ['tcp-3', '111', 'server->device', '03030303'],
    ]);
  } finally {
    cleanup();
  }
});

test('capture: a directory that cannot be written is counted and logged once, never thrown', async () => {
  const { dir, capture, counters, lines, cleanup } = setup();
  try {
    writeFileSync(join(dir, 'cap'), 'a file where the directory should be');
    const tap = capture.tap(link('udp-5'));
    tap.inbound(Uint8Array.of(1, 2, 3, 4));
    await new Promise((r) => setTimeout(r, 400)); // one flush fails
    tap.inbound(Uint8Array.of(1, 2, 3, 4));
    await capture.close(); // the second fails within the log interval
    assert.equal(counters.captureRows, 0);
    assert.equal(counters.captureDroppedRows, 2);
    assert.equal(counters.captureWriteErrors, 2);
    const logged = lines.filter((l) => l.code === 'EDGE_CAPTURE_WRITE_FAILED');
    assert.equal(logged.length, 2, 'the first failure at once, the rest at close');
    assert.equal(logged[1]!.failures, 1);
  } finally {
    cleanup();
  }
});

test('capture reader: rows of one conn are one stream (a frame across two reads is joined), conns interleave, a header starts new streams, a tail left at the end is truncated', () => {
  // toy frames: [length u8 = whole frame][payload]
  const part = { split: (b: Uint8Array, s: number, e: number) => (e - s >= 1 && e - s >= b[s]! ? b[s]! : SPLIT_NEED_MORE), explainInvalid: () => ({ code: 'EDGE_FRAME_LENGTH' as const, reason: '' }), maxFrameBytes: 255 };
  const row = (conn: string, dir: string, hex: string) => `2026-11-29T10:00:00.000Z\t${conn}\t127.0.0.1:1\t\t\t${dir}\t${hex}`;
  const text = [
    CAPTURE_HEADER.trim(),
    row('tcp-1', 'device->server', '0401020305'), // a frame and the first byte of the next
    row('tcp-2', 'device->server', '03aabb'),
    row('tcp-1', 'server->device', '0000'),
    row('tcp-1', 'device->server', '0c0d0e0f'), // the rest of it
    row('tcp-1', 'device->server', '0609'), // a tail whose rest never came (the server restarted)
    CAPTURE_HEADER.trim(),
    row('tcp-1', 'device->server', '020a'), // a new tcp-1: not joined to the old tail
  ].join('\n');
  const frames = [...cutFrames(part, parseHexLines(text), 'tcp')].map((f) => [f.line, Buffer.from(f.bytes).toString('hex'), f.invalid?.code ?? null]);
  assert.deepEqual(frames, [
    [2, '04010203', null],
    [3, '03aabb', null],
    [5, '050c0d0e0f', null],
    [8, '020a', null],
    [6, '0609', 'EDGE_DECODE_TRUNCATED'],
  ]);
});
