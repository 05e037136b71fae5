import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';
import { FileCredentialStore } from './credential-store.js';

const set = (s: FileCredentialStore, ch: string, ident: string, code: string) => new Promise<void>((resolve, reject) => s.set(ch, ident, code, (e) => (e ? reject(e) : resolve())));

test('FileCredentialStore keeps codes per channel across reopen; the last code of an ident wins; a torn tail is dropped and reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cred-unit-'));
  try {
    const a = new FileCredentialStore({ dir, fsync: true });
    await a.open(['1', 'x.y']);
    await set(a, '1', '13800138000', 'aaaa');
    await set(a, '1', '13800138000', 'bbbb');
    await set(a, 'x.y', '13800138000', 'cccc');
    assert.equal(a.get('1', '13800138000'), 'bbbb');
    assert.equal(a.get('1', 'other'), undefined);
    await assert.rejects(set(a, 'nope', 'i', 'c'), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CREDENTIAL_STORE_FAILED', 'a channel not opened');
    await assert.rejects(set(a, '1', 'i', ''), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CREDENTIAL_STORE_FAILED', 'an empty code');
    await a.close();
    // a crash mid-append leaves a partial record behind the valid ones
    appendFileSync(join(dir, 'channel-1.log'), Buffer.from([0x45, 0x44, 0x53, 0x50, 0x40, 0, 0]));
    const corrupt: string[] = [];
    const b = new FileCredentialStore({ dir, fsync: true, onCorrupt: (i) => corrupt.push(i.reason) });
    await b.open(['1', 'x.y']);
    assert.equal(b.get('1', '13800138000'), 'bbbb');
    assert.equal(b.get('x.y', '13800138000'), 'cccc', 'channels are separate logs');
    assert.equal(corrupt.length, 1);
    assert.match(corrupt[0]!, /7 bytes/);
    await set(b, '1', '2', 'dddd');
    await b.close();
    const c = new FileCredentialStore({ dir, fsync: false });
    await c.open(['1']);
    assert.equal(c.get('1', '2'), 'dddd', 'appends after the repair are read back');
    // two stores on one directory: the second is refused (one process per directory)
    await assert.rejects(new FileCredentialStore({ dir, fsync: false }).open(['1']), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CREDENTIAL_STORE_FAILED');
    await c.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileCredentialStore compacts a log that outgrew its live codes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cred-compact-'));
  try {
    const s = new FileCredentialStore({ dir, fsync: false });
    await s.open(['1']);
    // one terminal registering again and again: the log grows, the live set stays one code
    for (let i = 0; i < 2000; i++) await set(s, '1', '13800138000', `code-${i}`.padEnd(40, 'x'));
    const size = statSync(join(dir, 'channel-1.log')).size;
    assert.ok(size < 64 * 1024 + 200, `compacted (${size} bytes)`);
    await s.close();
    const again = new FileCredentialStore({ dir, fsync: false });
    await again.open(['1']);
    assert.equal(again.get('1', '13800138000'), 'code-1999'.padEnd(40, 'x'));
    assert.ok(readFileSync(join(dir, 'channel-1.log')).length > 0);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
