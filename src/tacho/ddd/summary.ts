/**
 * The `tacho.download` summary of a parsed file: the few fields a fleet platform indexes a download
 * by (who, which card or vehicle, which days, how much), flat and JSON-able. For cards the Gen2
 * section is preferred when present; days are counted over both sections, because a Gen2 card's
 * Gen1 section also holds days driven with Gen1 VUs that its Gen2 section lacks.
 */
import type { CardSection } from './card-file.js';
import type { DddDocument } from './parse.js';

export interface DddSummary {
  kind: DddDocument['kind'];
  generation: 1 | 2;
  /** "Surname, First names" of the card holder (cards). */
  driver: string | null;
  cardNumber: string | null;
  cardNation: number | null;
  cardExpiry: string | null;
  vin: string | null;
  vehicleRegistration: string | null;
  /** Distinct UTC dates with activity records. */
  daysCovered: number;
  firstDay: string | null;
  lastDay: string | null;
  /** Begin of the first and end of the last activity interval. */
  firstActivity: string | null;
  lastActivity: string | null;
  activityIntervals: number;
  events: number;
  faults: number;
  vehiclesUsed: number;
  places: number;
  calibrations: number;
  lastCardDownload: string | null;
  'signature.verified': boolean;
  'signature.reason': string;
  warnings: number;
}

export function summarize(doc: DddDocument): DddSummary {
  const s: DddSummary = {
    kind: doc.kind,
    generation: doc.generation,
    driver: null,
    cardNumber: null,
    cardNation: null,
    cardExpiry: null,
    vin: null,
    vehicleRegistration: null,
    daysCovered: 0,
    firstDay: null,
    lastDay: null,
    firstActivity: null,
    lastActivity: null,
    activityIntervals: 0,
    events: 0,
    faults: 0,
    vehiclesUsed: 0,
    places: 0,
    calibrations: 0,
    lastCardDownload: null,
    'signature.verified': doc.signature.verified,
    'signature.reason': doc.signature.reason,
    warnings: doc.warnings.length,
  };
  const days = new Map<string, { begin: string; end: string; n: number }>();
  const addDay = (day: string | null, intervals: readonly { begin: string; end: string }[]) => {
    if (!day) return;
    const d = day.slice(0, 10);
    const cur = days.get(d);
    const first = intervals[0]?.begin;
    const last = intervals.reduce<string | undefined>((m, i) => (m === undefined || i.end > m ? i.end : m), undefined);
    if (!cur) days.set(d, { begin: first ?? '', end: last ?? '', n: intervals.length });
    else {
      // both card sections hold the same day: count its intervals once (the larger section's)
      if (first && (!cur.begin || first < cur.begin)) cur.begin = first;
      if (last && last > cur.end) cur.end = last;
      cur.n = Math.max(cur.n, intervals.length);
    }
  };
  if (doc.card) {
    const main: CardSection | undefined = doc.card.g2 ?? doc.card.g1;
    const id = main?.identification ?? doc.card.g1?.identification;
    if (id) {
      s.driver = [id.holder.surname, id.holder.firstNames].filter((x) => x).join(', ') || null;
      s.cardNumber = id.cardNumber;
      s.cardNation = id.issuingNation;
      s.cardExpiry = id.expiryDate;
    }
    for (const sec of [doc.card.g1, doc.card.g2]) for (const d of sec?.activity?.days ?? []) addDay(d.date, d.intervals);
    s.events = main?.events?.length ?? 0;
    s.faults = main?.faults?.length ?? 0;
    s.vehiclesUsed = main?.vehiclesUsed?.records.length ?? 0;
    s.places = main?.places?.records.length ?? 0;
    s.lastCardDownload = main?.lastCardDownload ?? null;
  }
  if (doc.vu) {
    const o = doc.vu.overview;
    s.vin = o?.vin ?? null;
    s.vehicleRegistration = o?.vehicle.number ?? null;
    for (const d of doc.vu.days) addDay(d.day, d.intervals);
    s.events = doc.vu.eventsAndFaults?.events.length ?? 0;
    s.faults = doc.vu.eventsAndFaults?.faults.length ?? 0;
    s.calibrations = doc.vu.technicalData?.calibrations?.length ?? 0;
    s.places = doc.vu.days.reduce((n, d) => n + d.places.length, 0);
  }
  const sorted = [...days.keys()].sort();
  s.daysCovered = sorted.length;
  s.firstDay = sorted[0] ?? null;
  s.lastDay = sorted[sorted.length - 1] ?? null;
  for (const d of sorted) {
    const x = days.get(d)!;
    s.activityIntervals += x.n;
    if (x.begin && !s.firstActivity) s.firstActivity = x.begin;
    if (x.end) s.lastActivity = x.end;
  }
  return s;
}
