/**
 * Record layouts of VU transfers (Appendix 1), one reader per record type for both generations:
 * Gen2 records differ from Gen1 mostly by FullCardNumberAndGeneration (19 bytes instead of 18) and
 * appended fields, so each reader takes the generation and reads the fields it knows from the start
 * of the record (a Gen2 record array may declare larger records; the rest is skipped by the caller).
 */
import bp from 'binary-parser/dist/binary_parser.js';
import { fullCardNumber, gnssPlace, isoTime, name, timeReal, vrn, type FullCardNumber, type TextSink } from './primitives.js';
import type { DddReader } from './reader.js';
import type { VuCardInsertion, VuEventOrFault, VuEventsAndFaults, VuOverview, VuPlace } from './vu-types.js';

export interface VuCtx {
  gen2: boolean;
  /** Gen2 version 2 (TREP 31..35): places and GNSS records carry an authentication status. */
  v2: boolean;
  sink: TextSink;
}

const card = (r: DddReader, c: VuCtx, what: string): FullCardNumber => fullCardNumber(r, what, c.gen2);

export function cardInsertion(r: DddReader, c: VuCtx): VuCardInsertion {
  const surname = name(r, 'holder surname', c.sink);
  const firstNames = name(r, 'holder first names', c.sink);
  const x: VuCardInsertion = {
    holder: { surname, firstNames },
    card: card(r, c, 'inserted card'),
    cardExpiryDate: timeReal(r, 'card expiry date'),
    insertion: timeReal(r, 'card insertion time'),
    odometerAtInsertion: r.u24('odometer at insertion'),
    slot: r.u8('card slot'),
    withdrawal: timeReal(r, 'card withdrawal time'),
    odometerAtWithdrawal: r.u24('odometer at withdrawal'),
    previousVehicle: { vehicle: vrn(r, 'previous vehicle', c.sink), withdrawal: timeReal(r, 'previous vehicle withdrawal') },
    manualInput: false,
  };
  if (c.gen2) r.u8('previous vehicle VU generation');
  x.manualInput = r.u8('manual input flag') === 1;
  return x;
}

export function place(r: DddReader, c: VuCtx): VuPlace {
  const p: VuPlace = { card: card(r, c, 'place card'), time: timeReal(r, 'place entry time'), entryType: r.u8('place entry type'), country: r.u8('place country'), region: r.u8('place region'), odometer: r.u24('place odometer') };
  if (c.gen2) p.gnss = gnssPlace(r, 'place GNSS', c.v2);
  return p;
}

export function gnssAD(r: DddReader, c: VuCtx): { time: string | null; cards: FullCardNumber[]; place: ReturnType<typeof gnssPlace>; odometer: number } {
  const time = timeReal(r, 'GNSS accumulated driving time');
  const cards = [card(r, c, 'GNSS driver card'), card(r, c, 'GNSS co-driver card')];
  return { time, cards, place: gnssPlace(r, 'GNSS place', c.v2), odometer: r.u24('GNSS odometer') };
}

export function specificCondition(r: DddReader): { time: string | null; type: number } {
  return { time: timeReal(r, 'specific condition time'), type: r.u8('specific condition type') };
}

export function eventOrFault(r: DddReader, c: VuCtx, event: boolean): VuEventOrFault {
  const x: VuEventOrFault = {
    type: r.u8('event/fault type'),
    purpose: r.u8('record purpose'),
    begin: timeReal(r, 'begin'),
    end: timeReal(r, 'end'),
    cards: { driverBegin: card(r, c, 'driver card at begin'), coDriverBegin: card(r, c, 'co-driver card at begin'), driverEnd: card(r, c, 'driver card at end'), coDriverEnd: card(r, c, 'co-driver card at end') },
  };
  if (event) x.similarEvents = r.u8('similar events');
  return x;
}

const overSpeedControl = new bp.Parser().uint32be('last').uint32be('first').uint8('count');

export function overSpeedingControl(r: DddReader): VuEventsAndFaults['overSpeedingControl'] {
  const x = overSpeedControl.parse(r.bytes(9, 'overspeeding control data')) as { last: number; first: number; count: number };
  return { lastControl: isoTime(x.last), firstOverspeedSince: isoTime(x.first), numberOfOverspeedSince: x.count };
}

export function overSpeedingEvent(r: DddReader, c: VuCtx): VuEventsAndFaults['overSpeedingEvents'][number] {
  return { type: r.u8('overspeed type'), purpose: r.u8('overspeed purpose'), begin: timeReal(r, 'overspeed begin'), end: timeReal(r, 'overspeed end'), maxSpeed: r.u8('max speed'), averageSpeed: r.u8('average speed'), card: card(r, c, 'overspeed driver card'), similarEvents: r.u8('similar events') };
}

export function timeAdjustment(r: DddReader, c: VuCtx): VuEventsAndFaults['timeAdjustments'][number] {
  return { oldTime: timeReal(r, 'old time'), newTime: timeReal(r, 'new time'), workshopName: name(r, 'workshop name', c.sink), workshopAddress: name(r, 'workshop address', c.sink), workshopCard: card(r, c, 'workshop card') };
}

export function downloadActivity(r: DddReader, c: VuCtx): VuOverview['lastDownload'] {
  const t = r.u32('download time');
  const x = { time: isoTime(t), card: card(r, c, 'downloading card'), companyOrWorkshopName: name(r, 'company or workshop name', c.sink) };
  return t === 0 ? null : x;
}

export function companyLock(r: DddReader, c: VuCtx): VuOverview['companyLocks'][number] {
  return { lockIn: timeReal(r, 'lock in'), lockOut: timeReal(r, 'lock out'), companyName: name(r, 'company name', c.sink), companyAddress: name(r, 'company address', c.sink), companyCard: card(r, c, 'company card') };
}

export function control(r: DddReader, c: VuCtx): VuOverview['controls'][number] {
  return { controlType: r.u8('control type'), time: timeReal(r, 'control time'), controlCard: card(r, c, 'control card'), downloadPeriodBegin: timeReal(r, 'download period begin'), downloadPeriodEnd: timeReal(r, 'download period end') };
}

const speedBlock = new bp.Parser().uint32be('begin').array('speeds', { type: 'uint8', length: 60 });

export function detailedSpeedBlock(r: DddReader): { begin: string | null; speeds: number[] } {
  const x = speedBlock.parse(r.bytes(64, 'detailed speed block')) as { begin: number; speeds: number[] };
  return { begin: isoTime(x.begin), speeds: x.speeds };
}


/** `n` FullCardNumberAndGeneration fields (driver and co-driver slot). */
export function cardNumbers(r: DddReader, c: VuCtx, n: number): FullCardNumber[] {
  const out: FullCardNumber[] = [];
  for (let i = 0; i < n; i++) out.push(card(r, c, 'card'));
  return out;
}

export function authPlace(r: DddReader): ReturnType<typeof gnssPlace> {
  return gnssPlace(r, 'GNSS place', true);
}
