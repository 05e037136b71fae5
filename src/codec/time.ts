import { EdgeError } from '../errors.js';

/**
 * Device times are always built in UTC. A protocol whose devices send local time takes the offset
 * as an explicit option; it is never guessed from the server's zone.
 */
export function utcSeconds(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new EdgeError('EDGE_DECODE_INVALID', `impossible date ${year}-${month}-${day} ${hour}:${minute}:${second}`);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
}


export interface CivilTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * Unix seconds → calendar fields in UTC by arithmetic (civil-from-days, H. Hinnant's algorithm):
 * for pure modules, which the lint keeps free of `Date` (and of any hint of a clock).
 */
export function civilFromUnix(unixS: number): CivilTime {
  const days = Math.floor(unixS / 86400);
  const sod = unixS - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, hour: Math.floor(sod / 3600), minute: Math.floor((sod % 3600) / 60), second: sod % 60 };
}
