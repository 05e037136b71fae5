import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import { mergeSession } from '../../src/protocol/session.js';
import type { DecodeEffect, DecodeResult, SessionState } from '../../src/protocol/types.js';
import { projectRoot } from '../../src/util/paths.js';
import { labelDdd } from './ddd.js';
import ruptela from './index.js';
import { tachoAck } from './tacho-frames.js';
import { wrapFrame } from './frame.js';
import { ctx, deviceFrame } from './test-helpers.js';

const GOLDEN_CTX = ctx();

const vendorRow = (id: number): string => {
  const tsv = readFileSync(join(projectRoot(), 'protocols', 'ruptela', 'fixtures', 'ruptela-vendor.tsv'), 'utf8');
  const row = tsv.split('\n').find((l) => l.startsWith(`${id}\t`));
  assert.ok(row);
  return row.split('\t')[1]!;
};

const IMEI = 868204004248349n;
const u16 = (n: number) => n.toString(16).padStart(4, '0');
const u32 = (n: number) => n.toString(16).padStart(8, '0');
const announce = (size: number, index = 0xffff) => deviceFrame(IMEI, 12, '01' + u32(size) + u32(1369386963) + u32(1362145803) + u32(1368193799) + '0000' + u16(index));
const fragment = (index: number, data: Uint8Array) => deviceFrame(IMEI, 11, u16(index) + toHex(data));

/** A device conversation: each frame decoded with the session the runtime would hold. */
function conversation() {
  let session: SessionState = {};
  return (frame: Uint8Array): DecodeResult => {
    const r = ruptela.decode(frame, { ...GOLDEN_CTX, session });
    if (r.session) session = mergeSession(session, r.session);
    return r;
  };
}

const chunks = (r: DecodeResult) => (r.effects ?? []).filter((e): e is Extract<DecodeEffect, { kind: 'file-chunk' }> => e.kind === 'file-chunk');

test('111 ACK frames equal the vendor rows V#37–V#41', () => {
  assert.equal(toHex(tachoAck(1, 0xffff)), vendorRow(37));
  assert.equal(toHex(tachoAck(1, 0)), vendorRow(38));
  assert.equal(toHex(tachoAck(1, 1)), vendorRow(39));
  assert.equal(toHex(tachoAck(1, 0x6d)), vendorRow(40));
  assert.equal(toHex(tachoAck(1, 0x6e)), vendorRow(41));
});

test('a whole transfer: announcement, fragments from index 0, each ACKed with its index, pieces at their offsets, the last one final with the metadata', () => {
  const file = new Uint8Array(2500).map((_, i) => (i * 7) & 0xff);
  file.set([0x76, 0x21], 0); // a generation 2 VU download
  const say = conversation();
  const a = say(announce(file.length));
  assert.deepEqual(a.replies.map((b) => toHex(b)), [vendorRow(37)]);
  const written: Uint8Array[] = [];
  for (let i = 0, off = 0; off < file.length; i++, off += 1009) {
    const r = say(fragment(i, file.subarray(off, off + 1009)));
    assert.deepEqual(r.replies.map((b) => toHex(b)), [toHex(tachoAck(1, i))]);
    const [c] = chunks(r);
    assert.ok(c);
    assert.equal(c.offset, off);
    assert.equal(c.final, off + 1009 >= file.length);
    written.push(c.bytes);
    if (c.final) {
      assert.deepEqual(c.file, { kind: 'tacho', name: 'ddd-1369386963-2500.ddd' });
      assert.equal(c.announce, 'media.tacho');
      assert.deepEqual(c.meta, {
        'media.tacho.source': 'vehicle_unit',
        'media.tacho.generation': 2,
        'media.tacho.storage.enum': 1,
        'media.tacho.read.timestamp': 1369386963,
        'media.tacho.period.begin': 1362145803,
        'media.tacho.period.end': 1368193799,
      });
    }
  }
  assert.deepEqual(Buffer.concat(written), Buffer.from(file));
});

test('a repeated fragment (same index as the last) is ACKed again without a second write, also after the final one', () => {
  const say = conversation();
  say(announce(1500));
  const first = new Uint8Array(1009).fill(1);
  assert.equal(chunks(say(fragment(1, first))).length, 1, 'index base 1 is accepted');
  const again = say(fragment(1, first));
  assert.deepEqual(again.replies.map((b) => toHex(b)), [vendorRow(39)]);
  assert.equal(chunks(again).length, 0);
  const last = say(fragment(2, new Uint8Array(491).fill(2)));
  assert.equal(chunks(last)[0]!.final, true);
  const lastAgain = say(fragment(2, new Uint8Array(491).fill(2)));
  assert.deepEqual(lastAgain.replies.map((b) => toHex(b)), [toHex(tachoAck(1, 2))]);
  assert.equal(chunks(lastAgain).length, 0);
});

test('gaps, out-of-order indices, a first index above 1 and too many bytes fail the transfer: ack 2, no write, the command ends', () => {
  const cases: [string, (say: ReturnType<typeof conversation>) => DecodeResult][] = [
    ['gap', (say) => (say(fragment(0, new Uint8Array(1009))), say(fragment(2, new Uint8Array(10))))],
    ['backwards', (say) => (say(fragment(0, new Uint8Array(500))), say(fragment(1, new Uint8Array(500))), say(fragment(0, new Uint8Array(10))))],
    ['first index 5', (say) => say(fragment(5, new Uint8Array(10)))],
    ['over size', (say) => (say(fragment(0, new Uint8Array(1009))), say(fragment(1, new Uint8Array(1009))))],
  ];
  for (const [what, run] of cases) {
    const say = conversation();
    say(announce(1500));
    const r = run(say);
    assert.equal(toHex(r.replies[0]!).slice(0, 8), '00046f02', `${what}: ack 2`);
    assert.equal(chunks(r).length, 0, `${what}: nothing written`);
    assert.deepEqual(r.commandReplies?.map((c) => [c.replyKey, c.executed]), [['media:tacho', false]], what);
    assert.equal(r.session?.tacho, null, `${what}: transfer dropped`);
    // and what comes after is rejected too, without ending a command again
    const after = say(fragment(9, new Uint8Array(5)));
    assert.equal(toHex(after.replies[0]!).slice(0, 8), '00046f02');
    assert.equal(after.commandReplies, undefined);
  }
});

test('a fragment with no announcement on this connection (reconnect mid-transfer) is rejected with ack 2 and a warning, ending no command', () => {
  const r = ruptela.decode(fromHex(vendorRow(9)), GOLDEN_CTX);
  assert.deepEqual(r.replies.map((b) => toHex(b)), ['00046f0200018f2c']);
  assert.deepEqual(r.warnings.map((w) => w.code), ['EDGE_DECODE_INVALID']);
  assert.equal(r.commandReplies, undefined);
});

test('an empty announced file is rejected; a new announcement replaces an unfinished transfer with a warning; a resume index is answered from the beginning', () => {
  const say = conversation();
  const empty = say(announce(0));
  assert.equal(toHex(empty.replies[0]!).slice(0, 8), '00046f02');
  assert.equal(empty.commandReplies?.[0]?.executed, false);
  say(announce(3000));
  say(fragment(0, new Uint8Array(1009)));
  const again = say(announce(3000, 3));
  assert.deepEqual(again.replies.map((b) => toHex(b)), [vendorRow(37)]);
  assert.deepEqual(again.warnings.map((w) => w.code), ['EDGE_DECODE_PARTIAL', 'EDGE_DECODE_UNSUPPORTED']);
  assert.equal(chunks(say(fragment(0, new Uint8Array(1009))))[0]!.offset, 0, 'starts over at offset 0');
});

test('card APDUs are relayed; a non-zero status ends the request and the card session; other subIds are reported, not relayed', () => {
  const ok = ruptela.decode(fromHex(vendorRow(10)), { ...GOLDEN_CTX, options: { ...ruptela.defaultOptions, tacho_card_timeout_s: 7, tacho_apdu_reply_sub_id: 9 } });
  assert.deepEqual(ok.effects, [
    { kind: 'relay', service: 'tacho-card', request: { payload: '00a4020c020002', finish: false, 'packet.status': 1 }, answer: { command: 'tacho_card_response', properties: { sub_id: 9 }, timeoutMs: 7000, replyKey: 'media:tacho', refusal: '6985' } },
  ]);
  const bad = ruptela.decode(deviceFrame(IMEI, 10, 'fffffffc' + '03010000'), GOLDEN_CTX);
  assert.equal(bad.commandReplies?.[0]?.executed, false);
  assert.match(String(bad.commandReplies?.[0]?.response), /-4 \(negative answer\)/);
  assert.deepEqual(bad.effects?.map((e) => e.kind === 'relay' && e.request.finish), [true]);
  const other = ruptela.decode(deviceFrame(IMEI, 10, '00000000' + '07010000' + 'aabbccdd'), GOLDEN_CTX);
  assert.equal(other.effects, undefined);
  assert.deepEqual(other.warnings.map((w) => w.code), ['EDGE_DECODE_UNSUPPORTED']);
  assert.throws(() => ruptela.decode(deviceFrame(IMEI, 10, '000000'), GOLDEN_CTX), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_TRUNCATED');
});

test('DDD labels: VU generations 1 and 2, driver cards by EF_ICC type, anything else is not a DDD', () => {
  assert.deepEqual(labelDdd(Uint8Array.of(0x76, 0x01, 0)), { source: 'vehicle_unit', generation: 1, ddd: true });
  assert.deepEqual(labelDdd(Uint8Array.of(0x76, 0x33, 0)), { source: 'vehicle_unit', generation: 2, ddd: true });
  assert.deepEqual(labelDdd(Uint8Array.of(0x00, 0x02, 0x00, 0x00, 0x19)), { source: 'driver_card', generation: 1, ddd: true });
  assert.deepEqual(labelDdd(Uint8Array.of(0x00, 0x02, 0x02, 0x00, 0x19)), { source: 'driver_card', generation: 2, ddd: true });
  assert.deepEqual(labelDdd(new TextEncoder().encode('%PDF-1.4')), { source: 'unknown', generation: null, ddd: false });
  const say = conversation();
  say(announce(8));
  const r = say(fragment(0, new TextEncoder().encode('%PDF-1.4')));
  assert.deepEqual(r.warnings.map((w) => w.code), ['EDGE_DECODE_INVALID'], 'not a DDD: a warning, stored anyway');
  assert.equal(chunks(r)[0]!.meta?.['media.tacho.source'], 'unknown');
  assert.match(String(chunks(r)[0]!.meta?.['media.tacho.warning']), /does not start like a DDD/);
});

test('request_tachograph_file: sources, mask bits, bad properties', () => {
  const base = { source: 'vehicle_unit', atr: '3b9a96c01031fe5d0064057b01023180900076', mask: 0, from: 1362145803, to: 1368193799 };
  assert.equal(toHex(ruptela.encode({ name: 'request_tachograph_file', properties: base }, {}).bytes), vendorRow(12));
  const wtr = (props: Record<string, unknown>) => {
    const b = ruptela.encode({ name: 'request_tachograph_file', properties: { ...base, ...props } }, {}).bytes;
    return b[b.length - 11];
  };
  assert.equal(wtr({ source: 'driver_1' }), 0x02);
  assert.equal(wtr({ source: 'driver_2' }), 0x04);
  assert.equal(wtr({ mask: 0x38 }), 0x39, 'the support log value wtr=0x39');
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ source: 'driver_3' }, /source/],
    [{ mask: 0x02 }, /mask/],
    [{ from: 10, to: 5 }, /from/],
    [{ atr: '3b' }, /atr/],
    [{ atr: 'zz' }, /atr/],
  ];
  for (const [props, re] of bad) {
    assert.throws(() => ruptela.encode({ name: 'request_tachograph_file', properties: { ...base, ...props } }, {}), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID' && re.test(e.message), JSON.stringify(props));
  }
  assert.throws(() => ruptela.encode({ name: 'tacho_card_response', properties: { payload: '9000', sub_id: 2 } }, {}), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_COMMAND_INVALID');
  const twoSources = wrapFrame(fromHex('6e020000' + base.atr + '06' + '5130b20b518cfb07'));
  assert.throws(() => ruptela.parseCommand(twoSources), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID' && /exactly one source/.test(e.message));
});
