/**
 * Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d. Counters and reports use the plain IPv4
 * form, so both spellings are one source (the same address operators write in their lists).
 */
export function peerIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
