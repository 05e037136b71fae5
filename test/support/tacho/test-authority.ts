/**
 * A test certification authority for signature tests: the public sample files carry no usable
 * certificates or signatures, so the tests make their own Gen1 (RSA-1024, ISO 9796-2 certificates,
 * PKCS#1 v1.5 SHA-1 signatures) and Gen2 (ECDSA P-256, card-verifiable certificates) chains with the
 * layouts of Annex IC Appendix 11, and sign the EFs of a sample file with them.
 */
import { constants, createHash, generateKeyPairSync, privateEncrypt, sign, type KeyObject } from 'node:crypto';

const cat = (...parts: (Uint8Array | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]);

export interface Gen1Key {
  id: Uint8Array;
  priv: KeyObject;
  n: Buffer;
  e: Buffer;
}

export function gen1Key(id: string): Gen1Key {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  const e = Buffer.from(jwk.e!, 'base64url');
  return { id: Buffer.from(id, 'hex'), priv: privateKey, n: Buffer.from(jwk.n!, 'base64url'), e: cat(Buffer.alloc(8 - e.length), e) };
}

/** The 144-byte ERCA public key file layout: KID, modulus, exponent. */
export function gen1RootFile(k: Gen1Key): Uint8Array {
  return cat(k.id, k.n, k.e);
}

const rsaRaw = (priv: KeyObject, m: Uint8Array) => privateEncrypt({ key: priv, padding: constants.RSA_NO_PADDING }, m);

/** A 194-byte Gen1 certificate of `holder`, signed by `issuer`. */
export function gen1Certificate(issuer: Gen1Key, holder: Gen1Key, equipmentType: number): Uint8Array {
  const c = cat([0x01], issuer.id, [0xff, 0x54, 0x41, 0x43, 0x48, 0x4f, equipmentType], u32(0xffffffff), holder.id, holder.n, holder.e);
  const sr = cat([0x6a], c.subarray(0, 106), createHash('sha1').update(c).digest(), [0xbc]);
  return cat(rsaRaw(issuer.priv, sr), c.subarray(106), issuer.id);
}

export function gen1Sign(k: Gen1Key, data: Uint8Array): Uint8Array {
  const em = cat([0, 1], Buffer.alloc(128 - 3 - 35, 0xff), [0], Buffer.from('3021300906052b0e03021a05000414', 'hex'), createHash('sha1').update(data).digest());
  return rsaRaw(k.priv, em);
}

export interface Gen2Key {
  id: Uint8Array;
  priv: KeyObject;
  point: Buffer;
}

export function gen2Key(id: string): Gen2Key {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { id: Buffer.from(id, 'hex'), priv: privateKey, point: cat([4], Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')) };
}

function tlv(tag: number, value: Uint8Array | number[]): Buffer {
  const t = tag > 0xff ? [tag >> 8, tag & 0xff] : [tag];
  const l = value.length < 0x80 ? [value.length] : value.length < 0x100 ? [0x81, value.length] : [0x82, value.length >> 8, value.length & 0xff];
  return cat(t, l, value);
}

/** A Gen2 certificate (7F21) of `holder` signed by `issuer` (both P-256: SHA-256, plain r‖s). */
export function gen2Certificate(issuer: Gen2Key, holder: Gen2Key, chaLast: number): Uint8Array {
  const body = tlv(
    0x7f4e,
    cat(tlv(0x5f29, [0]), tlv(0x42, issuer.id), tlv(0x5f4c, [0xff, 0x53, 0x4d, 0x52, 0x44, 0x54, chaLast]), tlv(0x7f49, cat(tlv(0x06, Buffer.from('2a8648ce3d030107', 'hex')), tlv(0x86, holder.point))), tlv(0x5f20, holder.id), tlv(0x5f25, u32(1577836800)), tlv(0x5f24, u32(2524608000))),
  );
  return tlv(0x7f21, cat(body, tlv(0x5f37, gen2Sign(issuer, body))));
}

export function gen2Sign(k: Gen2Key, data: Uint8Array): Uint8Array {
  return sign('sha256', data, { key: k.priv, dsaEncoding: 'ieee-p1363' });
}

export function tlvObject(fid: number, appendix: number, value: Uint8Array): Buffer {
  return cat([fid >> 8, fid & 0xff, appendix, value.length >> 8, value.length & 0xff], value);
}
