/**
 * What a parsed download says on MQTT (README "Tachograph files (DDD)", "Messages of a download"):
 * one `tacho.download` summary message per file and, when the config asks for them, one message per
 * activity interval whose `timestamp` is the interval's begin (device time), so a fleet platform
 * that stores messages by time gets the driver's day in order beside the positions. Pure (the
 * worker pool runs it right after the parse); flat JSON-able fields with dotted names.
 */
import { utcSeconds } from '../../codec/time.js';
import type { ActivityInterval } from './activity.js';
import type { DddDocument } from './parse.js';
import type { DddSummary } from './summary.js';

export type FlatValue = string | number | boolean | null;
export type FlatMessage = Record<string, FlatValue>;

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Unix seconds of the parser's ISO times (`YYYY-MM-DDTHH:MM:SSZ`, UTC); null stays null. No Date: the tacho layer is clock-free. */
function unix(iso: string | null | undefined): number | null {
  const m = iso ? ISO.exec(iso) : null;
  if (!m) return null;
  return utcSeconds(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** The summary under `tacho.download.*` (and `tacho.signature.*`), times as Unix seconds like every message time. */
export function downloadFields(s: DddSummary): FlatMessage {
  return {
    'tacho.download.kind': s.kind,
    'tacho.download.generation': s.generation,
    'tacho.download.driver': s.driver,
    'tacho.download.card.number': s.cardNumber,
    'tacho.download.card.nation': s.cardNation,
    'tacho.download.card.expiry': unix(s.cardExpiry),
    'tacho.download.vin': s.vin,
    'tacho.download.vehicle.registration': s.vehicleRegistration,
    'tacho.download.days.covered': s.daysCovered,
    'tacho.download.first.day': s.firstDay,
    'tacho.download.last.day': s.lastDay,
    'tacho.download.first.activity': unix(s.firstActivity),
    'tacho.download.last.activity': unix(s.lastActivity),
    'tacho.download.activity.intervals': s.activityIntervals,
    'tacho.download.events': s.events,
    'tacho.download.faults': s.faults,
    'tacho.download.vehicles.used': s.vehiclesUsed,
    'tacho.download.places': s.places,
    'tacho.download.calibrations': s.calibrations,
    'tacho.download.last.card.download': unix(s.lastCardDownload),
    'tacho.download.warnings': s.warnings,
    'tacho.signature.verified': s['signature.verified'],
    'tacho.signature.reason': s['signature.reason'],
  };
}

interface Sourced {
  interval: ActivityInterval;
  /** UTC date of the day record, and whether its change minutes only go forward (false: intervals as stored, some may end before they begin). */
  day: string;
  monotonic: boolean;
  /** The card the interval belongs to: the card's own number, or (VU) the card inserted in that slot then. */
  card: string | null;
}

/**
 * Every activity interval of the file, day by day (oldest day first), in stored order within a day
 * (a day whose change minutes go backwards keeps its order: nothing is dropped or re-read). A Gen2 card holds a Gen1 and a Gen2 section
 * that can both cover a day: the day is taken from the Gen2 section, and from the Gen1 one only when
 * the Gen2 section lacks it (the summary counts days the same way). A VU day's intervals are
 * attributed to the card that was in the slot when the interval began, when one was.
 */
function intervals(doc: DddDocument, cardNumber: string | null): Sourced[] {
  const out: Sourced[] = [];
  if (doc.card) {
    const seen = new Set<string>();
    for (const sec of [doc.card.g2, doc.card.g1]) {
      for (const d of sec?.activity?.days ?? []) {
        const day = d.date?.slice(0, 10);
        if (!day || seen.has(day)) continue;
        seen.add(day);
        for (const i of d.intervals) out.push({ interval: i, day, monotonic: d.monotonic, card: cardNumber });
      }
    }
  }
  for (const d of doc.vu?.days ?? []) {
    const day = d.day ?? '';
    for (const i of d.intervals) {
      const slot = i.slot === 'driver' ? 0 : 1;
      const ins = d.cardInsertions.find((c) => c.slot === slot && c.insertion !== null && c.insertion <= i.begin && (c.withdrawal === null || c.withdrawal > i.begin));
      out.push({ interval: i, day, monotonic: d.monotonic, card: ins ? ins.card.number : null });
    }
  }
  // stable: days in order, each day's intervals as stored
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/** One message per activity interval: `timestamp` = its begin, the interval under `tacho.activity.*`. */
export function activityMessages(doc: DddDocument, s: DddSummary): FlatMessage[] {
  return intervals(doc, s.cardNumber).map(({ interval: i, card, day, monotonic }) => {
    const begin = unix(i.begin)!;
    const end = unix(i.end)!;
    return {
      timestamp: begin,
      'tacho.activity.source': doc.kind,
      'tacho.activity.slot': i.slot,
      'tacho.activity.type': i.activity,
      'tacho.activity.begin': begin,
      'tacho.activity.end': end,
      'tacho.activity.duration': end - begin,
      'tacho.activity.driving.status': i.drivingStatus,
      'tacho.activity.card.inserted': i.cardInserted,
      'tacho.activity.manual.entry': i.manualEntry,
      'tacho.activity.card.number': card,
      'tacho.activity.vin': s.vin,
      'tacho.activity.day': day,
      'tacho.activity.day.monotonic': monotonic,
    };
  });
}

/** What the runtime needs of one stored file, computed in one place (the worker pool). */
export interface DownloadOutcome {
  /** The parsed document as JSON text (stored next to the file). */
  json: string;
  kind: DddDocument['kind'];
  /** The card number (driver cards) or null: the download schedule keys driver-card downloads by it. */
  cardNumber: string | null;
  vin: string | null;
  fields: FlatMessage;
  /** Empty unless asked for. */
  activities: FlatMessage[];
}

export function downloadOutcome(doc: DddDocument, s: DddSummary, withActivities: boolean): DownloadOutcome {
  return { json: JSON.stringify(doc), kind: doc.kind, cardNumber: s.cardNumber, vin: s.vin, fields: downloadFields(s), activities: withActivities ? activityMessages(doc, s) : [] };
}
