/**
 * A driver-card download (Appendix 7 §3.4): TLV objects `FID(2) appendix(1) length(2) value`, one
 * per EF and one per signature. Appendix 00/01 are the Gen1 section (data/signature), 02/03 the
 * Gen2 section. Each section is decoded on its own, sized from the TLV lengths.
 */
import { EdgeError } from '../../errors.js';
import { cardActivity, type CardActivity } from './card-activity.js';
import * as ef from './card-efs.js';
import { isBlank, parseGen1Certificate, parseGen2, type Certificate } from './certificates.js';
import { hex, isoTime, type TextSink } from './primitives.js';
import { DddReader } from './reader.js';
import type { SignatureCheck, TrustStore } from './verify.js';

export interface TlvRecord {
  /** FID as 4 hex digits. */
  fid: string;
  appendix: number;
  offset: number;
  length: number;
}

export interface CardSection {
  applicationIdentification?: ef.ApplicationIdentification;
  applicationIdentificationV2?: Record<string, number>;
  identification?: ef.Identification;
  lastCardDownload?: string | null;
  drivingLicence?: ReturnType<typeof ef.drivingLicence>;
  events?: ef.EventOrFault[];
  faults?: ef.EventOrFault[];
  activity?: CardActivity;
  vehiclesUsed?: ef.RecordRing<ef.VehicleUsed>;
  places?: ef.RecordRing<ef.Place>;
  currentUsage?: ReturnType<typeof ef.currentUsage>;
  controlActivity?: ef.ControlActivity | null;
  specificConditions?: ReturnType<typeof ef.specificConditions>;
  vehicleUnitsUsed?: ReturnType<typeof ef.vehicleUnitsUsed>;
  gnssPlaces?: ReturnType<typeof ef.gnssPlaces>;
  placesAuthentication?: ReturnType<typeof ef.timeAndByte>;
  gnssPlacesAuthentication?: ReturnType<typeof ef.timeAndByte>;
  borderCrossings?: ReturnType<typeof ef.borderCrossings>;
  loadUnloadOperations?: ReturnType<typeof ef.loadUnloadOperations>;
  loadTypeEntries?: ReturnType<typeof ef.timeAndByte>;
  /** EF_VU_Configuration (0540): manufacturer blocks, kept as hex. */
  vuConfiguration?: string;
  /** EFs of this section the parser does not decode (kept as hex). */
  unknown?: { fid: string; offset: number; hex: string }[];
}

export interface CardDocument {
  records: TlvRecord[];
  icc?: ef.Icc;
  ic?: ReturnType<typeof ef.ic>;
  g1?: CardSection;
  g2?: CardSection;
}

export interface CardParse {
  card: CardDocument;
  certificates: Certificate[];
  checks: SignatureCheck[];
  signatures: number;
}

export type Warn = (reason: string, at: number) => void;

/** Detection: the first object's tag is a known FID with appendix 0..3 and its length fits. */
export function looksLikeCard(b: Uint8Array): boolean {
  if (b.length < 5 || b[2]! > 3) return false;
  const fid = (b[0]! << 8) | b[1]!;
  return (KNOWN_FIDS.has(fid) || fid >= 0xc100) && 5 + ((b[3]! << 8) | b[4]!) <= b.length;
}

const KNOWN_FIDS = new Set([0x0002, 0x0005, 0x0501, 0x0502, 0x0503, 0x0504, 0x0505, 0x0506, 0x0507, 0x0508, 0x050e, 0x0520, 0x0521, 0x0522, 0x0523, 0x0524, 0x0525, 0x0526, 0x0527, 0x0528, 0x0529, 0x0530, 0x0540, 0xc100, 0xc101, 0xc108, 0xc109]);

export function parseCard(b: Uint8Array, store: TrustStore, warn: Warn, sink: TextSink, strict: boolean): CardParse {
  const records: TlvRecord[] = [];
  const r = new DddReader(b, 0, b.length);
  while (r.remaining > 0) {
    const offset = r.pos;
    if (r.remaining < 5) throw new EdgeError('EDGE_DDD_TRUNCATED', `${r.remaining} byte(s) after the last TLV object, a header needs 5`, offset);
    const fid = r.u16('TLV tag');
    const appendix = r.u8('TLV appendix');
    const length = r.u16('TLV length');
    if (appendix > 3) throw new EdgeError('EDGE_DDD_INVALID', `TLV appendix byte ${appendix} is not 0..3`, offset + 2);
    if (length === 0xffff) throw new EdgeError('EDGE_DDD_INVALID', 'TLV length 0xFFFF is reserved', offset + 3);
    r.need(length, `EF ${fid.toString(16).padStart(4, '0')} value`);
    r.pos += length;
    records.push({ fid: fid.toString(16).padStart(4, '0'), appendix, offset, length });
  }
  const card: CardDocument = { records };
  const certificates: Certificate[] = [];
  const checks: SignatureCheck[] = [];
  let signatures = 0;
  // certificates first: a section's EF signatures need the chain, whatever the object order
  const certOf: Partial<Record<'g1' | 'g2', Certificate>> = {};
  for (const sec of ['g1', 'g2'] as const) {
    const app = sec === 'g1' ? 0 : 2;
    const find = (fid: string) => records.find((x) => x.fid === fid && x.appendix === app);
    const bytes = (x: TlvRecord) => b.subarray(x.offset + 5, x.offset + 5 + x.length);
    const chain = sec === 'g1' ? ['c108', 'c100'] : ['c109', 'c108', 'c101'];
    for (const fid of chain) {
      const x = find(fid);
      if (!x || isBlank(bytes(x))) continue;
      if (sec === 'g1') {
        const c = parseGen1Certificate(bytes(x), x.offset + 5);
        certificates.push(c);
        checks.push(store.openGen1(c, bytes(x)));
        if (fid === 'c100') certOf.g1 = c;
      } else {
        const p = parseGen2(bytes(x), x.offset + 5);
        certificates.push(p.cert);
        checks.push(store.verifyGen2(p));
        if (fid === 'c101') certOf.g2 = p.cert;
      }
    }
  }
  let prev: TlvRecord | undefined;
  for (const x of records) {
    const value = new DddReader(b, x.offset + 5, x.offset + 5 + x.length);
    if (x.appendix === 1 || x.appendix === 3) {
      signatures++;
      const sec = x.appendix === 1 ? 'g1' : 'g2';
      const object = `EF ${x.fid} ${sec}`;
      if (!prev || prev.fid !== x.fid || prev.appendix !== x.appendix - 1) {
        const reason = 'signature object does not follow the data object of its EF';
        if (strict) throw new EdgeError('EDGE_DDD_INVALID', reason, x.offset);
        checks.push({ object, offset: x.offset, verified: false, reason });
      } else {
        checks.push(store.verifyData(object, x.offset, certOf[sec], b.subarray(prev.offset + 5, prev.offset + 5 + prev.length), value.bytes(x.length, 'signature')));
      }
    } else decodeEf(card, x, value, warn, sink, strict);
    prev = x;
  }
  return { card, certificates, checks, signatures };
}

function decodeEf(card: CardDocument, x: TlvRecord, r: DddReader, warn: Warn, sink: TextSink, strict: boolean): void {
  const generation = x.appendix === 0 ? 1 : 2;
  const key = generation === 1 ? 'g1' : 'g2';
  const s = (card[key] ??= {});
  const ctx: ef.EfContext = { generation, sink };
  const whole = () => {
    // an EF is read completely (fixed size, or whole records); extra bytes are reported, not silently ignored
    if (r.remaining > 0) warn(`EF ${x.fid} has ${r.remaining} byte(s) after its known content`, r.pos);
  };
  switch (x.fid) {
    case '0002':
      card.icc = ef.icc(r);
      return whole();
    case '0005':
      card.ic = ef.ic(r);
      return whole();
    case '0501':
      s.applicationIdentification = ef.applicationIdentification(r, ctx);
      return whole();
    case '0525':
      s.applicationIdentificationV2 = ef.applicationIdentificationV2(r);
      return whole();
    case 'c100':
    case 'c101':
    case 'c108':
    case 'c109':
      return; // parsed with the chain above
    case '0520':
      s.identification = ef.identification(r, ctx);
      return whole();
    case '050e':
      s.lastCardDownload = isoTime(r.u32('last card download'));
      return whole();
    case '0521':
      s.drivingLicence = ef.drivingLicence(r, ctx);
      return whole();
    case '0502':
      s.events = ef.eventsOrFaults(r, ctx, 'event');
      return whole();
    case '0503':
      s.faults = ef.eventsOrFaults(r, ctx, 'fault');
      return whole();
    case '0504':
      s.activity = cardActivity(r, s.applicationIdentification?.activityLength, warn);
      return;
    case '0505':
      s.vehiclesUsed = ef.vehiclesUsed(r, ctx);
      return whole();
    case '0506':
      s.places = ef.places(r, ctx);
      return whole();
    case '0507':
      s.currentUsage = ef.currentUsage(r, ctx);
      return whole();
    case '0508':
      s.controlActivity = ef.controlActivity(r, ctx);
      return whole();
    case '0522':
      s.specificConditions = ef.specificConditions(r, ctx);
      return whole();
    case '0523':
      s.vehicleUnitsUsed = ef.vehicleUnitsUsed(r);
      return whole();
    case '0524':
      s.gnssPlaces = ef.gnssPlaces(r);
      return whole();
    case '0526':
      s.placesAuthentication = ef.timeAndByte(r, 'place authentication');
      return whole();
    case '0527':
      s.gnssPlacesAuthentication = ef.timeAndByte(r, 'GNSS place authentication');
      return whole();
    case '0528':
      s.borderCrossings = ef.borderCrossings(r);
      return whole();
    case '0529':
      s.loadUnloadOperations = ef.loadUnloadOperations(r);
      return whole();
    case '0530':
      s.loadTypeEntries = ef.timeAndByte(r, 'load type entry');
      return whole();
    case '0540':
      s.vuConfiguration = hex(r.bytes(r.remaining, 'VU configuration'));
      return;
    default:
      if (strict) throw new EdgeError('EDGE_DDD_INVALID', `unknown EF ${x.fid}`, x.offset);
      warn(`unknown EF ${x.fid} kept as hex`, x.offset);
      (s.unknown ??= []).push({ fid: x.fid, offset: x.offset, hex: hex(r.bytes(r.remaining, 'unknown EF')) });
  }
}
