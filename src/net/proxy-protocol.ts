/**
 * PROXY protocol header parser, versions 1 (text) and 2 (binary), as specified by HAProxy
 * ("The PROXY protocol", haproxy.org/download/2.9/doc/proxy-protocol.txt, sections 2.1 and 2.2).
 * A load balancer (HAProxy `send-proxy`/`send-proxy-v2`, NGINX stream `proxy_protocol on`, AWS NLB
 * proxy protocol v2) writes it once at the start of each TCP connection, before any device byte,
 * so the server learns the device's real address.
 *
 * Pure and incremental: given the bytes received so far it answers "need more", "malformed (why)"
 * or "done, consumed N bytes, source is X". Why not the npm package proxy-protocol-js (4.0.6): it
 * parses a complete buffer and reports a short header and a bad one with the same exception, so a
 * stream reader cannot tell "wait for the next chunk" from "close now", nor how many bytes belong to
 * the header; the part we need is small enough to own with full conformance tests.
 */
import ipaddr from 'ipaddr.js';

export type ProxyHeaderResult =
  | { kind: 'more' }
  | { kind: 'error'; reason: string }
  | {
      kind: 'ok';
      version: 1 | 2;
      /** Bytes of the header; what follows is the device's stream. */
      consumed: number;
      /**
       * The device's address as the proxy saw it; null when the header carries none (v1 UNKNOWN,
       * v2 LOCAL such as a health check, v2 UNSPEC or UNIX): the spec says to use the real
       * connection endpoints then.
       */
      source: { address: string; port: number } | null;
    };

/** v2 signature: \r\n\r\n\0\r\nQUIT\n (12 bytes). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included (spec 2.1: 107 bytes for "PROXY TCP6 ..." at its longest). */
export const PROXY_V1_MAX = 107;
/** The longest v2 header: 16 fixed bytes and a 16-bit length. */
export const PROXY_V2_MAX = 16 + 0xffff;

function isPrefixOf(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

export function parseProxyHeader(buf: Buffer): ProxyHeaderResult {
  if (buf.length === 0) return { kind: 'more' };
  if (isPrefixOf(buf, PROXY_V2_SIGNATURE)) return buf.length < PROXY_V2_SIGNATURE.length ? { kind: 'more' } : parseV2(buf);
  if (isPrefixOf(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? { kind: 'more' } : parseV1(buf);
  return { kind: 'error', reason: 'no PROXY protocol header (neither the v1 "PROXY " text nor the v2 signature)' };
}

// ---- v1 ----

function parseV1(buf: Buffer): ProxyHeaderResult {
  const limit = Math.min(buf.length, PROXY_V1_MAX);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const c = buf[i]!;
    if (c === 0x0d) {
      if (i + 1 >= buf.length) return { kind: 'more' };
      if (buf[i + 1] !== 0x0a) return { kind: 'error', reason: 'v1: CR not followed by LF' };
      end = i;
      break;
    }
    if (c === 0x0a) return { kind: 'error', reason: 'v1: LF without CR' };
    if (c < 0x20 || c > 0x7e) return { kind: 'error', reason: `v1: byte 0x${c.toString(16).padStart(2, '0')} at offset ${i} is not printable ASCII` };
  }
  if (end < 0) return buf.length < PROXY_V1_MAX ? { kind: 'more' } : { kind: 'error', reason: `v1: no CRLF within ${PROXY_V1_MAX} bytes` };
  const consumed = end + 2;
  const line = buf.toString('latin1', V1_PREFIX.length, end);
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return { kind: 'ok', version: 1, consumed, source: null };
  const f = line.split(' ');
  if (f.length !== 5) return { kind: 'error', reason: `v1: expected "TCP4|TCP6 src dst sport dport", got ${f.length} fields` };
  const [proto, src, dst, sport, dport] = f as [string, string, string, string, string];
  if (proto !== 'TCP4' && proto !== 'TCP6') return { kind: 'error', reason: `v1: protocol ${JSON.stringify(proto)} is not TCP4, TCP6 or UNKNOWN` };
  for (const [what, a] of [['source', src], ['destination', dst]] as const) {
    const ok = proto === 'TCP4' ? ipaddr.IPv4.isValidFourPartDecimal(a) : a.includes(':') && ipaddr.IPv6.isValid(a);
    if (!ok) return { kind: 'error', reason: `v1: ${what} address ${JSON.stringify(a)} is not an ${proto === 'TCP4' ? 'IPv4' : 'IPv6'} address` };
  }
  const sp = v1Port(sport);
  const dp = v1Port(dport);
  if (sp < 0 || dp < 0) return { kind: 'error', reason: `v1: port ${JSON.stringify(sp < 0 ? sport : dport)} is not 0..65535` };
  const address = proto === 'TCP4' ? src : v6Text(ipaddr.IPv6.parse(src));
  return { kind: 'ok', version: 1, consumed, source: { address, port: sp } };
}

/** Decimal, no sign, no leading zero (spec 2.1), 0..65535; -1 otherwise. */
function v1Port(s: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

// ---- v2 ----

/** Address block sizes per family (spec 2.2): INET 4+4+2+2, INET6 16+16+2+2, UNIX 108+108. */
const V2_ADDR_LEN: Record<number, number> = { 0: 0, 1: 12, 2: 36, 3: 216 };

function parseV2(buf: Buffer): ProxyHeaderResult {
  if (buf.length < 16) return { kind: 'more' };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { kind: 'error', reason: `v2: version ${verCmd >> 4} (only 2 is defined)` };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'error', reason: `v2: command ${cmd} (0 LOCAL and 1 PROXY are defined)` };
  const famByte = buf[13]!;
  const family = famByte >> 4;
  const transport = famByte & 0x0f;
  if (family > 3) return { kind: 'error', reason: `v2: address family ${family} (0..3 are defined)` };
  if (transport > 2) return { kind: 'error', reason: `v2: transport ${transport} (0..2 are defined)` };
  const len = buf.readUInt16BE(14);
  const need = V2_ADDR_LEN[family]!;
  // LOCAL ignores the address block, but a PROXY header must be long enough for its family
  if (cmd === 1 && len < need) return { kind: 'error', reason: `v2: length ${len} is shorter than the ${need}-byte address block of family ${family}` };
  if (buf.length < 16 + len) return { kind: 'more' };
  const consumed = 16 + len;
  // TLVs after the address block (ALPN, authority, CRC32C, SSL, NETNS, vendor) are skipped: none changes the source address
  if (cmd === 0 || family === 0 || family === 3) return { kind: 'ok', version: 2, consumed, source: null };
  if (family === 1) {
    const address = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`;
    return { kind: 'ok', version: 2, consumed, source: { address, port: buf.readUInt16BE(24) } };
  }
  const parts: number[] = [];
  for (let i = 0; i < 8; i++) parts.push(buf.readUInt16BE(16 + i * 2));
  const address = v6Text(new ipaddr.IPv6(parts));
  return { kind: 'ok', version: 2, consumed, source: { address, port: buf.readUInt16BE(48) } };
}

/** Canonical text; an IPv4-mapped address in its IPv4 form, as guards, counters and logs spell IPv4 peers. */
function v6Text(a: ipaddr.IPv6): string {
  return a.isIPv4MappedAddress() ? a.toIPv4Address().toString() : a.toString();
}

/** Builds a v2 PROXY header (tests, the bench and replay tools act as a load balancer with it). */
export function buildProxyV2(src: { address: string; port: number }, dst: { address: string; port: number }, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(src.address);
  const addr = Buffer.alloc(v4 ? 12 : 36);
  if (v4) {
    Buffer.from(ipaddr.IPv4.parse(src.address).toByteArray()).copy(addr, 0);
    Buffer.from(ipaddr.IPv4.parse(dst.address).toByteArray()).copy(addr, 4);
    addr.writeUInt16BE(src.port, 8);
    addr.writeUInt16BE(dst.port, 10);
  } else {
    Buffer.from(ipaddr.IPv6.parse(src.address).toByteArray()).copy(addr, 0);
    Buffer.from(ipaddr.IPv6.parse(dst.address).toByteArray()).copy(addr, 16);
    addr.writeUInt16BE(src.port, 32);
    addr.writeUInt16BE(dst.port, 34);
  }
  const head = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(head, 0);
  head[12] = 0x21; // version 2, PROXY
  head[13] = v4 ? 0x11 : 0x21; // INET/INET6, STREAM
  head.writeUInt16BE(addr.length + tlvs.length, 14);
  return Buffer.concat([head, addr, tlvs]);
}
