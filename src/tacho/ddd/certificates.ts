/**
 * Certificates in tachograph data (Annex IC Appendix 11). Gen1: 194 bytes, RSA-1024 with a
 * message-recovery signature (ISO/IEC 9796-2): only the CAR is readable before the certificate is
 * opened with its issuer's key, the rest (holder, key) is recovered by `verify.ts`. Gen2: a BER-TLV
 * card-verifiable certificate (tag 7F21) that states everything in clear. Hand code: TLV nesting
 * with variable length forms is not a declarative fixed layout.
 */
import { EdgeError } from '../../errors.js';
import { hex, isoTime } from './primitives.js';

export interface Gen1Certificate {
  generation: 1;
  /** Offset of the certificate in the file. */
  offset: number;
  /** Key identifier of the authority that signed it. */
  car: string;
  signature: string;
  /** Known once opened with the issuer key (verify.ts). */
  chr?: string;
  cha?: string;
  endOfValidity?: string | null;
}

export interface Gen2Certificate {
  generation: 2;
  offset: number;
  car: string;
  chr: string;
  cha: string;
  curveOid: string;
  curve: string | null;
  publicPoint: string;
  effectiveDate: string | null;
  expiryDate: string | null;
  signature: string;
}

export type Certificate = Gen1Certificate | Gen2Certificate;

/** Curve OIDs (DER content bytes, hex) of Appendix 11 CSM_50 with their key size and hash. */
export const CURVES: Record<string, { name: string; bits: number; hash: 'sha256' | 'sha384' | 'sha512' }> = {
  '2b2403030208010107': { name: 'brainpoolP256r1', bits: 256, hash: 'sha256' },
  '2b240303020801010b': { name: 'brainpoolP384r1', bits: 384, hash: 'sha384' },
  '2b240303020801010d': { name: 'brainpoolP512r1', bits: 512, hash: 'sha512' },
  '2a8648ce3d030107': { name: 'P-256', bits: 256, hash: 'sha256' },
  '2b81040022': { name: 'P-384', bits: 384, hash: 'sha384' },
  '2b81040023': { name: 'P-521', bits: 521, hash: 'sha512' },
};

/** All-zero (or all-FF) certificate objects mean "no certificate" (a real Gen2 card's link certificate). */
export function isBlank(b: Uint8Array): boolean {
  return b.every((x) => x === 0) || b.every((x) => x === 0xff);
}

export function parseGen1Certificate(b: Uint8Array, offset: number): Gen1Certificate {
  if (b.length !== 194) throw new EdgeError('EDGE_DDD_INVALID', `a Gen1 certificate is 194 bytes, this one ${b.length}`, offset);
  return { generation: 1, offset, car: hex(b.subarray(186, 194)), signature: hex(b.subarray(0, 128)) };
}

export interface Tlv {
  tag: number;
  /** Absolute offsets inside the buffer given to readTlv. */
  start: number;
  valueStart: number;
  end: number;
}

/** One BER-TLV object (tags up to 2 bytes, length forms 1, 81 xx, 82 xx xx). */
export function readTlv(b: Uint8Array, at: number, end: number, base: number): Tlv {
  const fail = (why: string): never => {
    throw new EdgeError('EDGE_DDD_INVALID', `certificate: ${why}`, base + at);
  };
  let p = at;
  if (p >= end) fail('ends before a tag');
  let tag = b[p++]!;
  if ((tag & 0x1f) === 0x1f) {
    if (p >= end) fail('ends inside a tag');
    tag = (tag << 8) | b[p++]!;
  }
  if (p >= end) fail('ends before a length');
  let len = b[p++]!;
  if (len === 0x81 || len === 0x82) {
    const n = len - 0x80;
    if (p + n > end) fail('ends inside a length');
    len = n === 1 ? b[p]! : (b[p]! << 8) | b[p + 1]!;
    p += n;
  } else if (len > 0x80) fail(`length form 0x${len.toString(16)} is not used by tachograph certificates`);
  if (p + len > end) fail(`object 0x${tag.toString(16)} of ${len} bytes does not fit`);
  return { tag, start: at, valueStart: p, end: p + len };
}

function children(b: Uint8Array, t: Tlv, base: number): Map<number, Tlv> {
  const m = new Map<number, Tlv>();
  for (let p = t.valueStart; p < t.end; ) {
    const c = readTlv(b, p, t.end, base);
    m.set(c.tag, c);
    p = c.end;
  }
  return m;
}

export interface Gen2Parsed {
  cert: Gen2Certificate;
  /** The encoded body (7F4E tag, length and value): what the issuer signed. */
  body: Uint8Array;
  signature: Uint8Array;
  curveOid: Uint8Array;
  point: Uint8Array;
}

export function parseGen2(b: Uint8Array, offset: number): Gen2Parsed {
  const outer = readTlv(b, 0, b.length, offset);
  const bad = (why: string): never => {
    throw new EdgeError('EDGE_DDD_INVALID', `Gen2 certificate: ${why}`, offset);
  };
  if (outer.tag !== 0x7f21) bad(`starts with tag 0x${outer.tag.toString(16)}, not 7F21`);
  const top = children(b, outer, offset);
  const bodyT = top.get(0x7f4e) ?? bad('has no body (7F4E)');
  const sigT = top.get(0x5f37) ?? bad('has no signature (5F37)');
  const f = children(b, bodyT, offset);
  const v = (tag: number, what: string) => {
    const t = f.get(tag) ?? bad(`has no ${what}`);
    return b.subarray(t.valueStart, t.end);
  };
  const pk = f.get(0x7f49) ?? bad('has no public key (7F49)');
  const pkf = children(b, pk, offset);
  const oidT = pkf.get(0x06) ?? bad('has no curve OID');
  const ptT = pkf.get(0x86) ?? bad('has no public point');
  const curveOid = b.subarray(oidT.valueStart, oidT.end);
  const point = b.subarray(ptT.valueStart, ptT.end);
  const u32 = (x: Uint8Array) => (x.length === 4 ? ((x[0]! << 24) | (x[1]! << 16) | (x[2]! << 8) | x[3]!) >>> 0 : 0);
  const signature = b.subarray(sigT.valueStart, sigT.end);
  const cert: Gen2Certificate = {
    generation: 2,
    offset,
    car: hex(v(0x42, 'CAR')),
    chr: hex(v(0x5f20, 'CHR')),
    cha: hex(v(0x5f4c, 'CHA')),
    curveOid: hex(curveOid),
    curve: CURVES[hex(curveOid)]?.name ?? null,
    publicPoint: hex(point),
    effectiveDate: isoTime(u32(v(0x5f25, 'effective date'))),
    expiryDate: isoTime(u32(v(0x5f24, 'expiry date'))),
    signature: hex(signature),
  };
  return { cert, body: b.subarray(bodyT.start, bodyT.end), signature, curveOid, point };
}
