/**
 * Synthetic Teltonika traffic for the e2e bench: one IMEI per simulated device, an IMEI login, then
 * Codec 8E AVL packets of R typical FMB records (protocols/teltonika/device-frames.ts: 11 IO elements)
 * with distinct, increasing times. The server answers each packet with the 4-byte record count.
 */
import { loginFrame, tcpAvlFrame, type SimRecord } from '../../protocols/teltonika/device-frames.js';
import { TS_BASE } from './ruptela-frames.js';

/** IMEIs of the e2e devices (base + device index), 15 digits. */
export const TELTONIKA_IMEI_BASE = 350_000_000_000_000;

export function teltonikaLogin(device: number): Uint8Array {
  return loginFrame(String(TELTONIKA_IMEI_BASE + device));
}

/** Packet `k`: records k*R .. k*R+R-1. */
export function teltonikaAvlFrame(k: number, recordsPerFrame: number): Uint8Array {
  const recs: SimRecord[] = Array.from({ length: recordsPerFrame }, (_, j) => {
    const idx = k * recordsPerFrame + j;
    return { timeMs: (TS_BASE + idx) * 1000, lat: 54.6872 + (idx % 1000) * 1e-5, lon: 25.2797 + (idx % 1000) * 1e-5, speedKmh: 30 + (idx % 60), odometerM: 1000 + idx * 25 };
  });
  return tcpAvlFrame(recs);
}

/** The ACK of an R-record packet. */
export function teltonikaAck(recordsPerFrame: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, recordsPerFrame);
}
