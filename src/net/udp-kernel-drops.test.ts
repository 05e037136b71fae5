import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDrops, udpKernelDrops } from './udp-kernel-drops.js';

// Two sockets in the layout of Linux's /proc/net/udp: port 0x13C6 (5062) with 17 drops, 0x0035 (53) with 0.
const SAMPLE = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  120: 00000000:13C6 00000000:0000 07 00000000:00034000 00 00000000:00000000 00000000     0        0 912345 2 0000000000000000 17',
  '  121: 3500007F:0035 00000000:0000 07 00000000:00000000 00 00000000:00000000 00000000   101        0 18734 2 0000000000000000 0',
].join('\n');

test('parseDrops sums the drops column of the sockets bound to a port', () => {
  assert.equal(parseDrops(SAMPLE, ':13C6'), 17);
  assert.equal(parseDrops(SAMPLE, ':0035'), 0);
  assert.equal(parseDrops(SAMPLE, ':1F90'), 0);
});

test('udpKernelDrops reads the proc files, adds IPv4 and IPv6, and is null when the port is absent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-proc-'));
  try {
    const v4 = join(dir, 'udp');
    const v6 = join(dir, 'udp6');
    writeFileSync(v4, SAMPLE);
    writeFileSync(v6, SAMPLE.split('\n')[0] + '\n   5: 00000000000000000000000000000000:13C6 00000000000000000000000000000000:0000 07 00000000:00000000 00 00000000:00000000 00000000 0 0 1 2 0000000000000000 3');
    assert.equal(await udpKernelDrops(5062, [v4, v6]), 20);
    assert.equal(await udpKernelDrops(8080, [v4, v6]), null);
    assert.equal(await udpKernelDrops(5062, [join(dir, 'missing')]), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
