/**
 * Gen1 VU transfers (Appendix 7 DDP_034, Appendix 1 VuOverview … VuTechnicalData): no length field,
 * the end of a transfer is found only by reading the counts inside it, every one of them checked
 * against the bytes left before its records are read. Each ends with a 128-byte RSA signature.
 */
import { EdgeError } from '../../errors.js';
import { dayIntervals, dayTotals } from './activity.js';
import { parseGen1Certificate, isBlank, type Gen1Certificate } from './certificates.js';
import { ia5, isoTime, timeReal, vrn } from './primitives.js';
import { needRecords, type DddReader } from './reader.js';
import * as rec from './vu-records.js';
import { calibration, sensorPaired, vuIdentification } from './vu-technical.js';
import type { VuDocument } from './vu-types.js';

export interface SignedTransfer {
  /** Signed range [start, end) and the signature, for verify.ts. */
  signedStart: number;
  signedEnd: number;
  signature: Uint8Array;
  /** Overview only: the member-state and VU certificates it carries. */
  certificates?: { msca?: { cert: Gen1Certificate; raw: Uint8Array }; vu?: { cert: Gen1Certificate; raw: Uint8Array } };
}

function counted<T>(r: DddReader, count: number, size: number, what: string, read: (x: DddReader) => T): T[] {
  needRecords(r, count, size, what);
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(read(r.sub(size, `${what} ${i + 1}`)));
  return out;
}

export function gen1Transfer(trep: number, r: DddReader, doc: VuDocument, ctx: rec.VuCtx): SignedTransfer {
  const start = r.pos;
  let signedStart = start;
  let certificates: SignedTransfer['certificates'];
  switch (trep) {
    case 0x01: {
      const mAt = r.pos;
      const m = r.bytes(194, 'member state certificate');
      const vAt = r.pos;
      const v = r.bytes(194, 'VU certificate');
      certificates = {};
      if (!isBlank(m)) certificates.msca = { cert: parseGen1Certificate(m, mAt), raw: m };
      if (!isBlank(v)) certificates.vu = { cert: parseGen1Certificate(v, vAt), raw: v };
      signedStart = r.pos;
      const vin = ia5(r, 17, 'VIN');
      const vehicle = vrn(r, 'vehicle registration', ctx.sink);
      const currentDateTime = timeReal(r, 'current date/time');
      const downloadablePeriod = { begin: timeReal(r, 'downloadable period begin'), end: timeReal(r, 'downloadable period end') };
      const cardSlotsStatus = r.u8('card slots status');
      const lastDownload = rec.downloadActivity(r.sub(58, 'download activity data'), ctx);
      const companyLocks = counted(r, r.u8('number of company locks'), 98, 'company lock', (x) => rec.companyLock(x, ctx));
      const controls = counted(r, r.u8('number of controls'), 31, 'control activity', (x) => rec.control(x, ctx));
      doc.overview = { vin, vehicle, currentDateTime, downloadablePeriod, cardSlotsStatus, lastDownload, companyLocks, controls };
      break;
    }
    case 0x02: {
      const dateS = r.u32('date of day');
      const odometerMidnight = r.u24('odometer at midnight');
      const cardInsertions = counted(r, r.u16('number of card insertion records'), 129, 'card insertion', (x) => rec.cardInsertion(x, ctx));
      const n = r.u16('number of activity changes');
      needRecords(r, n, 2, 'activity change');
      const words: number[] = [];
      for (let i = 0; i < n; i++) words.push(r.u16('activity change'));
      const places = counted(r, r.u8('number of places'), 28, 'place', (x) => rec.place(x, ctx));
      const specificConditions = counted(r, r.u16('number of specific conditions'), 5, 'specific condition', rec.specificCondition);
      doc.days.push(vuDay(dateS, odometerMidnight, cardInsertions, words, places, specificConditions));
      break;
    }
    case 0x03: {
      const faults = counted(r, r.u8('number of faults'), 82, 'fault', (x) => rec.eventOrFault(x, ctx, false));
      const events = counted(r, r.u8('number of events'), 83, 'event', (x) => rec.eventOrFault(x, ctx, true));
      const overSpeedingControl = rec.overSpeedingControl(r);
      const overSpeedingEvents = counted(r, r.u8('number of overspeeding events'), 31, 'overspeeding event', (x) => rec.overSpeedingEvent(x, ctx));
      const timeAdjustments = counted(r, r.u8('number of time adjustments'), 98, 'time adjustment', (x) => rec.timeAdjustment(x, ctx));
      doc.eventsAndFaults = { faults, events, overSpeedingControl, overSpeedingEvents, timeAdjustments };
      break;
    }
    case 0x04: {
      const blocks = counted(r, r.u16('number of speed blocks'), 64, 'speed block', rec.detailedSpeedBlock);
      (doc.detailedSpeed ??= { blocks: [] }).blocks.push(...blocks);
      break;
    }
    case 0x05: {
      const vuId = vuIdentification(r.sub(116, 'VU identification'), ctx);
      const sensor = sensorPaired(r.sub(20, 'sensor paired'), ctx);
      const calibrations = counted(r, r.u8('number of calibrations'), 167, 'calibration', (x) => calibration(x, ctx));
      doc.technicalData = { decoded: true, vuIdentification: vuId, sensorPaired: sensor, calibrations };
      break;
    }
    default:
      throw new EdgeError('EDGE_DDD_INVALID', `unknown Gen1 transfer TREP 0x${trep.toString(16).padStart(2, '0')}: a VU file has no lengths, so it cannot be skipped`, start - 1);
  }
  const signedEnd = r.pos;
  const signature = r.bytes(128, 'transfer signature');
  const t: SignedTransfer = { signedStart, signedEnd, signature };
  if (certificates) t.certificates = certificates;
  return t;
}

export function vuDay(dateS: number, odometerMidnight: number, cardInsertions: VuDocument['days'][number]['cardInsertions'], words: number[], places: VuDocument['days'][number]['places'], specificConditions: VuDocument['days'][number]['specificConditions']): VuDocument['days'][number] {
  const iso = isoTime(dateS);
  // Gen1 VUs stamp the day 23:59:59 (or the download time): the activities belong to its UTC date
  const dayStart = dateS - (dateS % 86400);
  const { intervals, invalidWords, monotonic } = dayIntervals(words, dayStart, 'vu');
  const totals = { driver: dayTotals(intervals.filter((i) => i.slot === 'driver')), coDriver: dayTotals(intervals.filter((i) => i.slot === 'co-driver')) };
  return { dateOfDay: iso, day: iso === null ? null : iso.slice(0, 10), odometerMidnight, cardInsertions, changeWords: words.length, monotonic, invalidWords, totals, intervals, places, specificConditions };
}
