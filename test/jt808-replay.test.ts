import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from './support/run-cli.js';
import { startHarness, waitFor } from './support/harness.js';
import { projectRoot } from '../src/util/paths.js';
import { getProtocol } from '../src/protocol/registry.js';
import { decodeLines } from '../src/cli/decode-command.js';
import { readHexSource } from '../src/cli/hex-input.js';

const root = projectRoot();

// A registered JT/T 808 session through the real runtime: registration → 0x8100 with the auth code,
// authentication, heartbeat, locations. Replies carry the platform serial kept in the connection's
// session, so "acknowledged exactly" also checks that the session patches reach the next frame.
test('edge-channel replay of a jt808 session (register, authenticate, locations): every frame acknowledged exactly, every message on the broker', async () => {
  // the recorded 0x8100 carries the deterministic code: replayed with auth_code "derived" (protocols/jt808/README.md)
  const h = await startHarness({ channels: [{ id: 1, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options: { auth_code: 'derived' } }] });
  try {
    const file = join(root, 'fixtures/jt808-session.hex');
    const r = await runCli(['replay', '--protocol', 'jt808', '--to', `tcp://127.0.0.1:${h.app.channels[0]!.tcpPort}`, '--devices', '2', '--options', '{"auth_code":"derived"}', '--json', file]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const summary = JSON.parse(r.stdout) as { acked: number; mismatched: number; rejected: number };
    const jt808 = await getProtocol('jt808');
    const d = decodeLines(jt808, readHexSource(file), 'tcp', 0, { ...jt808.defaultOptions, auth_code: 'derived' });
    assert.equal(d.invalid, 0);
    assert.equal(summary.mismatched, 0);
    assert.equal(summary.rejected, 0);
    assert.equal(summary.acked, 2 * d.output.filter((o) => 'reply' in o).length);
    await waitFor('every message of both devices on the broker', () => h.received.filter((m) => m.topic.startsWith(`${h.root}/message/`)).length === 2 * d.messages, 15000);
    const idents = new Set(h.received.filter((m) => m.topic.startsWith(`${h.root}/message/`)).map((m) => m.topic.split('/').pop()));
    assert.equal(idents.size, 2, 'two simulated terminals, two idents');
  } finally {
    await h.close();
  }
});

test('edge-channel decode --options: the channel\'s jt808 options decide the replies; a bad --options is a usage error', async () => {
  const file = join(root, 'fixtures/jt808-session.hex');
  const replies = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => 'reply' in o).length;
  const issued = await runCli(['decode', '--protocol', 'jt808', '--received-at', '1788220800', '--file', file]);
  const derived = await runCli(['decode', '--protocol', 'jt808', '--received-at', '1788220800', '--options', '{"auth_code":"derived"}', '--file', file]);
  assert.equal(issued.status, 0, issued.stderr);
  assert.equal(derived.status, 0, derived.stderr);
  // issued: the authentication's answer is chosen by the runtime (stored code), so decode shows none
  assert.equal(replies(derived.stdout), replies(issued.stdout) + 1);
  assert.match(derived.stdout, /"auth\.code\.valid":true/);
  for (const bad of ['{"auth_code":"random"}', '{"nope":1}', '[1]', '{']) {
    const r = await runCli(['decode', '--protocol', 'jt808', '--options', bad, '--file', file]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /EDGE_CLI_USAGE: --options/);
  }
});
