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

