import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMEI, startRig } from './support/command-fakes.js';
import { killChildWhen } from './support/kill-child.js';

test('SIGKILL while commands are being queued: every command announced as queued survives, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cmdkill-'));
  try {
    const announced: string[] = [];
    await killChildWhen(
      'commands-kill-child.js',
      [dir],
      (l) => announced.push(l),
      () => announced.length >= 60,
      () => `only ${announced.length} commands queued in 30 s`,
    );
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
