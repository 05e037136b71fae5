import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readHexSource } from '../../src/cli/hex-input.js';
import { cutFrames } from '../../src/net/cut-frames.js';
import { getProtocol } from '../../src/protocol/registry.js';
import type { DeviceClient } from '../../src/replay/device-client.js';
import { planFrames, type PlannedFrame } from '../../src/replay/frame-plan.js';
import { projectRoot } from '../../src/util/paths.js';

/** The simulated Ruptela tachograph download of fixtures/sessions/ (README there), as the tests play it. */
export const SESSIONS = join(projectRoot(), 'fixtures', 'sessions');
export const DEVICE_FILE = join(SESSIONS, 'ruptela-tacho-device.hex');
export const TACHO_IDENT = '868204004248349';

/** The session's frames, each with the server's expected answer. */
export async function steps(): Promise<PlannedFrame[]> {
  const proto = await getProtocol('ruptela');
  return planFrames(proto, [...cutFrames(proto, readHexSource(DEVICE_FILE), 'tcp')], 'tcp');
}

/** The file the simulated device holds: its cmd 11 fragments' data in order. */
export function deviceFile(plan: PlannedFrame[]): Buffer {
  return Buffer.concat(plan.filter((f) => !f.server && f.bytes[10] === 11).map((f) => Buffer.from(f.bytes.subarray(13, f.bytes.length - 2))));
}

export const isFragment = (f: PlannedFrame) => !f.server && f.bytes[10] === 11;
export const isAnnouncement = (f: PlannedFrame) => !f.server && f.bytes[10] === 12;

/** Plays frames: sends the device's and checks each answer, waits for the server's. */
export async function play(client: DeviceClient, plan: PlannedFrame[]): Promise<void> {
  for (const f of plan) {
    const o = f.server ? await client.receive(f.bytes, 8000) : await client.send(f.bytes, f.expected, 8000);
    assert.equal(o.kind, 'acked', `${f.server ? 'server frame' : 'reply to'} ${Buffer.from(f.bytes).toString('hex').slice(0, 40)}…: ${JSON.stringify(o)}`);
  }
}
