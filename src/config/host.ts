import { isIP } from 'node:net';

/**
 * A listen address as the config accepts it: an IPv4 or IPv6 literal, or a host name (RFC 1123
 * labels). Dotted numbers that are not a valid IPv4 address (`999.1.1.1`) are rejected here
 * rather than reported at bind time as a port problem.
 */
export const HOST_FORM = 'an IP address (e.g. 0.0.0.0, 127.0.0.1, ::) or a host name';

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function isValidHost(s: string): boolean {
  if (isIP(s) !== 0) return true;
  if (s.includes(':')) return false; // not a valid IPv6 literal
  if (/^[0-9.]+$/.test(s)) return false; // looks like IPv4 but is not one
  if (s.length > 253) return false;
  return s.split('.').every((l) => LABEL.test(l));
}
