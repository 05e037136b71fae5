import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCredentialStore } from '../src/credentials/credential-store.js';
import { EdgeError } from '../src/errors.js';
import type { DecodeContext, DecodeResult } from '../src/protocol/types.js';
import { waitFor } from './support/harness.js';
import { rig as toyRig, toyFrame as frame, toyProtocol, uniqueRoot, withDevice } from './support/toy-rig.js';

/**
 * The credential and re-send seams with a toy protocol (the runtime side is protocol-agnostic):
 * [len][type][payload], ident "toy-1".
 *   type 5: issue the code in the payload (reply 05 + the nonce's first byte in hex digits as ASCII)
 *   type 6: check the code in the payload (accepted: A6, rejected: E6; field `ok` on its message)
 *   type 7: part [index][count][byte] with a re-send context; resendRequest answers 'R' + missing indices
 */
function decode(frame: Uint8Array, ctx: DecodeContext): DecodeResult {
  const type = frame[1]!;
  const body = frame.subarray(2);
  const code = Buffer.from(body).toString('latin1');
  const r: DecodeResult = { messages: [], replies: [], session: { ident: 'toy-1' }, warnings: [] };
  if (ctx.reassembled) return r;
  if (type === 5) {
    r.replies = [Uint8Array.of(0x05)];
    r.effects = [{ kind: 'credential-issue', code: code || (ctx.nonce ?? '') }];
  } else if (type === 6) {
    r.messages.push({ ident: 'toy-1', timestamp: 1_735_689_600, presented: code });
    r.effects = [{ kind: 'credential-check', code, accepted: [Uint8Array.of(0xa6)], rejected: [Uint8Array.of(0xe6)], field: 'ok' }];
  } else if (type === 7) {
    r.replies = [Uint8Array.of(0x07)];
    r.effects = [{ kind: 'reassemble', key: 'k', index: body[0]!, count: body[1]!, bytes: body.subarray(2), resend: Uint8Array.of(0x52) }];
  } else throw new EdgeError('EDGE_DECODE_INVALID', `type ${type}`, 1);
  return r;
}

const toy = toyProtocol({
  id: 'toy',
  title: 'Toy',
  decode,
  resendRequest: (context, missing) => Uint8Array.from([...context, ...missing]),
});

const text = (type: number, s: string) => frame(type, ...Buffer.from(s, 'latin1'));

async function rig(credentials: FileCredentialStore | null) {
  const got: Record<string, unknown>[] = [];
  const r = await toyRig(toy, {
    channel: { id: 9 },
    clientId: 'cred-seams',
    root: uniqueRoot('c'),
    deps: { credentials },
    subscribe: ['message/#'],
    onMessage: (_t, p) => got.push(JSON.parse(p) as Record<string, unknown>),
  });
  return { ...(await withDevice(r)), got };
}

test('credential effects: an issued code is stored before the ACK; a check writes the accepted or rejected replies and adds its field', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cred-seams-'));
  const store = new FileCredentialStore({ dir, fsync: true });
  await store.open(['9']);
  const r = await rig(store);
  try {
    r.s.write(text(5, 'secret'));
    await waitFor('the ACK of the issue', () => r.hex() === '05', 5000);
    assert.equal(store.get('9', 'toy-1'), 'secret', 'stored when the ACK went out');
    r.s.write(Buffer.concat([text(6, 'nope'), text(6, 'secret')]));
    await waitFor('both check answers', () => r.hex() === '05' + 'e6' + 'a6', 5000);
    await waitFor('both messages', () => r.got.length === 2, 5000);
    assert.deepEqual(
      r.got.map((m) => [m.presented, m.ok]),
      [
        ['nope', false],
        ['secret', true],
      ],
    );
    // the runtime's nonce: random hex, the same for every frame of the connection
    r.s.write(Buffer.concat([frame(5), frame(5)]));
    await waitFor('two more ACKs', () => r.hex().length === 10, 5000);
    assert.match(store.get('9', 'toy-1')!, /^[0-9a-f]{16}$/);
  } finally {
    await r.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a credential effect without a credential store fails its frame: no ACK, the connection closes', { timeout: 30_000 }, async () => {
  const r = await rig(null);
  try {
    r.s.write(text(5, 'secret'));
    await waitFor('the connection to close', () => r.closed(), 5000);
    assert.equal(r.hex(), '');
  } finally {
    await r.close();
  }
});

test('reassembly asks the protocol for a re-send request when the last part arrives with gaps, and writes it after that frame\'s reply', { timeout: 30_000 }, async () => {
  const r = await rig(null);
  try {
    r.s.write(Buffer.concat([frame(7, 0, 4, 0xaa), frame(7, 3, 4, 0xdd)]));
    await waitFor('two ACKs and the request', () => r.hex() === '07' + '07' + '52' + '0102', 5000);
    assert.equal(r.channel.counters.resendRequests, 1);
  } finally {
    await r.close();
  }
});
