import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { IMEI, startRig } from '../src/commands/test-fakes.js';

test('SIGKILL while commands are being queued: every command announced as queued survives, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cmdkill-'));
  try {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist/test/support/commands-kill-child.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const announced: string[] = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${announced.length} commands queued in 30 s`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        announced.push(...lines);
        if (announced.length >= 60 && !child.killed) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => {
        if (!child.killed) reject(new Error(`child exited by itself (${code})`));
      });
    });
    await new Promise((r) => child.once('close', r));
    announced.forEach((id, i) => assert.equal(id, `k${String(i).padStart(6, '0')}`, 'queued events came in request order'));
    // the child cancels command j after queuing j + 2 (j % 5 == 2): such a cancel may or may not have
    // become durable before the kill, so those commands may be present or gone
    const maybeCanceled = new Set(announced.filter((_, j) => j % 5 === 2));
    const last = announced.at(-1)!;
    const rig = await startRig({ dir });
    try {
      const held = rig.svc.heldFor('1', IMEI).map((h) => h.id);
      for (const id of announced) if (!maybeCanceled.has(id)) assert.ok(held.includes(id), `${id} was announced as queued and must survive`);
      for (const id of held) assert.ok(announced.includes(id) || id > last, `${id} is a command the child queued`);
      assert.deepEqual([...held].sort(), held, 'in the order they were queued');
      // the log is appended in order: once a later command is durable, an earlier cancel is too
      announced.forEach((id, j) => {
        if (j % 5 === 2 && j + 3 < announced.length) assert.ok(!held.includes(id), `${id} was canceled before k${j + 3} was queued`);
      });
    } finally {
      await rig.close(true);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
