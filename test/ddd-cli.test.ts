import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { dddCommand } from '../src/cli/ddd-command.js';

const root = projectRoot();
const fixture = (f: string) => join(root, 'fixtures', 'tacho', f);
const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist/src/cli.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 20000, maxBuffer: 64 << 20 });

test('edge-channel ddd FILE prints the document as JSON; --summary prints the human summary', () => {
  const r = cli(['ddd', fixture('card-g1-anon-wp000.ddd'), '--compact']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { kind: string; card: { g1: { identification: { cardNumber: string }; activity: { days: unknown[] } } } };
  assert.equal(doc.kind, 'driver_card');
  assert.equal(doc.card.g1.identification.cardNumber, 'DRIVER0000000100');
  assert.equal(doc.card.g1.activity.days.length, 189);
  assert.equal(r.stderr, '', 'no summary when stdout is not a terminal');

  const s = cli(['ddd', fixture('vu-g1-anon-wp000.ddd'), '--summary']);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^vehicle unit download, Gen1, 100533 bytes\n/);
  assert.match(s.stdout, /activity: +6 day\(s\) 2025-09-07 \.\. 2025-09-12/);
  assert.match(s.stdout, /signature: +NOT verified \(the file carries no signatures\)/);

  const noSpeed = JSON.parse(cli(['ddd', fixture('vu-g1-anon-wp000.ddd'), '--no-speed', '--compact']).stdout) as { vu: { detailedSpeed: { blocks: unknown[] } } };
  assert.equal(noSpeed.vu.detailedSpeed.blocks.length, 0);
});

test('edge-channel ddd on a terminal: summary on stderr, JSON on stdout', () => {
  let out = '';
  let err = '';
  const code = dddCommand([fixture('card-g2v2-anon-wp004.ddd')], { write: (x) => (out += x), isTTY: true }, { write: (x) => (err += x) });
  assert.equal(code, 0);
  assert.match(err, /^driver card download, Gen2 v2, 63781 bytes\ndriver: +Doe, John {2}card DRIVER0000000100/);
  assert.equal((JSON.parse(out) as { kind: string }).kind, 'driver_card');
});

test('edge-channel ddd: a truncated file exits 1 with the typed error and offset; usage errors exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-ddd-'));
  try {
    const cut = join(dir, 'cut.ddd');
    writeFileSync(cut, readFileSync(fixture('card-g1-anon-wp000.ddd')).subarray(0, 3000));
    const r = cli(['ddd', cut]);
    assert.equal(r.status, 1);
    assert.deepEqual(JSON.parse(r.stdout), { file: cut, error: 'EDGE_DDD_TRUNCATED', offset: 1944, reason: 'EF 0503 value needs 1152 byte(s), 1056 left' });
    assert.match(r.stderr, /EDGE_DDD_TRUNCATED at byte 1944/);

    const badRoot = join(dir, 'root.bin');
    writeFileSync(badRoot, Uint8Array.of(1, 2, 3));
    for (const args of [['ddd'], ['ddd', join(dir, 'missing.ddd')], ['ddd', fixture('card-g1-anon-wp000.ddd'), '--roots', badRoot], ['ddd', 'a', 'b']]) {
      const u = cli(args);
      assert.equal(u.status, 2, args.join(' '));
      assert.match(u.stderr, /^edge-channel: EDGE_CLI_USAGE: /);
      assert.equal(u.stderr.split('\n').length, 2, 'one line, no stack');
    }
    const ok = cli(['ddd', fixture('card-g1-anon-wp000.ddd'), '--summary', '--roots', `${fixture('certs/erca-g1-root-EC_PK.bin')},${fixture('certs/erca-g2-root-1.bin')}`]);
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
