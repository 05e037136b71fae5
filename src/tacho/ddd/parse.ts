/**
 * parseDdd: one tachograph download file (.ddd/.esm/.tgd) in, one JSON-able document out. Pure:
 * no I/O, clock, logging or globals, so the worker pool and the CLI run the same code. A file that
 * cannot be read to its end is an `EdgeError` (EDGE_DDD_TRUNCATED / EDGE_DDD_INVALID) whose offset
 * is the absolute byte offset in the file; tolerable oddities are `warnings` in the document.
 */
import { EdgeError } from '../../errors.js';
import { looksLikeCard, parseCard, type CardDocument } from './card-file.js';
import type { Certificate } from './certificates.js';
import { DddReader } from './reader.js';
import { summarizeChecks, TrustStore, type SignatureCheck, type SignatureSummary } from './verify.js';
import { gen1Transfer } from './vu-gen1.js';
import { gen2Transfer } from './vu-gen2.js';
import type { VuDocument, VuTransfer } from './vu-types.js';

export interface DddOptions {
  /**
   * European root keys to verify signatures with: Gen1 ERCA public keys (144 bytes) and/or Gen2
   * ERCA root certificates. Without them certificates and signatures are parsed, not verified.
   */
  roots?: readonly Uint8Array[];
  /** Reject what the lenient default accepts with a warning (unknown EFs, Gen2 record types that are not Appendix 1 codes). */
  strict?: boolean;
  /** Include the VU detailed speed blocks (1440 × 60 values a day); default true. */
  detailedSpeed?: boolean;
}

/** A tolerated oddity, once per distinct reason, at its first offset (at most 100). */
export interface DddWarning {
  offset: number;
  reason: string;
}

export interface DddDocument {
  /** Version of this document's shape. */
  format: 'edge-channel/ddd@1';
  kind: 'driver_card' | 'vehicle_unit';
  /** Highest generation of data in the file. */
  generation: 1 | 2;
  /** Gen2 version (1 or 2), when generation is 2 and the file says. */
  gen2Version?: 1 | 2;
  bytes: number;
  card?: CardDocument;
  vu?: VuDocument;
  certificates: Certificate[];
  signature: SignatureSummary;
  warnings: DddWarning[];
}

const GEN1_TREPS = new Set([0x01, 0x02, 0x03, 0x04, 0x05]);
const GEN2_TREPS = new Set([0x00, 0x21, 0x22, 0x23, 0x24, 0x25, 0x31, 0x32, 0x33, 0x35]);

export function parseDdd(bytes: Uint8Array, options: DddOptions = {}): DddDocument {
  const store = new TrustStore(options.roots);
  const strict = options.strict === true;
  const warnings: DddWarning[] = [];
  // one warning per distinct reason (its first offset): a VU file repeats the same oddity in every day
  const reasons = new Set<string>();
  const warn = (reason: string, offset: number) => {
    if (reasons.has(reason) || warnings.length >= 100) return;
    reasons.add(reason);
    warnings.push({ offset, reason });
  };
  const sink = { unknownCodePage: (cp: number, at: number) => warn(`text with unknown code page ${cp}, read as Latin-1 (first occurrence)`, at) };
  if (bytes.length === 0) throw new EdgeError('EDGE_DDD_TRUNCATED', 'the file is empty', 0);
  if (bytes[0] === 0x76) return parseVu(bytes, store, strict, warn, sink, warnings, options.detailedSpeed !== false);
  if (!looksLikeCard(bytes)) throw new EdgeError('EDGE_DDD_INVALID', 'neither a card download (TLV of known EFs) nor a VU download (starts with 0x76)', 0);
  const c = parseCard(bytes, store, warn, sink, strict);
  const g2 = c.card.g2;
  const doc: DddDocument = { format: 'edge-channel/ddd@1', kind: 'driver_card', generation: g2 ? 2 : 1, bytes: bytes.length, card: c.card, certificates: c.certificates, signature: summarizeChecks(c.checks, store, c.signatures), warnings };
  const v = g2?.applicationIdentification?.structureVersion;
  if (v) doc.gen2Version = v === '0101' ? 2 : 1;
  return doc;
}

function parseVu(b: Uint8Array, store: TrustStore, strict: boolean, warn: (reason: string, at: number) => void, sink: { unknownCodePage(cp: number, at: number): void }, warnings: DddWarning[], keepSpeed: boolean): DddDocument {
  const vu: VuDocument = { transfers: [], days: [] };
  const r = new DddReader(b, 0, b.length);
  const signed: { t: VuTransfer; signedStart: number; signedEnd: number; signature: Uint8Array }[] = [];
  const certificates: Certificate[] = [];
  const checks: SignatureCheck[] = [];
  let vuCert: Certificate | undefined;
  let generation: 1 | 2 = 1;
  let v2 = false;
  while (r.remaining > 0) {
    const offset = r.pos;
    if (r.u8('transfer SID') !== 0x76) throw new EdgeError('EDGE_DDD_INVALID', 'a VU transfer starts with 0x76 (positive response to a transfer request)', offset);
    const trep = r.u8('transfer TREP');
    const t: VuTransfer = { trep: trep.toString(16).padStart(2, '0'), generation: GEN1_TREPS.has(trep) ? 1 : 2, offset, length: 0 };
    if (GEN1_TREPS.has(trep)) {
      const s = gen1Transfer(trep, r, vu, { gen2: false, v2: false, sink });
      signed.push({ t, ...s });
      if (s.certificates) {
        for (const c of [s.certificates.msca, s.certificates.vu]) {
          if (!c) continue;
          certificates.push(c.cert);
          checks.push(store.openGen1(c.cert, c.raw));
        }
        vuCert = s.certificates.vu?.cert;
      }
    } else if (GEN2_TREPS.has(trep)) {
      generation = 2;
      if (trep >= 0x31 || trep === 0x00) v2 = true;
      const s = gen2Transfer(trep, r, vu, t, { gen2: true, v2: trep >= 0x31 || (trep === 0x24 && v2), sink }, strict, warn);
      if (s) {
        signed.push({ t, signedStart: s.signedStart, signedEnd: s.signedEnd, signature: s.signature });
        for (const p of [s.certificates?.msca, s.certificates?.vu]) {
          if (!p) continue;
          certificates.push(p.cert);
          checks.push(store.verifyGen2(p));
        }
        if (s.certificates?.vu) vuCert = s.certificates.vu.cert;
      }
    } else throw new EdgeError('EDGE_DDD_INVALID', `unknown transfer TREP 0x${t.trep}: a VU file has no lengths, so the rest cannot be framed`, offset + 1);
    t.length = r.pos - offset - 2;
    vu.transfers.push(t);
  }
  let signatures = 0;
  for (const s of signed) {
    if (s.signature.length === 0 || s.signature.every((x) => x === 0)) {
      checks.push({ object: `transfer ${s.t.trep} @ ${s.t.offset}`, offset: s.t.offset, verified: false, reason: 'no signature (empty or zero bytes)' });
      continue;
    }
    signatures++;
    checks.push(store.verifyData(`transfer ${s.t.trep} @ ${s.t.offset}`, s.t.offset, vuCert, b.subarray(s.signedStart, s.signedEnd), s.signature));
  }
  if (!keepSpeed && vu.detailedSpeed) vu.detailedSpeed = { blocks: [] };
  const doc: DddDocument = { format: 'edge-channel/ddd@1', kind: 'vehicle_unit', generation, bytes: b.length, vu, certificates, signature: summarizeChecks(checks, store, signatures), warnings };
  if (generation === 2) doc.gen2Version = v2 ? 2 : 1;
  return doc;
}
