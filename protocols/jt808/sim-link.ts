/**
 * What every simulated JT/T 808 terminal does on its links (the dashcam, the camera, the video
 * bench's cameras): read the server's frames by message id, and sign in (0x0100 registration, the
 * issued code back in 0x0102). A step that does not happen is a SimStep: the simulation reports it,
 * anything else is a bug and is thrown.
 */
import type { SimSocket } from '../../src/protocol/types.js';
import type { DeviceFrames } from './attachments/device-frames.js';
import { MSG } from './constants.js';
import { readHeader, unescapeFrame } from './frame.js';
import { split } from './splitter.js';

export class SimStep extends Error {}

/** A server frame's message id, serial and body (unescaped, check byte off). */
export function serverMessage(frame: Uint8Array): { msgId: number; serial: number; body: Uint8Array } {
  const f = unescapeFrame(frame);
  const { header } = readHeader(f, false);
  return { msgId: header.msgId, serial: header.serial, body: f.subarray(header.bodyStart, f.length - 2) };
}

/** The body of the next server frame with `msgId` (others are skipped); SimStep when none comes in time. */
export async function expectFrame(s: SimSocket, msgId: number, timeoutMs: number, what: string): Promise<Uint8Array> {
  for (;;) {
    const f = await s.nextFrame(split, timeoutMs);
    if (!f) throw new SimStep(`${what}: no 0x${msgId.toString(16).padStart(4, '0')} from the server (${s.closed ? 'connection closed' : `nothing within ${timeoutMs} ms`})`);
    const m = serverMessage(f);
    if (m.msgId === msgId) return m.body;
  }
}

/** Registers and authenticates with the code the server issued; resolves once the server accepted. */
export async function signIn(main: SimSocket, dev: DeviceFrames, timeoutMs: number): Promise<void> {
  main.write(dev.registration());
  const reg = await expectFrame(main, MSG.registrationResponse, timeoutMs, 'registration');
  main.write(dev.authentication(String.fromCharCode(...reg.subarray(3))));
  await expectFrame(main, MSG.platformGeneralResponse, timeoutMs, 'authentication');
}
