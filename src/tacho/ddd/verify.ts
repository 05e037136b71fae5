/**
 * Signature verification with Node's crypto only (Annex IC Appendix 11): a chain from configured
 * European root keys (ERCA) through the member-state certificate to the card or VU certificate,
 * then each signed EF or VU transfer. Nothing is trusted that does not chain to a configured root;
 * without roots every check says "not verified" and why.
 */
import { createHash, createPublicKey, publicDecrypt, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { EdgeError } from '../../errors.js';
import { CURVES, parseGen2, type Certificate, type Gen1Certificate, type Gen2Parsed } from './certificates.js';
import { hex, isoTime } from './primitives.js';

export interface SignatureCheck {
  /** What was checked: `certificate <CHR or CAR>`, `EF 0520 g1`, `transfer 01 @ 0`. */
  object: string;
  offset: number;
  verified: boolean;
  reason?: string;
}

type TrustedKey = { kind: 'rsa'; key: KeyObject } | { kind: 'ec'; key: KeyObject; hash: 'sha256' | 'sha384' | 'sha512' };

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function rsaKey(n: Uint8Array, e: Uint8Array): KeyObject {
  let i = 0;
  while (i < e.length - 1 && e[i] === 0) i++;
  return createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e.subarray(i)) }, format: 'jwk' });
}

function derLen(n: number): number[] {
  return n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
}

function der(tag: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([tag, ...derLen(body.length), ...body]);
}

/** SubjectPublicKeyInfo for an EC point on the named curve, so createPublicKey can load it. */
function ecKey(curveOid: Uint8Array, point: Uint8Array): KeyObject {
  const algo = der(0x30, Uint8Array.from([...der(0x06, Uint8Array.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])), ...der(0x06, curveOid)]));
  const spki = der(0x30, Uint8Array.from([...algo, ...der(0x03, Uint8Array.from([0, ...point]))]));
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

function ecTrusted(p: Gen2Parsed): TrustedKey {
  const c = CURVES[hex(p.curveOid)];
  if (!c) throw new Error(`curve ${hex(p.curveOid)} is not one of Appendix 11`);
  return { kind: 'ec', key: ecKey(p.curveOid, p.point), hash: c.hash };
}

/** RSA without padding: m = s^e mod n (Gen1 certificates use ISO 9796-2 recovery, data PKCS#1 v1.5 with SHA-1). */
function rsaOpen(key: KeyObject, s: Uint8Array): Buffer {
  return publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, s);
}

const SHA1_DIGEST_INFO = Buffer.from('3021300906052b0e03021a05000414', 'hex');

export class TrustStore {
  private readonly keys = new Map<string, TrustedKey>();
  readonly configured: boolean;

  /** `roots`: Gen1 ERCA public keys (144 bytes: KID, modulus, exponent) and/or Gen2 ERCA root certificates. */
  constructor(roots: readonly Uint8Array[] = []) {
    this.configured = roots.length > 0;
    roots.forEach((r, i) => {
      try {
        if (r.length === 144) this.keys.set(hex(r.subarray(0, 8)), { kind: 'rsa', key: rsaKey(r.subarray(8, 136), r.subarray(136, 144)) });
        else {
          const p = parseGen2(r, 0);
          this.keys.set(p.cert.chr, ecTrusted(p));
        }
      } catch (e) {
        throw new EdgeError('EDGE_DDD_INVALID', `root key ${i + 1} is neither a 144-byte Gen1 ERCA key nor a Gen2 root certificate: ${(e as Error).message}`);
      }
    });
  }

  private missing(): string {
    return this.configured ? 'no trusted key' : 'no root keys configured';
  }

  /** Opens a Gen1 certificate with the key named by its CAR; on success its holder key becomes trusted. */
  openGen1(c: Gen1Certificate, raw: Uint8Array): SignatureCheck {
    const check: SignatureCheck = { object: `certificate (Gen1, signed by ${c.car})`, offset: c.offset, verified: false };
    const issuer = this.keys.get(c.car);
    if (!issuer || issuer.kind !== 'rsa') return { ...check, reason: `${this.missing()} for CAR ${c.car}` };
    let sr: Buffer;
    try {
      sr = rsaOpen(issuer.key, raw.subarray(0, 128));
    } catch (e) {
      return { ...check, reason: `RSA operation failed: ${(e as Error).message}` };
    }
    if (sr[0] !== 0x6a || sr[127] !== 0xbc) return { ...check, reason: 'recovered block does not have the 6A…BC frame' };
    const content = Buffer.concat([sr.subarray(1, 107), raw.subarray(128, 186)]);
    if (!createHash('sha1').update(content).digest().equals(sr.subarray(107, 127))) return { ...check, reason: 'hash of the certificate content does not match' };
    if (hex(content.subarray(1, 9)) !== c.car) return { ...check, reason: 'CAR inside the certificate differs from the outer CAR' };
    c.cha = hex(content.subarray(9, 16));
    c.endOfValidity = isoTime(content.readUInt32BE(16));
    c.chr = hex(content.subarray(20, 28));
    this.keys.set(c.chr, { kind: 'rsa', key: rsaKey(content.subarray(28, 156), content.subarray(156, 164)) });
    return { ...check, object: `certificate ${c.chr}`, verified: true };
  }

  /** Verifies a Gen2 certificate with its issuer's key (hash by the issuer's curve); on success its key becomes trusted. */
  verifyGen2(p: Gen2Parsed): SignatureCheck {
    const check: SignatureCheck = { object: `certificate ${p.cert.chr}`, offset: p.cert.offset, verified: false };
    const issuer = this.keys.get(p.cert.car);
    if (!issuer || issuer.kind !== 'ec') return { ...check, reason: `${this.missing()} for CAR ${p.cert.car}` };
    let ok = false;
    try {
      ok = cryptoVerify(issuer.hash, p.body, { key: issuer.key, dsaEncoding: 'ieee-p1363' }, p.signature);
    } catch (e) {
      return { ...check, reason: `ECDSA failed: ${(e as Error).message}` };
    }
    if (!ok) return { ...check, reason: 'ECDSA signature does not verify' };
    try {
      this.keys.set(p.cert.chr, ecTrusted(p));
    } catch (e) {
      return { ...check, reason: (e as Error).message };
    }
    return { ...check, verified: true };
  }

  /** A data signature (card EF, VU transfer) made with the key of certificate `holder`. */
  verifyData(object: string, offset: number, holder: Certificate | undefined, data: Uint8Array, sig: Uint8Array): SignatureCheck {
    const check: SignatureCheck = { object, offset, verified: false };
    if (!holder) return { ...check, reason: 'the file has no certificate for this signature' };
    const id = holder.chr;
    const key = id === undefined ? undefined : this.keys.get(id);
    if (!key) return { ...check, reason: holder.generation === 1 && id === undefined ? 'the certificate could not be opened' : `${this.missing()} for ${id}` };
    try {
      if (key.kind === 'rsa') {
        if (sig.length !== 128) return { ...check, reason: `a Gen1 signature is 128 bytes, this one ${sig.length}` };
        const m = rsaOpen(key.key, sig);
        const want = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(128 - 3 - 35, 0xff), Buffer.from([0]), SHA1_DIGEST_INFO, createHash('sha1').update(data).digest()]);
        return m.equals(want) ? { ...check, verified: true } : { ...check, reason: 'RSA signature does not match the SHA-1 of the data' };
      }
      return cryptoVerify(key.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, sig) ? { ...check, verified: true } : { ...check, reason: 'ECDSA signature does not verify' };
    } catch (e) {
      return { ...check, reason: `signature check failed: ${(e as Error).message}` };
    }
  }
}

export interface SignatureSummary {
  verified: boolean;
  reason: string;
  checks: SignatureCheck[];
}

export function summarizeChecks(checks: SignatureCheck[], store: TrustStore, signatures: number): SignatureSummary {
  if (signatures === 0) return { verified: false, reason: 'the file carries no signatures', checks };
  if (!store.configured) return { verified: false, reason: 'no root keys configured: certificates and signatures are parsed, not verified', checks };
  const failed = checks.filter((c) => !c.verified);
  if (failed.length === 0) return { verified: true, reason: `${checks.length} certificate and signature checks passed`, checks };
  return { verified: false, reason: `${failed.length} of ${checks.length} checks failed (first: ${failed[0]!.object}: ${failed[0]!.reason ?? ''})`, checks };
}
