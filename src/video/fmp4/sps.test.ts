import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdgeError } from '../../errors.js';
import { parseSps, codecString } from './index.js';
import { parsePpsIds } from './sps.js';
import { unescapeRbsp } from './bit-reader.js';
import { CLIP, clipAccessUnits } from '../../../test/support/video/h264-clip.js';
import { buildPps, buildSps } from '../../../test/support/video/h264-sps.js';
import { annexBNalUnits } from './nal-units.js';

test('the committed clip: Constrained Baseline 3.0, 320x240, 15 fps from the VUI, codec avc1.42C01E', () => {
  const sps = annexBNalUnits(clipAccessUnits()[0]!.data).find((n) => (n[0]! & 0x1f) === 7)!;
  const info = parseSps(sps);
  assert.deepEqual(
    { profile: info.profileIdc, constraints: info.constraintFlags, level: info.levelIdc, w: info.width, h: info.height, frameMbsOnly: info.frameMbsOnly, fps: info.fps },
    { profile: 66, constraints: 0xc0, level: 30, w: 320, h: 240, frameMbsOnly: true, fps: 15 },
  );
  assert.equal(codecString(info), CLIP.codec);
});

test('cropping: 1080p is 1088 coded rows with 8 cropped (offsets count in chroma rows, 2 for 4:2:0)', () => {
  const info = parseSps(buildSps({ profileIdc: 100, constraintFlags: 0, levelIdc: 40, widthMbs: 120, heightMapUnits: 68, crop: { left: 0, right: 0, top: 0, bottom: 4 } }));
  assert.equal(info.width, 1920);
  assert.equal(info.height, 1080);
  assert.equal(codecString(info), 'avc1.640028');
  // left/right crop in chroma columns too
  const side = parseSps(buildSps({ widthMbs: 45, heightMapUnits: 36, crop: { left: 2, right: 2, top: 0, bottom: 0 } }));
  assert.equal(side.width, 720 - 8);
});

test('interlaced (frame_mbs_only 0): map units are field pairs, crop rows count double', () => {
  const info = parseSps(buildSps({ profileIdc: 77, widthMbs: 45, heightMapUnits: 18, frameMbsOnly: false, crop: { left: 0, right: 0, top: 0, bottom: 2 } }));
  assert.equal(info.frameMbsOnly, false);
  assert.equal(info.width, 720);
  assert.equal(info.height, 2 * 18 * 16 - 2 * 2 * 2);
});

test('High profile with a scaling matrix, 4:4:4 and 4:0:0, and pic_order_cnt_type 1 are read through to the picture size', () => {
  for (const chromaFormatIdc of [0, 1, 3]) {
    const info = parseSps(buildSps({ profileIdc: 244, chromaFormatIdc, scalingList: true, pocType: 1, widthMbs: 40, heightMapUnits: 30, crop: { left: 0, right: 1, top: 0, bottom: 1 }, fps: 25 }));
    const unitX = chromaFormatIdc === 1 ? 2 : 1;
    const unitY = chromaFormatIdc === 1 ? 2 : 1;
    assert.equal(info.chromaFormatIdc, chromaFormatIdc);
    assert.equal(info.width, 640 - unitX, `chroma ${chromaFormatIdc}`);
    assert.equal(info.height, 480 - unitY, `chroma ${chromaFormatIdc}`);
    assert.equal(info.fps, 25);
  }
  const noVui = parseSps(buildSps({ widthMbs: 20, heightMapUnits: 15, pocType: 2 }));
  assert.equal(noVui.fps, undefined);
});

test('emulation prevention bytes are removed before reading; PPS ids are read', () => {
  assert.deepEqual([...unescapeRbsp(Uint8Array.of(0x67, 0, 0, 3, 1, 0, 0, 3, 0, 5))], [0x67, 0, 0, 1, 0, 0, 0, 5]);
  // profile, constraints and level all 0: 00 00 00 on the wire needs an 03
  const sps = buildSps({ widthMbs: 1, heightMapUnits: 1, profileIdc: 0, constraintFlags: 0, levelIdc: 0 });
  assert.ok(sps.includes(3), 'the built SPS needed an emulation prevention byte');
  assert.equal(parseSps(sps).width, 16);
  assert.deepEqual(parsePpsIds(buildPps(7, 3)), { ppsId: 7, spsId: 3 });
});

test('SPS that cannot be a picture are typed errors: truncated, absurd sizes, crop past the picture, wrong NAL type', () => {
  const good = buildSps({ widthMbs: 20, heightMapUnits: 15 });
  const bad = (b: Uint8Array, re: RegExp) => assert.throws(() => parseSps(b), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_VIDEO_AVC_INVALID' && re.test(e.message));
  bad(good.subarray(0, 5), /ends inside/);
  bad(good.subarray(0, 2), /at least 4 bytes/);
  bad(Uint8Array.from([0x68, ...good.subarray(1)]), /not an SPS/);
  bad(buildSps({ widthMbs: 2000, heightMapUnits: 15 }), /pic_width_in_mbs_minus1/);
  bad(buildSps({ widthMbs: 2, heightMapUnits: 2, crop: { left: 8, right: 8, top: 0, bottom: 0 } }), /impossible/);
  bad(Uint8Array.of(0x67, 66, 0, 30, 0, 0, 0, 0, 0), /exp-Golomb|ends inside/);
});
