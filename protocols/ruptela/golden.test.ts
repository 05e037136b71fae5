import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import ruptela from './index.js';
import { ctx, loadGolden } from './test-helpers.js';

for (const file of ['golden-traccar.json', 'golden-vendor.json']) {
  const golden = loadGolden(file);
  for (const v of golden.vectors ?? []) {
    test(`${file} ${v.id}: ${v.source.slice(0, 90)}`, () => {
      const frame = fromHex(v.hex);
      const c = ctx(v.session ?? {});
      if (v.error !== undefined) {
        const err = v.error;
        assert.throws(() => ruptela.decode(frame, c), (e: unknown) => e instanceof EdgeError && e.code === err.code && (err.offset === undefined || e.offset === err.offset));
        if (err.framing === true) assert.notEqual(ruptela.split(frame, 0, frame.length), frame.length, 'the splitter must not take these bytes as one frame');
        return;
      }
      const exp = v.expect!;
      assert.equal(ruptela.split(frame, 0, frame.length), frame.length, 'the splitter takes the whole vector as one frame');
      const r = ruptela.decode(frame, c);
      assert.deepEqual(r.messages, exp.messages);
      assert.deepEqual(r.replies.map((b) => toHex(b)), exp.replies);
      assert.deepEqual(r.session, exp.session);
      assert.deepEqual(r.warnings.map((w) => w.code), exp.warnings ?? []);
      assert.deepEqual(r.commandReplies ?? [], exp.commandReplies ?? []);
      // effects (relay, file pieces) are part of this module's golden vectors; bytes as hex
      const effects = (exp as { effects?: unknown[] }).effects ?? [];
      assert.deepEqual(JSON.parse(JSON.stringify(r.effects ?? [], (_k, x: unknown) => (x instanceof Uint8Array ? toHex(x) : x))), effects);
    });
  }
  for (const cv of golden.commands ?? []) {
    test(`${file} command ${cv.id}: ${cv.command.name}`, () => {
      const enc = ruptela.encode(cv.command, {});
      assert.equal(toHex(enc.bytes), cv.hex);
      assert.equal(enc.replyKey, cv.replyKey);
      assert.deepEqual(ruptela.parseCommand(fromHex(cv.hex)), cv.command);
    });
  }
}
