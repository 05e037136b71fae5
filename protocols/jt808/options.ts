/**
 * Reads the channel's protocol options (merged over DEFAULT_OPTIONS by the runtime). The server
 * checks them against the declared specs (index.ts) before it starts; this check stays for callers
 * that decode without the server (CLI, benches, tests), where a wrong type is the same config error.
 */
import { EdgeError } from '../../src/errors.js';
import { IDENTIFICATION_VARIANTS, type IdentificationBytes } from './attachments/variants.js';
import { DEFAULT_OPTIONS, type Jt808Options } from './constants.js';

export function readOptions(o: Readonly<Record<string, unknown>>): Jt808Options {
  const tz = o.timezone_offset_minutes ?? DEFAULT_OPTIONS.timezone_offset_minutes;
  const profile = o.device_profile ?? DEFAULT_OPTIONS.device_profile;
  const lenient = o.lenient_check ?? DEFAULT_OPTIONS.lenient_check;
  const auth = o.auth_code ?? DEFAULT_OPTIONS.auth_code;
  if (typeof tz !== 'number' || !Number.isInteger(tz) || tz < -720 || tz > 840) {
    throw new EdgeError('EDGE_CONFIG_INVALID', `options.timezone_offset_minutes expects an integer -720..840 (minutes east of UTC), got ${JSON.stringify(tz)}`);
  }
  if (profile !== 'standard' && profile !== 'active_safety') {
    throw new EdgeError('EDGE_CONFIG_INVALID', `options.device_profile expects "standard" or "active_safety", got ${JSON.stringify(profile)}`);
  }
  if (typeof lenient !== 'boolean') throw new EdgeError('EDGE_CONFIG_INVALID', `options.lenient_check expects true or false, got ${JSON.stringify(lenient)}`);
  if (auth !== 'issued' && auth !== 'derived' && auth !== 'accept') throw new EdgeError('EDGE_CONFIG_INVALID', `options.auth_code expects "issued", "derived" or "accept", got ${JSON.stringify(auth)}`);
  const safety = o.active_safety ?? DEFAULT_OPTIONS.active_safety;
  if (typeof safety !== 'boolean') throw new EdgeError('EDGE_CONFIG_INVALID', `options.active_safety expects true or false, got ${JSON.stringify(safety)}`);
  const idBytes = o.alarm_identification_bytes ?? DEFAULT_OPTIONS.alarm_identification_bytes;
  if (!IDENTIFICATION_VARIANTS.includes(idBytes as IdentificationBytes)) {
    throw new EdgeError('EDGE_CONFIG_INVALID', `options.alarm_identification_bytes expects one of ${IDENTIFICATION_VARIANTS.join(', ')}, got ${JSON.stringify(idBytes)}`);
  }
  // `active_safety: true` and `device_profile: "active_safety"` are one switch under two names: the
  // profile came first (a set of vendor behaviours), the boolean is what the video issue documents.
  const activeSafety = safety || profile === 'active_safety';
  return {
    timezone_offset_minutes: tz,
    device_profile: activeSafety ? 'active_safety' : 'standard',
    lenient_check: lenient,
    auth_code: auth,
    active_safety: activeSafety,
    alarm_identification_bytes: idBytes as IdentificationBytes,
  };
}
