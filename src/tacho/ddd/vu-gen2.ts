/**
 * Gen2 VU transfers (Appendix 7 DDP_034, Appendix 1 §2.120): every element is a record array
 * `recordType(1) recordSize(2) noOfRecords(2) records`, the last one the signature. A transfer has
 * no length field; it ends where the next transfer's 0x76 begins (0x76 is not a RecordType: the
 * codes are 01..24 and 80..FF) or at the end of the file. Arrays are matched to the layout by
 * position, the record-type byte is checked against the Appendix 1 code (strict: an error;
 * lenient: a warning, because the public Gen2 samples number their arrays 1, 2, 3 …).
 */
import { EdgeError } from '../../errors.js';
import { isBlank, parseGen2, type Gen2Parsed } from './certificates.js';
import { ia5, isoTime, vrn } from './primitives.js';
import { DddReader, needRecords } from './reader.js';
import * as rec from './vu-records.js';
import { vuDay } from './vu-gen1.js';
import type { VuDocument, VuTransfer } from './vu-types.js';

interface RecordArray {
  type: number;
  recordSize: number;
  count: number;
  /** Offset of the array header. */
  offset: number;
  dataStart: number;
}

/** Expected RecordType codes by position (Appendix 1 §2.120), per transfer kind and version. */
export const LAYOUTS: Record<string, number[]> = {
  overview1: [0x04, 0x0f, 0x0a, 0x0b, 0x03, 0x13, 0x02, 0x14, 0x10, 0x11, 0x08],
  overview2: [0x04, 0x0f, 0x0a, 0x24, 0x03, 0x13, 0x02, 0x14, 0x10, 0x11, 0x08],
  activities1: [0x06, 0x05, 0x0d, 0x01, 0x1c, 0x16, 0x09, 0x08],
  activities2: [0x06, 0x05, 0x0d, 0x01, 0x1c, 0x16, 0x09, 0x22, 0x23, 0x08],
  events: [0x18, 0x15, 0x1a, 0x1b, 0x1e, 0x08],
  speed: [0x12, 0x08],
};

const MAX_ARRAYS = 64;

export interface Gen2Signed {
  signedStart: number;
  signedEnd: number;
  signature: Uint8Array;
  certificates?: { msca?: Gen2Parsed; vu?: Gen2Parsed };
}

function readArrays(r: DddReader): RecordArray[] {
  const arrays: RecordArray[] = [];
  while (r.remaining > 0 && r.buf[r.pos] !== 0x76) {
    if (arrays.length >= MAX_ARRAYS) r.invalid(`more than ${MAX_ARRAYS} record arrays in one transfer`);
    const offset = r.pos;
    const type = r.u8('record array type');
    const recordSize = r.u16('record size');
    const count = r.u16('number of records');
    needRecords(r, count, recordSize, `record array type 0x${type.toString(16)}`);
    arrays.push({ type, recordSize, count, offset, dataStart: r.pos });
    r.pos += recordSize * count;
  }
  return arrays;
}

function records<T>(b: Uint8Array, a: RecordArray | undefined, read: (x: DddReader) => T): T[] {
  const out: T[] = [];
  if (!a) return out;
  for (let i = 0; i < a.count; i++) {
    const s = a.dataStart + i * a.recordSize;
    out.push(read(new DddReader(b, s, s + a.recordSize)));
  }
  return out;
}

export function gen2Transfer(trep: number, r: DddReader, doc: VuDocument, t: VuTransfer, ctx: rec.VuCtx, strict: boolean, warn: (reason: string, at: number) => void): Gen2Signed | null {
  const b = r.buf;
  const start = r.pos;
  if (trep === 0x00) {
    doc.downloadInterfaceVersion = Buffer.from(r.bytes(2, 'download interface version')).toString('hex');
    return null;
  }
  const arrays = readArrays(r);
  if (arrays.length === 0) throw new EdgeError(r.remaining === 0 ? 'EDGE_DDD_TRUNCATED' : 'EDGE_DDD_INVALID', 'transfer has no record arrays (not even its signature)', start);
  t.recordArrays = arrays.map((a) => ({ type: a.type, recordSize: a.recordSize, count: a.count, offset: a.offset }));
  const kind = trep & 0x0f;
  const layoutName = kind === 1 ? `overview${ctx.v2 ? 2 : 1}` : kind === 2 ? `activities${ctx.v2 ? 2 : 1}` : kind === 3 ? 'events' : kind === 4 ? 'speed' : 'technical';
  const layout = LAYOUTS[layoutName];
  const sig = arrays[arrays.length - 1];
  const signedEnd = sig ? sig.offset : r.pos;
  const signature = sig ? b.subarray(sig.dataStart, sig.dataStart + sig.recordSize * sig.count) : new Uint8Array(0);
  const trepHex = trep.toString(16).padStart(2, '0');
  if (!layout) {
    // technical data: the public v2 samples do not follow the regulation's array list, so the
    // transfer is framed and kept, not interpreted
    doc.technicalData = { decoded: false, reason: `Gen2 technical data (TREP ${trepHex}) is framed into ${arrays.length} record arrays but not decoded` };
    return { signedStart: start, signedEnd, signature };
  }
  if (arrays.length < layout.length && r.remaining === 0) {
    throw new EdgeError('EDGE_DDD_TRUNCATED', `the file ends after ${arrays.length} of the ${layout.length} record arrays of transfer TREP ${trepHex}`, r.pos);
  }
  if (arrays.length !== layout.length) {
    const reason = `transfer TREP ${trepHex} has ${arrays.length} record arrays, its layout has ${layout.length}`;
    if (strict) throw new EdgeError('EDGE_DDD_INVALID', reason, start);
    warn(`${reason}: kept as framing only`, start);
    return { signedStart: start, signedEnd, signature };
  }
  let positional = 0;
  arrays.forEach((a, i) => {
    if (a.type === layout[i]) return;
    if (strict) throw new EdgeError('EDGE_DDD_INVALID', `record array ${i + 1} of TREP ${trepHex} has type 0x${a.type.toString(16)}, expected 0x${layout[i]!.toString(16)}`, a.offset);
    if (a.type === i + 1) positional++;
    else warn(`record array ${i + 1} of TREP ${trepHex} has type 0x${a.type.toString(16)}, expected 0x${layout[i]!.toString(16)}; read by position`, a.offset);
  });
  if (positional > 0) warn(`TREP ${trepHex}: ${positional} record array type byte(s) are positions (1, 2, 3 …) rather than Appendix 1 codes; read by position`, start);
  const A = (i: number) => arrays[i]!;
  const one = <T>(i: number, read: (x: DddReader) => T): T | null => records(b, A(i), read)[0] ?? null;
  switch (kind) {
    case 1: {
      const certificates: NonNullable<Gen2Signed['certificates']> = {};
      const cert = (a: RecordArray) => (a.count > 0 && a.recordSize > 0 && !isBlank(b.subarray(a.dataStart, a.dataStart + a.recordSize)) ? parseGen2(b.subarray(a.dataStart, a.dataStart + a.recordSize), a.dataStart) : undefined);
      const m = cert(A(0));
      const v = cert(A(1));
      if (m) certificates.msca = m;
      if (v) certificates.vu = v;
      const period = one(5, (x) => ({ begin: isoTime(x.u32('downloadable period begin')), end: isoTime(x.u32('downloadable period end')) }));
      doc.overview = {
        vin: one(2, (x) => ia5(x, 17, 'VIN')) ?? '',
        vehicle: one(3, (x) => (ctx.v2 ? vrn(x, 'vehicle registration', ctx.sink) : { nation: 0, number: ia5(x, 14, 'vehicle registration number') })) ?? { nation: 0, number: '' },
        currentDateTime: one(4, (x) => isoTime(x.u32('current date/time'))),
        downloadablePeriod: period ?? { begin: null, end: null },
        cardSlotsStatus: one(6, (x) => x.u8('card slots status')) ?? 0,
        lastDownload: one(7, (x) => rec.downloadActivity(x, ctx)),
        companyLocks: records(b, A(8), (x) => rec.companyLock(x, ctx)),
        controls: records(b, A(9), (x) => rec.control(x, ctx)),
      };
      return { signedStart: A(2).offset, signedEnd, signature, certificates };
    }
    case 2: {
      const dateS = one(0, (x) => x.u32('date of day downloaded')) ?? 0;
      const words = records(b, A(3), (x) => x.u16('activity change'));
      const day = vuDay(dateS, one(1, (x) => x.u24('odometer at midnight')) ?? 0, records(b, A(2), (x) => rec.cardInsertion(x, ctx)), words, records(b, A(4), (x) => rec.place(x, ctx)), records(b, A(6), rec.specificCondition));
      day.gnssAccumulatedDriving = records(b, A(5), (x) => rec.gnssAD(x, ctx));
      if (ctx.v2) {
        day.borderCrossings = records(b, A(7), (x) => {
          const cards = rec.cardNumbers(x, ctx, 2);
          return { cards, countryLeft: x.u8('country left'), countryEntered: x.u8('country entered'), place: rec.authPlace(x), odometer: x.u24('odometer') };
        });
        day.loadUnloadOperations = records(b, A(8), (x) => {
          const time = isoTime(x.u32('operation time'));
          const operationType = x.u8('operation type');
          const cards = rec.cardNumbers(x, ctx, 2);
          return { time, operationType, cards, place: rec.authPlace(x), odometer: x.u24('odometer') };
        });
      }
      doc.days.push(day);
      return { signedStart: start, signedEnd, signature };
    }
    case 3:
      doc.eventsAndFaults = {
        faults: records(b, A(0), (x) => rec.eventOrFault(x, ctx, false)),
        events: records(b, A(1), (x) => rec.eventOrFault(x, ctx, true)),
        overSpeedingControl: one(2, rec.overSpeedingControl),
        overSpeedingEvents: records(b, A(3), (x) => rec.overSpeedingEvent(x, ctx)),
        timeAdjustments: records(b, A(4), (x) => rec.timeAdjustment(x, ctx)),
      };
      return { signedStart: start, signedEnd, signature };
    default:
      (doc.detailedSpeed ??= { blocks: [] }).blocks.push(...records(b, A(0), rec.detailedSpeedBlock));
      return { signedStart: start, signedEnd, signature };
  }
}
