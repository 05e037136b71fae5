import type { H264Config } from './avcc.js';
import { parsePpsIds, parseSps, type SpsInfo } from './sps.js';

/**
 * The parameter sets in force for a stream. Dashcams repeat SPS/PPS before every IDR, so the
 * common case is bytes equal to what is held: compared, not parsed again.
 */
export class ParameterSets {
  private sps: Uint8Array | undefined;
  private info: SpsInfo | undefined;
  private readonly pps = new Map<number, { bytes: Uint8Array; spsId: number }>();

  /** Takes an SPS NAL unit (copied: the caller's buffer may be reused); throws a typed error when it does not parse. */
  setSps(nal: Uint8Array): void {
    if (this.sps && equalBytes(this.sps, nal)) return;
    this.info = parseSps(nal);
    this.sps = nal.slice();
  }

  setPps(nal: Uint8Array): void {
    const { ppsId, spsId } = parsePpsIds(nal);
    const held = this.pps.get(ppsId);
    if (held && equalBytes(held.bytes, nal)) return;
    this.pps.set(ppsId, { bytes: nal.slice(), spsId });
  }

  /** The configuration to announce: the SPS and the PPSs that refer to it; none until both are known. */
  config(): H264Config | undefined {
    if (!this.sps || !this.info) return undefined;
    const spsId = this.info.spsId;
    const pps = [...this.pps.entries()]
      .filter(([, p]) => p.spsId === spsId)
      .sort(([a], [b]) => a - b)
      .map(([, p]) => p.bytes);
    return pps.length > 0 ? { sps: this.sps, info: this.info, pps } : undefined;
  }
}

export function sameConfig(a: H264Config, b: H264Config | undefined): boolean {
  return b !== undefined && equalBytes(a.sps, b.sps) && a.pps.length === b.pps.length && a.pps.every((p, i) => equalBytes(p, b.pps[i]!));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
