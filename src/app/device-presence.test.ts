import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presenceOf, type HoldersPort } from './device-presence.js';

const local = new Set(['here']);
const base = { instanceId: 'edge-p0', isLocal: (i: string) => local.has(i) };

test('a device is connected here, at another process or instance (its holder in the shared ownership), or nowhere; one lookup for the rest', async () => {
  const asked: string[][] = [];
  const holders: HoldersPort = async (ch, idents) => {
    assert.equal(ch, '1');
    asked.push([...idents]);
    return idents.map((i) => (i === 'there' ? 'edge-p1' : i === 'stale' ? 'edge-p0' : null));
  };
  const p = await presenceOf({ ...base, holders }, '1', ['here', 'there', 'gone', 'stale']);
  assert.deepEqual(p, [
    { connected: true, connected_instance: 'edge-p0' },
    { connected: true, connected_instance: 'edge-p1' },
    { connected: false, connected_instance: null },
    // its key still names this process, which no longer holds it: the release has not landed yet
    { connected: false, connected_instance: null },
  ]);
  assert.deepEqual(asked, [['there', 'gone', 'stale']], 'local devices are not looked up');
  assert.deepEqual(await presenceOf({ ...base, holders }, '1', ['here']), [{ connected: true, connected_instance: 'edge-p0' }]);
  assert.equal(asked.length, 1, 'nothing to ask: no lookup');
});

test('without shared ownership this process is the truth; when Redis cannot answer, the answer says so', async () => {
  assert.deepEqual(await presenceOf({ ...base, holders: null }, '1', ['here', 'gone']), [
    { connected: true, connected_instance: 'edge-p0' },
    { connected: false, connected_instance: null },
  ]);
  const down: HoldersPort = async () => {
    throw new Error('connect ECONNREFUSED');
  };
  assert.deepEqual(await presenceOf({ ...base, holders: down }, '1', ['here', 'gone']), [
    { connected: true, connected_instance: 'edge-p0' },
    { connected: false, connected_instance: null, connected_error: 'device ownership cannot be read: connect ECONNREFUSED' },
  ]);
});
