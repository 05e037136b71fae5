import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runCli } from './support/run-cli.js';
import { startHarness, waitFor } from './support/harness.js';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { getProtocol } from '../src/protocol/registry.js';
import { decodeLines } from '../src/cli/decode-command.js';
import { readHexSource } from '../src/cli/hex-input.js';
import { DeviceFrames } from '../protocols/jt808/attachments/device-frames.js';
import { chunkBytes } from '../protocols/jt808/attachments/layouts.js';
import { GOLDEN_RECEIVED_AT_MS, loadGoldenFiles } from '../src/protocol/golden.js';

const root = projectRoot();
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [join(root, 'dist/src/cli.js'), ...args], { cwd: root, encoding: 'utf8', input, timeout: 20000 });

test('decode over both Ruptela fixture files: every valid frame decodes to its golden messages and replies; the hand-edited ones fail typed', async () => {
  const proto = await getProtocol('ruptela');
  const golden = new Map(loadGoldenFiles('ruptela').flatMap((g) => (g.file.vectors ?? []).map((v) => [v.hex, v] as const)));
  for (const file of ['ruptela-traccar.tsv', 'ruptela-vendor.tsv']) {
    const lines = readHexSource(join(root, 'protocols/ruptela/fixtures', file));
    for (const l of lines) {
      const hex = Buffer.from(l.bytes).toString('hex');
      const v = golden.get(hex);
      const r = decodeLines(proto, [l], 'tcp', GOLDEN_RECEIVED_AT_MS);
      // rows without a golden vector (e.g. the deliberately broken server frame V#11), and vectors that need
      // a session a lone row cannot carry (V#9: a fragment of a transfer announced earlier on the connection)
      if (!v || v.session) continue;
      if (v.expect) {
        assert.equal(r.invalid, 0, `${file} line ${l.line}: ${JSON.stringify(r.output.find((o) => 'error' in o))}`);
        const msgs = r.output.filter((o) => 'ident' in o).map((o) => {
          const { ['server.timestamp']: _s, ['protocol.id']: _p, ...m } = o;
          return m;
        });
        assert.deepEqual(msgs, v.expect.messages, `${file} line ${l.line}: messages`);
        assert.deepEqual(r.output.filter((o) => 'reply' in o).map((o) => o.reply), v.expect.replies, `${file} line ${l.line}: replies`);
      } else {
        assert.ok(r.invalid > 0, `${file} line ${l.line}: ${v.id} must be rejected`);
        // On a stream a lying length field cuts the frame short (its CRC then fails) or leaves a
        // stub: either way a typed error and no reply.
        const allowed = v.error!.framing ? [v.error!.code, 'EDGE_DECODE_CHECKSUM', 'EDGE_DECODE_TRUNCATED'] : [v.error!.code];
        assert.ok(allowed.includes(String(r.output.find((o) => 'error' in o)?.error)), `${file} line ${l.line}: error code`);
        assert.equal(r.output.filter((o) => 'reply' in o).length, 0, `${file} line ${l.line}: no reply for a bad frame`);
      }
    }
  }
});

test('edge-channel decode: JSON lines, exit 0 for good input, 1 for a bad frame with code and offset, 2 for usage errors', () => {
  const ok = cli(['decode', '--protocol', 'ruptela', '--received-at', '1735689600', '0009000310f56174900710bd93']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(ok.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ frame: 1, line: 1, reply: '00027401862d' }]);

  const bad = cli(['decode', '--protocol', 'ruptela', '0009000310f56174900710bd94']);
  assert.equal(bad.status, 1);
  const err = JSON.parse(bad.stdout.trim()) as { error: string; offset: number };
  assert.equal(err.error, 'EDGE_DECODE_CHECKSUM');
  assert.equal(err.offset, 11);

  const piped = cli(['decode', '--protocol', 'ruptela', '-'], '0009000310f56174900710bd930009000310f56174900710bd93\n');
  assert.equal(piped.stdout.trim().split('\n').length, 2, 'two concatenated frames on one line');

  const usage = cli(['decode', '--protocol', 'nope', 'ab']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /EDGE_PROTOCOL_UNKNOWN/);
  assert.equal(cli(['decode', '--bogus']).status, 2);
  const help = cli(['decode', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--received-at/);
});

test('edge-channel start with an invalid config exits 2 naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'channels:\n  - id: 1\n    protocol: ruptela\n    tcp_port: 99999\n');
  const r = cli(['start', '--config', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr + r.stdout, /EDGE_CONFIG_INVALID: channels\[0\]\.tcp_port: expected an integer 0\.\.65535, got 99999/);
  const missing = cli(['start', '--config', join(dir, 'nope.yaml')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr + missing.stdout, /EDGE_CONFIG_FILE/);
  rmSync(dir, { recursive: true, force: true });
});

test('edge-channel start exits 2 before starting anything on unknown protocol options, an invalid host, and a port used twice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cli-'));
  try {
    const cases: [string, RegExp][] = [
      ['mqtt:\n  embedded: { port: 0 }\nchannels:\n  - id: 1\n    protocol: ruptela\n    tcp_port: 0\n    options: { foo: 1 }\n', /EDGE_CONFIG_INVALID: channels\[0\]\.options\.foo: unknown option/],
      ['mqtt:\n  embedded: { port: 0 }\nchannels:\n  - id: 1\n    protocol: ruptela\n    host: 999.1.1.1\n    tcp_port: 0\n', /EDGE_CONFIG_INVALID: channels\[0\]\.host: expected an IP address/],
      ['mqtt:\n  embedded: { port: 0 }\nchannels:\n  - { id: 1, protocol: ruptela, tcp_port: 47001 }\n  - { id: 2, protocol: ruptela, tcp_port: 47001 }\n', /EDGE_CONFIG_INVALID: channels\[1\]\.tcp_port: expected a TCP port not used by channels\[0\]\.tcp_port/],
      ['channels:\n  - { id: 1, protocol: ruptela, host: 127.0.0.1, tcp_port: 1883 }\n', /EDGE_CONFIG_INVALID: channels\[0\]\.tcp_port: expected a TCP port not used by mqtt\.embedded\.port/],
      // a part the protocol does not have: the entry's index and its id, found before MQTT and ports
      ['mqtt:\n  embedded: { port: 0 }\nchannels:\n  - { id: 9, protocol: ruptela, tcp_port: 0, attachment_tcp_port: 0 }\n', /EDGE_CONFIG_INVALID: channels\[0\]\.attachment_tcp_port \(channel id 9\): protocol ruptela has no part "attachments"/],
      ['mqtt:\n  embedded: { port: 0 }\nchannels:\n  - { id: 3, protocol: jt808, tcp_port: 0 }\n  - { id: 9, protocol: ruptela, tcp_port: 0, parts: { camera: { tcp_port: 0 } } }\n', /EDGE_CONFIG_INVALID: channels\[1\]\.parts\.camera \(channel id 9\): protocol ruptela has no part "camera"/],
    ];
    cases.forEach(([yaml, re], i) => {
      const file = join(dir, `c${i}.yaml`);
      writeFileSync(file, yaml);
      const r = cli(['start', '--config', file]);
      assert.equal(r.status, 2, `case ${i}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      // nothing started: no broker, no listener, no "MQTT connection lost" warning
      assert.doesNotMatch(r.stdout + r.stderr, /listening|connection lost|connect to/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edge-channel replay of both fixture files against a running channel: every device frame acknowledged exactly, every record on the broker', async () => {
  const h = await startHarness();
  try {
    const files = ['ruptela-traccar.tsv', 'ruptela-vendor.tsv'].map((f) => join(root, 'protocols/ruptela/fixtures', f));
    const r = await runCli(['replay', '--protocol', 'ruptela', '--to', `tcp://127.0.0.1:${h.app.channels[0]!.tcpPort}`, '--json', ...files]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const summary = JSON.parse(r.stdout) as { acked: number; mismatched: number; rejected: number; sent: number };
    // expected messages: what the protocol decodes from the same frames, plus one per command reply
    const proto = await getProtocol('ruptela');
    // (a device's reply to a command is published as a message too)
    const expected = files.map((f) => decodeLines(proto, readHexSource(f), 'tcp', 0)).reduce((n, d) => n + d.messages + d.output.filter((o) => 'command_reply' in o).length, 0);
    const replies = files.map((f) => decodeLines(proto, readHexSource(f), 'tcp', 0)).reduce((n, d) => n + d.output.filter((o) => 'reply' in o).length, 0);
    assert.equal(summary.mismatched, 0);
    assert.equal(summary.rejected, 0);
    assert.equal(summary.acked, replies);
    await waitFor('every record on the broker', () => h.received.filter((m) => m.topic.startsWith(`${h.root}/message/`)).length === expected);
  } finally {
    await h.close();
  }
});

test('usage errors exit 2 with one line and no stack: bad hex, an unreadable file, a malformed --to URL, an unknown flag', () => {
  const oneLine = (r: ReturnType<typeof cli>, re: RegExp) => {
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at |unexpected error/);
  };
  oneLine(cli(['decode', '--protocol', 'ruptela', '0009zz']), /^edge-channel: EDGE_CLI_USAGE: the HEX argument: not an even-length hex string/);
  oneLine(cli(['decode', '--protocol', 'ruptela', '-'], '0009000310f56174900710bd93\nabc\n'), /EDGE_CLI_USAGE: standard input line 2: not an even-length hex string: abc/);
  oneLine(cli(['decode', '--protocol', 'ruptela', '--file', join(root, 'nope.tsv')]), /EDGE_CLI_USAGE: cannot read .*nope\.tsv: ENOENT/);
  for (const to of ['127.0.0.1:5046', 'http://127.0.0.1:5046', 'tcp://127.0.0.1:99999', 'tcp://127.0.0.1', 'tcp://[::1:5046', 'tcp://127.0.0.1:5046/x']) {
    oneLine(cli(['replay', '--protocol', 'ruptela', '--to', to, '-'], '0009000310f56174900710bd93\n'), /EDGE_CLI_USAGE: --to expects tcp:\/\/host:port or udp:\/\/host:port/);
  }
  oneLine(cli(['replay', '--protocol', 'ruptela', '--to']), /EDGE_CLI_USAGE: Option '--to <value>' argument missing/);
  oneLine(cli(['start', '--bogus']), /EDGE_CLI_USAGE: Unknown option '--bogus'/);
});

test('replay keeps and prints its partial summary when the server goes away mid-run, and exits 1', async () => {
  const h = await startHarness();
  let closed = false;
  let child: ReturnType<typeof spawn> | null = null;
  try {
    const file = join(root, 'protocols/ruptela/fixtures/ruptela-traccar.tsv');
    child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), 'replay', '--protocol', 'ruptela', '--to', `tcp://127.0.0.1:${h.app.channels[0]!.tcpPort}`, '--repeat', '100000', '--timeout', '2000', '--json', file], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => child!.on('close', (status) => resolve(status)));
    await waitFor('records flowing', () => h.received.filter((m) => m.topic.startsWith(`${h.root}/message/`)).length >= 50, 20000);
    closed = true;
    await h.close(); // the server goes away mid-run
    const status = await done;
    assert.equal(status, 1, stdout + stderr);
    const summary = JSON.parse(stdout) as { sent: number; acked: number; aborted: string | null; aborted_devices: number | null };
    assert.ok(summary.sent > 0 && summary.acked > 0, stdout);
    assert.match(String(summary.aborted), /cannot connect to tcp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.equal(summary.aborted_devices, 1);
  } finally {
    child?.kill('SIGKILL');
    if (!closed) await h.close();
  }
});

test('edge-channel decode --part attachments decodes a capture from the jt808 alarm attachment port (0x1210, 0x1211, file chunks, 0x1212); an unknown part is a usage error', () => {
  const dev = new DeviceFrames({ phone: '13345678913', terminalId: 'DC00009', version: 2013, tzOffsetMin: 480, idBytes: 16 });
  const identification = dev.identification(1774597965, 2, 1);
  const name = '00_65_6502_1_' + 'a'.repeat(32) + '.jpg';
  const data = Uint8Array.from({ length: 64 }, (_, i) => i);
  const hex = [dev.fileList(identification, new Uint8Array(32).fill(0x41), [{ name, size: 64 }]), dev.fileInfo(name, 0, 64), chunkBytes(name, 0, data), dev.fileDone(name, 0, 64)].map((b) => Buffer.from(b).toString('hex')).join('');
  const r = cli(['decode', '--protocol', 'jt808', '--part', 'attachments', '--received-at', '1788220800', hex]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.filter((l) => 'error' in l).length, 0);
  assert.ok(lines.filter((l) => typeof l.reply === 'string' && String(l.reply).startsWith('7e8001')).length >= 2, '0x1210 and 0x1211 are answered by 0x8001');
  const main = cli(['decode', '--protocol', 'jt808', hex]);
  assert.match(main.stdout, /"skipped":\d+/, 'the main listener cannot read the chunks: it skips their bytes');
  const bad = cli(['decode', '--protocol', 'jt808', '--part', 'nope', hex]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /has no part "nope" \(it has: attachments\)/);
});
