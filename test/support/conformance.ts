/**
 * The shared conformance suite every registered protocol must pass (run by
 * test/conformance.test.ts for each folder under protocols/). Test-only code: it imports node:test
 * and fast-check, so it lives with the tests, never in what ships (src/).
 *  1. golden vectors: exact messages, replies, session, warnings; typed errors with codes/offsets;
 *  2. commands: byte-exact encoding and an encode ∘ parseCommand byte mirror;
 *  3. sanity invariants on every decoded message (ranges, names, value types);
 *  4. framing: every 2-chunk split point and fixed chunk sizes give the same frames;
 *  5. fuzzing (time-boxed): truncated, bit-flipped and random input gives only need-more, skip,
 *     or a typed EdgeError — never a TypeError/RangeError, a hang or an unbounded buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex, fromHex } from '../../src/codec/hex.js';
import { EdgeError, ERROR_CODES } from '../../src/errors.js';
import { Framer } from '../../src/net/framer.js';
import { checkOptions, optionDefaults } from '../../src/protocol/options.js';
import { GOLDEN_RECEIVED_AT_MS, loadGoldenFiles, type GoldenFrameVector } from '../../src/protocol/golden.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type DecodeContext, type Message, type ProtocolModule } from '../../src/protocol/types.js';

function ctxFor(proto: ProtocolModule, v: GoldenFrameVector): DecodeContext {
  return { transport: v.transport ?? 'tcp', session: v.session ?? {}, receivedAtMs: v.receivedAtMs ?? GOLDEN_RECEIVED_AT_MS, options: { ...proto.defaultOptions, ...(v.options ?? {}) } };
}

const NAME = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

/** Range and shape checks every message of every protocol must satisfy. Returns problems found. */
export function sanityProblems(m: Message, receivedAtMs = GOLDEN_RECEIVED_AT_MS): string[] {
  const p: string[] = [];
  const num = (k: string, lo: number, hi: number) => {
    const v = m[k];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) p.push(`${k}=${String(v)} outside ${lo}..${hi}`);
  };
  if (typeof m.ident !== 'string' || m.ident === '' || /[#+/]|[^\x21-\x7e]/.test(m.ident)) p.push(`ident ${JSON.stringify(m.ident)} is not a printable topic-safe string`);
  if (typeof m.timestamp !== 'number') p.push('timestamp missing');
  num('timestamp', 0, receivedAtMs / 1000 + 366 * 86400);
  num('position.latitude', -90, 90);
  num('position.longitude', -180, 180);
  num('position.speed', 0, 1500);
  num('position.direction', 0, 360);
  num('position.satellites', 0, 255);
  num('position.altitude', -12000, 100000);
  num('position.hdop', 0, 255);
  if ((m['position.latitude'] === undefined) !== (m['position.longitude'] === undefined)) p.push('latitude without longitude (or the reverse)');
  for (const [k, v] of Object.entries(m)) {
    if (!NAME.test(k)) p.push(`parameter name "${k}" is not lower-case dotted`);
    if (!(v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) p.push(`${k} has a non-JSON value`);
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) p.push(`${k}=${v} is beyond 2^53 (must be a string)`);
  }
  return p;
}

/** Decode that must either succeed or throw a typed EdgeError with a code from the table. */
function decodeTyped(proto: ProtocolModule, bytes: Uint8Array, ctx: DecodeContext): 'ok' | string {
  try {
    const r = proto.decode(bytes, ctx);
    for (const m of r.messages) JSON.stringify(m);
    return 'ok';
  } catch (e) {
    if (!(e instanceof EdgeError)) throw new Error(`untyped ${e instanceof Error ? e.name + ': ' + e.message : String(e)} on ${toHex(bytes).slice(0, 120)}`);
    if (!(e.code in ERROR_CODES) || e.code === 'EDGE_DECODE_INTERNAL') throw new Error(`bad error code ${e.code} on ${toHex(bytes).slice(0, 120)}`);
    return e.code;
  }
}

function splitAll(proto: ProtocolModule, chunks: Uint8Array[], maxFrame: number): string[] {
  const framer = new Framer(proto, maxFrame);
  const out: string[] = [];
  for (const c of chunks) framer.push(Buffer.from(c.buffer, c.byteOffset, c.length), (f) => out.push(f.toString('hex')));
  assert.equal(framer.buffered, 0, 'bytes left in the framer after a whole stream');
  return out;
}

export interface ConformanceOptions {
  /** Time budget of each fuzz property, ms. */
  fuzzMs?: number;
}

export function registerConformance(proto: ProtocolModule, opts: ConformanceOptions = {}): void {
  const fuzzMs = opts.fuzzMs ?? 2500;
  const files = loadGoldenFiles(proto.id);
  const vectors = files.flatMap((f) => (f.file.vectors ?? []).map((v) => ({ ...v, file: f.name })));
  const valid = vectors.filter((v) => v.expect);

  test(`${proto.id}: module declares the contract`, () => {
    assert.match(proto.id, /^[a-z0-9_-]+$/);
    assert.ok(proto.maxFrameBytes > 0);
    assert.ok(proto.transports.length > 0);
    // declared options: defaults agree with the specs, and every default passes its own check
    assert.deepEqual({ ...proto.defaultOptions }, { ...optionDefaults(proto.options) }, 'defaultOptions must equal optionDefaults(options)');
    checkOptions(proto.options, proto.defaultOptions, 'options', proto.id);
    for (const [k, s] of Object.entries(proto.options)) assert.ok(s.description.length > 0, `option ${k} needs a description`);
    assert.ok(files.length > 0, `protocols/${proto.id}/fixtures has no golden-*.json`);
    assert.ok(valid.length > 0, 'no valid golden vectors');
    for (const f of files) {
      assert.ok(f.file.provenance && f.file.license, `${f.name}: provenance and license are required`);
      for (const v of f.file.vectors ?? []) assert.ok(!!v.expect !== !!v.error, `${f.name} ${v.id}: exactly one of expect/error`);
    }
  });

  test(`${proto.id}: golden frame vectors decode exactly`, () => {
    for (const v of vectors) {
      const bytes = fromHex(v.hex);
      const where = `${v.file} ${v.id}`;
      if (v.expect) {
        assert.equal(proto.split(bytes, 0, bytes.length), bytes.length, `${where}: split must return the whole frame`);
        const r = proto.decode(bytes, ctxFor(proto, v));
        assert.deepEqual(r.messages, v.expect.messages, `${where}: messages`);
        assert.deepEqual(r.replies.map((x) => toHex(x)), v.expect.replies, `${where}: replies`);
        assert.deepEqual(r.warnings.map((w) => w.code), v.expect.warnings ?? [], `${where}: warnings`);
        assert.deepEqual(r.session, v.expect.session, `${where}: session (omitted in the vector = none returned)`);
        if (v.expect.commandReplies) assert.deepEqual(r.commandReplies ?? [], v.expect.commandReplies, `${where}: commandReplies`);
      } else if (v.error) {
        assert.throws(
          () => proto.decode(bytes, ctxFor(proto, v)),
          (e: unknown) => e instanceof EdgeError && e.code === v.error!.code && (v.error!.offset === undefined || e.offset === v.error!.offset),
          `${where}: expected ${v.error.code}${v.error.offset !== undefined ? ' at ' + v.error.offset : ''}`,
        );
        if (v.error.framing) {
          const s = proto.split(bytes, 0, bytes.length);
          assert.notEqual(s, bytes.length, `${where}: the splitter must not accept these bytes as one frame`);
        }
      }
    }
  });

  test(`${proto.id}: commands encode byte-exact and mirror through parseCommand`, () => {
    const cmds = files.flatMap((f) => (f.file.commands ?? []).map((c) => ({ ...c, file: f.name })));
    const names = new Set(proto.commands.map((c) => c.name));
    for (const c of cmds) {
      const where = `${c.file} ${c.id}`;
      assert.ok(names.has(c.command.name), `${where}: ${c.command.name} is not in the module's commands list`);
      const enc = proto.encode(c.command, c.session ?? {});
      assert.equal(toHex(enc.bytes), c.hex, `${where}: bytes`);
      assert.equal(enc.replyKey, c.replyKey, `${where}: replyKey`);
      const back = proto.parseCommand(fromHex(c.hex));
      assert.equal(toHex(proto.encode(back, c.session ?? {}).bytes), c.hex, `${where}: encode(parseCommand(bytes)) must give the same bytes`);
    }
    assert.throws(() => proto.encode({ name: '__no_such_command__', properties: {} }, {}), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_UNKNOWN');
  });

  test(`${proto.id}: sanity invariants hold on every golden message`, () => {
    for (const v of valid) {
      const r = proto.decode(fromHex(v.hex), ctxFor(proto, v));
      for (const m of r.messages) assert.deepEqual(sanityProblems(m, v.receivedAtMs), [], `${v.file} ${v.id}`);
    }
  });

  const tcpValid = valid.filter((v) => (v.transport ?? 'tcp') === 'tcp');
  const stream = tcpValid.map((v) => fromHex(v.hex));
  const whole = Buffer.concat(stream);
  const expectedFrames = stream.map((b) => toHex(b));

  test(`${proto.id}: every TCP split point and fixed chunk sizes give the same frames`, () => {
    if (!proto.transports.includes('tcp')) return;
    for (let k = 0; k <= whole.length; k++) {
      const got = splitAll(proto, [whole.subarray(0, k), whole.subarray(k)], proto.maxFrameBytes);
      if (got.length !== expectedFrames.length || got.some((g, i) => g !== expectedFrames[i])) assert.fail(`split point ${k} of ${whole.length} changes the frames`);
    }
    for (const size of [1, 2, 3, 7, 13, 64, 512, 1500]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < whole.length; i += size) chunks.push(whole.subarray(i, i + size));
      assert.deepEqual(splitAll(proto, chunks, proto.maxFrameBytes), expectedFrames, `chunk size ${size}`);
    }
  });

  test(`${proto.id}: every truncation of a valid frame is need-more for split and a typed error for decode`, () => {
    for (const v of valid) {
      const b = fromHex(v.hex);
      for (let n = 0; n < b.length; n++) {
        const s = proto.split(b, 0, n);
        assert.ok(s === SPLIT_NEED_MORE || s === SPLIT_INVALID || s < 0 || s <= n, `${v.id}: split of a ${n}-byte prefix returned ${s}`);
        const r = decodeTyped(proto, b.subarray(0, n), ctxFor(proto, v));
        assert.notEqual(r, 'ok', `${v.id}: a ${n}-byte prefix of a ${b.length}-byte frame decoded without error`);
      }
    }
  });

  test(`${proto.id}: fuzzing gives only need-more, skip or typed errors (time-boxed)`, () => {
    const ctx: DecodeContext = { transport: 'tcp', session: {}, receivedAtMs: GOLDEN_RECEIVED_AT_MS, options: proto.defaultOptions };
    const seeds = valid.map((v) => fromHex(v.hex));
    const splitInRange = (b: Uint8Array) => {
      const s = proto.split(b, 0, b.length);
      return Number.isInteger(s) && (s === SPLIT_NEED_MORE || s === SPLIT_INVALID || (s > 0 && s <= b.length) || (s < 0 && s >= -b.length));
    };
    // random bytes
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), (b) => {
        assert.ok(splitInRange(b));
        decodeTyped(proto, b, ctx);
      }),
      { numRuns: 100000, interruptAfterTimeLimit: fuzzMs },
    );
    // bit flips and byte edits of real frames, resealed when the protocol can (reaches the body decoder)
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.boolean(), (seed, edits, reseal) => {
        let b = Uint8Array.from(seed);
        for (const [pos, val] of edits) b[pos % b.length] = val;
        if (reseal && proto.resealFrame) b = Uint8Array.from(proto.resealFrame(b));
        assert.ok(splitInRange(b));
        decodeTyped(proto, b, ctx);
      }),
      { numRuns: 100000, interruptAfterTimeLimit: fuzzMs },
    );
    // truncated-and-resealed frames: lengths agree but content ends early
    if (proto.resealFrame) {
      fc.assert(
        fc.property(fc.constantFrom(...seeds), fc.nat(), (seed, cut) => {
          const b = proto.resealFrame!(seed.subarray(0, Math.max(0, seed.length - 1 - (cut % seed.length))));
          decodeTyped(proto, b, ctx);
        }),
        { numRuns: 100000, interruptAfterTimeLimit: fuzzMs },
      );
    }
    // a stream of garbage never grows the framer's buffer beyond the frame limit
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 700 }), { maxLength: 20 }), (chunks) => {
        const framer = new Framer(proto, proto.maxFrameBytes);
        try {
          for (const c of chunks) {
            framer.push(Buffer.from(c), () => {});
            assert.ok(framer.buffered <= proto.maxFrameBytes);
          }
        } catch (e) {
          if (!(e instanceof EdgeError)) throw e;
        }
      }),
      { numRuns: 100000, interruptAfterTimeLimit: fuzzMs },
    );
  });
}
