/** The vehicle-unit part of the output document, shared by the Gen1 and Gen2 transfer decoders. */
import type { ActivityInterval, DayTotals } from './activity.js';
import type { Place } from './card-efs.js';
import type { ExtendedSerialNumber, FullCardNumber, GnssPlace, Vrn } from './primitives.js';

export interface VuTransfer {
  /** TREP as 2 hex digits (01..05 Gen1, 21..25 Gen2 v1, 31..35 and 24 Gen2 v2, 00 interface version). */
  trep: string;
  generation: 1 | 2;
  /** Offset of the 0x76 byte. */
  offset: number;
  /** Bytes after SID and TREP. */
  length: number;
  /** Gen2: the record arrays as found (type byte, record size, count, offset). */
  recordArrays?: { type: number; recordSize: number; count: number; offset: number }[];
}

export interface VuOverview {
  vin: string;
  vehicle: Vrn;
  currentDateTime: string | null;
  downloadablePeriod: { begin: string | null; end: string | null };
  /** High nibble co-driver slot, low nibble driver slot (0 none, 1 driver, 2 workshop, 3 control, 4 company). */
  cardSlotsStatus: number;
  lastDownload: { time: string | null; card: FullCardNumber; companyOrWorkshopName: string } | null;
  companyLocks: { lockIn: string | null; lockOut: string | null; companyName: string; companyAddress: string; companyCard: FullCardNumber }[];
  controls: { controlType: number; time: string | null; controlCard: FullCardNumber; downloadPeriodBegin: string | null; downloadPeriodEnd: string | null }[];
}

export interface VuCardInsertion {
  holder: { surname: string; firstNames: string };
  card: FullCardNumber;
  cardExpiryDate: string | null;
  insertion: string | null;
  odometerAtInsertion: number;
  slot: number;
  withdrawal: string | null;
  odometerAtWithdrawal: number;
  previousVehicle: { vehicle: Vrn; withdrawal: string | null };
  manualInput: boolean;
}

/** A card's PlaceRecord with the card it belongs to (VuPlaceDailyWorkPeriodRecord). */
export interface VuPlace extends Place {
  card: FullCardNumber;
}

export interface VuDay {
  /** As stored; Gen1 VUs write 23:59:59 of the day or the download time. */
  dateOfDay: string | null;
  /** UTC date (YYYY-MM-DD) of `dateOfDay`: the day the activities belong to. */
  day: string | null;
  odometerMidnight: number;
  cardInsertions: VuCardInsertion[];
  changeWords: number;
  monotonic: boolean;
  invalidWords: number[];
  /** Minutes per activity and slot with a card in that slot. */
  totals: { driver: DayTotals; coDriver: DayTotals };
  intervals: ActivityInterval[];
  places: VuPlace[];
  gnssAccumulatedDriving?: { time: string | null; cards: FullCardNumber[]; place: GnssPlace; odometer: number }[];
  specificConditions: { time: string | null; type: number }[];
  /** Gen2 v2. */
  borderCrossings?: { cards: FullCardNumber[]; countryLeft: number; countryEntered: number; place: GnssPlace; odometer: number }[];
  loadUnloadOperations?: { time: string | null; operationType: number; cards: FullCardNumber[]; place: GnssPlace; odometer: number }[];
}

export interface VuEventOrFault {
  type: number;
  purpose: number;
  begin: string | null;
  end: string | null;
  cards: { driverBegin: FullCardNumber; coDriverBegin: FullCardNumber; driverEnd: FullCardNumber; coDriverEnd: FullCardNumber };
  similarEvents?: number;
}

export interface VuEventsAndFaults {
  faults: VuEventOrFault[];
  events: VuEventOrFault[];
  overSpeedingControl: { lastControl: string | null; firstOverspeedSince: string | null; numberOfOverspeedSince: number } | null;
  overSpeedingEvents: { type: number; purpose: number; begin: string | null; end: string | null; maxSpeed: number; averageSpeed: number; card: FullCardNumber; similarEvents: number }[];
  timeAdjustments: { oldTime: string | null; newTime: string | null; workshopName: string; workshopAddress: string; workshopCard: FullCardNumber }[];
}

export interface VuCalibration {
  purpose: number;
  workshopName: string;
  workshopAddress: string;
  workshopCard: FullCardNumber;
  workshopCardExpiry: string | null;
  vin: string;
  vehicle: Vrn;
  wVehicleCharacteristicConstant: number;
  kConstantOfRecordingEquipment: number;
  lTyreCircumference: number;
  tyreSize: string;
  authorisedSpeed: number;
  oldOdometer: number;
  newOdometer: number;
  oldTime: string | null;
  newTime: string | null;
  nextCalibrationDate: string | null;
}

export interface VuTechnicalData {
  /** false when the layout is not one this parser knows (e.g. the sample Gen2 v2 files): framing only. */
  decoded: boolean;
  reason?: string;
  vuIdentification?: {
    manufacturerName: string;
    manufacturerAddress: string;
    partNumber: string;
    serialNumber: ExtendedSerialNumber;
    softwareVersion: string;
    softwareInstallation: string | null;
    manufacturingDate: string | null;
    approvalNumber: string;
  };
  sensorPaired?: { serialNumber: ExtendedSerialNumber; approvalNumber: string; firstPairing: string | null };
  calibrations?: VuCalibration[];
}

export interface VuDocument {
  transfers: VuTransfer[];
  downloadInterfaceVersion?: string;
  overview?: VuOverview;
  days: VuDay[];
  eventsAndFaults?: VuEventsAndFaults;
  detailedSpeed?: { blocks: { begin: string | null; speeds: number[] }[] };
  technicalData?: VuTechnicalData;
}
