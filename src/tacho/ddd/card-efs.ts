/**
 * Decoders of the driver-card elementary files (Annex IC Appendix 1 / Appendix 2 TCS_150-152),
 * one function per EF, each given a reader over exactly the EF's value. Fixed all-numeric layouts
 * are binary-parser declarations; records with code-paged text, counts and rings are hand code
 * (binary-parser cannot decode a code page, and its `parse` has no offset for error messages).
 */
import bp from 'binary-parser/dist/binary_parser.js';
import { bcd, isoTime, extendedSerialNumber, fullCardNumber, gnssPlace, hex, ia5, name, timeReal, vrn, type ExtendedSerialNumber, type FullCardNumber, type GnssPlace, type TextSink, type Vrn } from './primitives.js';
import { needRecords, type DddReader } from './reader.js';

export interface EfContext {
  generation: 1 | 2;
  sink: TextSink;
}

/** The fields both generations share; Gen2 widens noOfCardPlaceRecords to 2 bytes and adds three counts. */
const appIdHead = () => new bp.Parser().uint8('type').uint16be('structureVersion').uint8('eventsPerType').uint8('faultsPerType').uint16be('activityLength').uint16be('vehicleRecords');
const appIdG1 = appIdHead().uint8('placeRecords');
const appIdG2 = appIdHead().uint16be('placeRecords').uint16be('gnssADRecords').uint16be('specificConditionRecords').uint16be('vehicleUnitRecords');

const appIdV2 = new bp.Parser()
  .uint16be('lengthOfFollowingData')
  .uint16be('borderCrossingRecords')
  .uint16be('loadUnloadRecords')
  .uint16be('loadTypeEntryRecords')
  .uint16be('vuConfigurationLengthRange');

export interface ApplicationIdentification {
  type: number;
  /** Hex of the two bytes: 0000 Gen1, 0100 Gen2 v1, 0101 Gen2 v2. */
  structureVersion: string;
  eventsPerType: number;
  faultsPerType: number;
  activityLength: number;
  vehicleRecords: number;
  placeRecords: number;
  gnssADRecords?: number;
  specificConditionRecords?: number;
  vehicleUnitRecords?: number;
}

export function applicationIdentification(r: DddReader, ctx: EfContext): ApplicationIdentification {
  const size = ctx.generation === 1 ? 10 : 17;
  const a = (ctx.generation === 1 ? appIdG1 : appIdG2).parse(r.bytes(size, 'EF_Application_Identification')) as Omit<ApplicationIdentification, 'structureVersion'> & { structureVersion: number };
  return { ...a, structureVersion: a.structureVersion.toString(16).padStart(4, '0') };
}

export function applicationIdentificationV2(r: DddReader): Record<string, number> {
  return appIdV2.parse(r.bytes(10, 'EF_Application_Identification_V2')) as Record<string, number>;
}

export interface Icc {
  clockStop: number;
  cardExtendedSerialNumber: ExtendedSerialNumber;
  cardApprovalNumber: string;
  cardPersonaliserId: number;
  embedderIcAssemblerId: string;
  icIdentifier: string;
}

export function icc(r: DddReader): Icc {
  return {
    clockStop: r.u8('clock stop'),
    cardExtendedSerialNumber: extendedSerialNumber(r, 'card extended serial number'),
    cardApprovalNumber: ia5(r, 8, 'card approval number'),
    cardPersonaliserId: r.u8('card personaliser id'),
    embedderIcAssemblerId: hex(r.bytes(5, 'embedder/IC assembler id')),
    icIdentifier: hex(r.bytes(2, 'IC identifier')),
  };
}

export function ic(r: DddReader): { icSerialNumber: string; icManufacturingReferences: string } {
  return { icSerialNumber: hex(r.bytes(4, 'IC serial number')), icManufacturingReferences: hex(r.bytes(4, 'IC manufacturing references')) };
}

export interface Identification {
  issuingNation: number;
  cardNumber: string;
  issuingAuthority: string;
  issueDate: string | null;
  validityBegin: string | null;
  expiryDate: string | null;
  holder: { surname: string; firstNames: string; birthDate: string | null; preferredLanguage: string };
}

export function identification(r: DddReader, ctx: EfContext): Identification {
  const issuingNation = r.u8('card issuing member state');
  const cardNumber = ia5(r, 16, 'card number');
  const issuingAuthority = name(r, 'card issuing authority', ctx.sink);
  const issueDate = timeReal(r, 'card issue date');
  const validityBegin = timeReal(r, 'card validity begin');
  const expiryDate = timeReal(r, 'card expiry date');
  const surname = name(r, 'holder surname', ctx.sink);
  const firstNames = name(r, 'holder first names', ctx.sink);
  const birth = bcd(r.bytes(4, 'holder birth date'));
  const preferredLanguage = ia5(r, 2, 'holder preferred language');
  return { issuingNation, cardNumber, issuingAuthority, issueDate, validityBegin, expiryDate, holder: { surname, firstNames, birthDate: birth === '00000000' ? null : birth, preferredLanguage } };
}

export function drivingLicence(r: DddReader, ctx: EfContext): { issuingAuthority: string; issuingNation: number; number: string } {
  return { issuingAuthority: name(r, 'driving licence issuing authority', ctx.sink), issuingNation: r.u8('driving licence issuing nation'), number: ia5(r, 16, 'driving licence number') };
}

export interface EventOrFault {
  type: number;
  begin: string | null;
  end: string | null;
  vehicle: Vrn;
}

/** EF_Events_Data / EF_Faults_Data: groups of 24-byte records; the type byte says what each is, empty slots have no begin time. */
export function eventsOrFaults(r: DddReader, ctx: EfContext, what: string): EventOrFault[] {
  const out: EventOrFault[] = [];
  const n = Math.floor(r.remaining / 24);
  for (let i = 0; i < n; i++) {
    const type = r.u8(`${what} type`);
    const beginS = r.u32(`${what} begin`);
    const end = timeReal(r, `${what} end`);
    const vehicle = vrn(r, `${what} vehicle`, ctx.sink);
    if (beginS !== 0) out.push({ type, begin: isoTime(beginS), end, vehicle });
  }
  return out;
}

/**
 * A ring of records behind a "newest record" pointer: output oldest first (walking from the slot
 * after the pointer), empty slots (time 0) skipped; `slot` keeps each record's position in the EF.
 */
export interface RecordRing<T> {
  newestIndex: number;
  /** Slots in the EF, used or not. */
  slots: number;
  records: (T & { slot: number })[];
}

function ring<T>(r: DddReader, pointerBytes: 1 | 2, size: number, what: string, read: (r: DddReader) => T | null): RecordRing<T> {
  const newestIndex = pointerBytes === 1 ? r.u8(`${what} newest pointer`) : r.u16(`${what} newest pointer`);
  const slots = Math.floor(r.remaining / size);
  needRecords(r, slots, size, what);
  const bySlot: (T | null)[] = [];
  for (let i = 0; i < slots; i++) bySlot.push(read(r.sub(size, `${what} record ${i}`)));
  const records: (T & { slot: number })[] = [];
  for (let k = 1; k <= slots; k++) {
    const slot = (newestIndex + k) % slots;
    const x = bySlot[slot];
    if (x) records.push({ ...x, slot });
  }
  return { newestIndex, slots, records };
}

export interface VehicleUsed {
  odometerBegin: number;
  odometerEnd: number;
  firstUse: string | null;
  lastUse: string | null;
  vehicle: Vrn;
  vuDataBlockCounter: string;
  vin?: string;
}

export function vehiclesUsed(r: DddReader, ctx: EfContext): RecordRing<VehicleUsed> {
  return ring(r, 2, ctx.generation === 1 ? 31 : 48, 'vehicle used', (x) => {
    const odometerBegin = x.u24('odometer begin');
    const odometerEnd = x.u24('odometer end');
    const firstS = x.u32('first use');
    const lastUse = timeReal(x, 'last use');
    const vehicle = vrn(x, 'vehicle', ctx.sink);
    const vuDataBlockCounter = bcd(x.bytes(2, 'VU data block counter'));
    if (firstS === 0) return null;
    const v: VehicleUsed = { odometerBegin, odometerEnd, firstUse: isoTime(firstS), lastUse, vehicle, vuDataBlockCounter };
    if (ctx.generation === 2) v.vin = ia5(x, 17, 'VIN');
    return v;
  });
}

export interface Place {
  time: string | null;
  entryType: number;
  country: number;
  region: number;
  odometer: number;
  gnss?: GnssPlace;
}

export function places(r: DddReader, ctx: EfContext): RecordRing<Place> {
  return ring(r, ctx.generation === 1 ? 1 : 2, ctx.generation === 1 ? 10 : 21, 'place', (x) => {
    const t = x.u32('entry time');
    const p: Place = { time: isoTime(t), entryType: x.u8('entry type'), country: x.u8('country'), region: x.u8('region'), odometer: x.u24('odometer') };
    if (ctx.generation === 2) p.gnss = gnssPlace(x, 'place GNSS');
    return t === 0 ? null : p;
  });
}

export function currentUsage(r: DddReader, ctx: EfContext): { sessionOpenTime: string | null; sessionOpenVehicle: Vrn } {
  return { sessionOpenTime: timeReal(r, 'session open time'), sessionOpenVehicle: vrn(r, 'session open vehicle', ctx.sink) };
}

export interface ControlActivity {
  controlType: number;
  time: string | null;
  controlCard: FullCardNumber;
  vehicle: Vrn;
  downloadPeriodBegin: string | null;
  downloadPeriodEnd: string | null;
}

/** Only the last control is stored; null when there was none (time 0). */
export function controlActivity(r: DddReader, ctx: EfContext): ControlActivity | null {
  const controlType = r.u8('control type');
  const t = r.u32('control time');
  const c: ControlActivity = { controlType, time: isoTime(t), controlCard: fullCardNumber(r, 'control card'), vehicle: vrn(r, 'controlled vehicle', ctx.sink), downloadPeriodBegin: timeReal(r, 'download period begin'), downloadPeriodEnd: timeReal(r, 'download period end') };
  return t === 0 ? null : c;
}

export interface SpecificCondition {
  time: string | null;
  type: number;
}

/** Gen1: 56 records, no pointer (kept in slot order); Gen2: a pointer and a ring. */
export function specificConditions(r: DddReader, ctx: EfContext): RecordRing<SpecificCondition> | { records: SpecificCondition[] } {
  const read = (x: DddReader): SpecificCondition | null => {
    const t = x.u32('condition time');
    const type = x.u8('condition type');
    return t === 0 ? null : { time: isoTime(t), type };
  };
  if (ctx.generation === 2) return ring(r, 2, 5, 'specific condition', read);
  const records: SpecificCondition[] = [];
  while (r.remaining >= 5) {
    const c = read(r.sub(5, 'specific condition'));
    if (c) records.push(c);
  }
  return { records };
}

const vuRecord = new bp.Parser().uint32be('timeS').uint8('manufacturerCode').uint8('deviceId').string('vuSoftwareVersion', { length: 4, encoding: 'ascii' });

export function vehicleUnitsUsed(r: DddReader): RecordRing<{ time: string | null; manufacturerCode: number; deviceId: number; vuSoftwareVersion: string }> {
  return ring(r, 2, 10, 'vehicle unit used', (x) => {
    const v = vuRecord.parse(x.bytes(10, 'vehicle unit record')) as { timeS: number; manufacturerCode: number; deviceId: number; vuSoftwareVersion: string };
    return v.timeS === 0 ? null : { time: isoTime(v.timeS), manufacturerCode: v.manufacturerCode, deviceId: v.deviceId, vuSoftwareVersion: v.vuSoftwareVersion };
  });
}

export function gnssPlaces(r: DddReader): RecordRing<{ time: string | null; place: GnssPlace; odometer: number }> {
  return ring(r, 2, 18, 'GNSS accumulated driving', (x) => {
    const t = x.u32('GNSS record time');
    const place = gnssPlace(x, 'GNSS place');
    const odometer = x.u24('odometer');
    return t === 0 ? null : { time: isoTime(t), place, odometer };
  });
}

/** Gen2 v2 EF_Places_Authentication / EF_GNSS_Places_Authentication and EF_Load_Type_Entries: time + one status byte. */
export function timeAndByte(r: DddReader, what: string): RecordRing<{ time: string | null; value: number }> {
  return ring(r, 2, 5, what, (x) => {
    const t = x.u32(`${what} time`);
    const value = x.u8(what);
    return t === 0 ? null : { time: isoTime(t), value };
  });
}

export function borderCrossings(r: DddReader): RecordRing<{ countryLeft: number; countryEntered: number; place: GnssPlace; odometer: number }> {
  return ring(r, 2, 17, 'border crossing', (x) => {
    const countryLeft = x.u8('country left');
    const countryEntered = x.u8('country entered');
    const place = gnssPlace(x, 'border crossing place', true);
    const odometer = x.u24('odometer');
    return place.time === null ? null : { countryLeft, countryEntered, place, odometer };
  });
}

export function loadUnloadOperations(r: DddReader): RecordRing<{ time: string | null; operationType: number; place: GnssPlace; odometer: number }> {
  return ring(r, 2, 20, 'load/unload operation', (x) => {
    const t = x.u32('operation time');
    const operationType = x.u8('operation type');
    const place = gnssPlace(x, 'operation place', true);
    const odometer = x.u24('odometer');
    return t === 0 ? null : { time: isoTime(t), operationType, place, odometer };
  });
}
