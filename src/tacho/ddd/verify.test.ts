import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGen2 } from './certificates.js';
import { parseDdd } from './index.js';
import { TrustStore } from './verify.js';
import * as ca from '../../../test/support/tacho/test-authority.js';
import { TACHO_DIR, sample } from '../../../test/support/tacho/ddd-samples.js';

// one test authority per run: Gen1 root → member state → card/VU, Gen2 root → MSCA → card
const g1Root = ca.gen1Key('fd45432000ffff01');
const g1Msca = ca.gen1Key('0d45430100ffff01');
const g1Card = ca.gen1Key('1122334455667788');
const g1Vu = ca.gen1Key('8877665544332211');
const g2Root = ca.gen2Key('fd45432001ffff01');
const g2Msca = ca.gen2Key('1245430100ffff02');
const g2Card = ca.gen2Key('aabbccddeeff0011');
const roots = [ca.gen1RootFile(g1Root), ca.gen2Certificate(g2Root, g2Root, 0x0d)];

/** The Gen2 sample card with its Gen1 and Gen2 EFs signed by the test authority and the certificates added. */
function signedCard(): Uint8Array {
  const b = sample('card-g2v1-anon-wp003.ddd');
  const doc = parseDdd(b);
  const parts: Uint8Array[] = [];
  for (const r of doc.card!.records) {
    if (r.appendix === 1 || r.appendix === 3) continue; // the sample's own (meaningless) signatures
    const value = b.subarray(r.offset + 5, r.offset + 5 + r.length);
    parts.push(ca.tlvObject(parseInt(r.fid, 16), r.appendix, value));
    if (r.fid === '0002' || r.fid === '0005') continue; // never signed
    parts.push(r.appendix === 0 ? ca.tlvObject(parseInt(r.fid, 16), 1, ca.gen1Sign(g1Card, value)) : ca.tlvObject(parseInt(r.fid, 16), 3, ca.gen2Sign(g2Card, value)));
  }
  parts.push(ca.tlvObject(0xc100, 0, ca.gen1Certificate(g1Msca, g1Card, 1)), ca.tlvObject(0xc108, 0, ca.gen1Certificate(g1Root, g1Msca, 0)));
  parts.push(ca.tlvObject(0xc101, 2, ca.gen2Certificate(g2Msca, g2Card, 0x11)), ca.tlvObject(0xc108, 2, ca.gen2Certificate(g2Root, g2Msca, 0x0e)));
  return Buffer.concat(parts);
}

test('a card signed by a configured root verifies: certificate chains (Gen1 RSA, Gen2 ECDSA) and every EF signature', () => {
  const file = signedCard();
  const doc = parseDdd(file, { roots });
  assert.equal(doc.signature.verified, true, doc.signature.reason);
  const efChecks = doc.signature.checks.filter((c) => c.object.startsWith('EF '));
  assert.equal(efChecks.length, doc.card!.records.filter((r) => r.appendix === 1 || r.appendix === 3).length);
  assert.ok(efChecks.length > 20);
  assert.equal(doc.certificates.length, 4);
  const g1CardCert = doc.certificates.find((c) => c.generation === 1 && c.car === '0d45430100ffff01')!;
  assert.equal(g1CardCert.chr, '1122334455667788', 'the Gen1 certificate was opened: holder reference recovered');
  // the same file without roots: parsed, exposed, not verified, and says why
  const plain = parseDdd(file);
  assert.equal(plain.signature.verified, false);
  assert.match(plain.signature.reason, /no root keys configured/);
  assert.ok(plain.signature.checks.every((c) => !c.verified && /no root keys configured|could not be opened/.test(c.reason ?? '')));
  // a root that did not sign this chain: nothing verifies
  const other = parseDdd(file, { roots: [ca.gen1RootFile(ca.gen1Key('fd45432000ffff01')), ca.gen2Certificate(ca.gen2Key('fd45432001ffff01'), ca.gen2Key('fd45432001ffff01'), 0x0d)] });
  assert.equal(other.signature.verified, false);
  assert.ok(other.signature.checks.filter((c) => c.object.startsWith('certificate')).every((c) => !c.verified));
});

test('flipping one byte inside an EF fails exactly that EF signature, in either section', () => {
  const file = signedCard();
  const doc = parseDdd(file, { roots });
  for (const [fid, appendix, section] of [
    ['0520', 0, 'g1'],
    ['0504', 2, 'g2'],
  ] as const) {
    const r = doc.card!.records.find((x) => x.fid === fid && x.appendix === appendix)!;
    const bad = Uint8Array.from(file);
    bad[r.offset + 5 + 20]! ^= 0x01;
    const d = parseDdd(bad, { roots });
    const failed = d.signature.checks.filter((c) => !c.verified);
    assert.deepEqual(
      failed.map((c) => c.object),
      [`EF ${fid} ${section}`],
    );
    assert.equal(d.signature.verified, false);
    assert.match(d.signature.reason, /1 of \d+ checks failed/);
  }
});

test('a Gen1 VU download signed by the test authority verifies per transfer; a flipped byte fails that transfer only', () => {
  const b = Uint8Array.from(sample('vu-g1-anon-wp000.ddd'));
  const doc = parseDdd(b);
  b.set(ca.gen1Certificate(g1Root, g1Msca, 0), 2);
  b.set(ca.gen1Certificate(g1Msca, g1Vu, 6), 2 + 194);
  for (const t of doc.vu!.transfers) {
    const sigAt = t.offset + 2 + t.length - 128;
    const from = t.trep === '01' ? t.offset + 2 + 388 : t.offset + 2;
    b.set(ca.gen1Sign(g1Vu, b.subarray(from, sigAt)), sigAt);
  }
  const ok = parseDdd(b, { roots });
  assert.equal(ok.signature.verified, true, ok.signature.reason);
  assert.equal(ok.signature.checks.length, 2 + doc.vu!.transfers.length);
  const day = doc.vu!.transfers[3]!;
  b[day.offset + 4]! ^= 0x80;
  const bad = parseDdd(b, { roots });
  assert.deepEqual(
    bad.signature.checks.filter((c) => !c.verified).map((c) => c.object),
    [`transfer 02 @ ${day.offset}`],
  );
});

test('the public ERCA Gen2 root certificate verifies the sample MSCA certificate; a changed byte does not; the Gen1 root key loads', () => {
  const root = readFileSync(join(TACHO_DIR, 'certs', 'erca-g2-root-1.bin'));
  const msca = readFileSync(join(TACHO_DIR, 'certs', 'msca-fi-card-g2-42.bin'));
  const store = new TrustStore([root, readFileSync(join(TACHO_DIR, 'certs', 'erca-g1-root-EC_PK.bin'))]);
  const p = parseGen2(msca, 0);
  assert.equal(p.cert.curve, 'P-256');
  assert.equal(parseGen2(root, 0).cert.curve, 'brainpoolP256r1');
  assert.equal(p.cert.car, parseGen2(root, 0).cert.chr);
  assert.deepEqual(store.verifyGen2(p), { object: `certificate ${p.cert.chr}`, offset: 0, verified: true });
  const bad = Uint8Array.from(msca);
  bad[40]! ^= 1;
  assert.equal(new TrustStore([root]).verifyGen2(parseGen2(bad, 0)).verified, false);
  assert.throws(() => new TrustStore([Uint8Array.of(1, 2, 3)]), /root key 1/);
});

test('the anonymised samples: no certificates or zero signatures, reported as not verified with the reason', () => {
  const g1 = parseDdd(sample('card-g1-anon-wp000.ddd'), { roots });
  assert.deepEqual([g1.signature.verified, g1.signature.reason], [false, 'the file carries no signatures']);
  const g2 = parseDdd(sample('card-g2v1-anon-wp003.ddd'), { roots });
  assert.equal(g2.signature.verified, false);
  assert.ok(g2.signature.checks.length === 2 && g2.signature.checks.every((c) => c.reason === 'the file has no certificate for this signature'));
  const vu = parseDdd(sample('vu-g1-anon-wp000.ddd'), { roots });
  assert.equal(vu.signature.verified, false);
  assert.ok(vu.signature.checks.every((c) => c.reason === 'no signature (empty or zero bytes)'));
});

/** Rebuilds a Gen2 VU sample transfer by transfer: test certificates in the overview, each signature array a real ECDSA signature. */
function signedGen2Vu(): Uint8Array {
  const b = sample('vu-g2v2-anon-wp004.ddd');
  const g2Vu = ca.gen2Key('5566778899aabbcc');
  const doc = parseDdd(b);
  const out: number[] = [];
  const array = (type: number, records: Uint8Array[]) => {
    const size = records[0]?.length ?? 0;
    out.push(type, size >> 8, size & 255, records.length >> 8, records.length & 255);
    for (const r of records) out.push(...r);
  };
  for (const t of doc.vu!.transfers) {
    out.push(0x76, parseInt(t.trep, 16));
    const start = out.length;
    let signedStart = start;
    const arrays = t.recordArrays!;
    arrays.slice(0, -1).forEach((a, i) => {
      if (t.trep === '31' && i === 0) return array(0x04, [ca.gen2Certificate(g2Root, g2Msca, 0x0e)]);
      if (t.trep === '31' && i === 1) return array(0x0f, [ca.gen2Certificate(g2Msca, g2Vu, 0x13)]);
      if (t.trep === '31' && i === 2) signedStart = out.length;
      out.push(...b.subarray(a.offset, a.offset + 5 + a.recordSize * a.count));
    });
    array(0x08, [ca.gen2Sign(g2Vu, Uint8Array.from(out.slice(signedStart)))]);
  }
  return Uint8Array.from(out);
}

test('a Gen2 VU download signed by the test authority verifies (overview certificates, one ECDSA signature per transfer); a flipped byte fails that transfer only', () => {
  const file = signedGen2Vu();
  const doc = parseDdd(file, { roots });
  assert.equal(doc.signature.verified, true, doc.signature.reason);
  assert.equal(doc.certificates.length, 2);
  assert.equal(doc.signature.checks.length, 2 + doc.vu!.transfers.length);
  const day = doc.vu!.transfers[2]!;
  const bad = Uint8Array.from(file);
  bad[day.offset + 2 + 5]! ^= 0x01; // inside the date of the day
  assert.deepEqual(
    parseDdd(bad, { roots })
      .signature.checks.filter((c) => !c.verified)
      .map((c) => c.object),
    [`transfer 32 @ ${day.offset}`],
  );
  assert.equal(parseDdd(file).signature.reason, 'no root keys configured: certificates and signatures are parsed, not verified');
});
