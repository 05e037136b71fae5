/**
 * When a tachograph download is due (README "Scheduled downloads"). EU Regulation 165/2014 and
 * 581/2010: each driver card at least every 28 days, the vehicle unit at least every 90 days; a
 * fleet may download more often (the settings are capped at the legal periods, never above). Pure:
 * the scheduler passes the clock in, so a test can move it.
 */
export const LEGAL_DRIVER_CARD_DAYS = 28;
export const LEGAL_VEHICLE_UNIT_DAYS = 90;
const DAY_MS = 86_400_000;

export interface ScheduleSettings {
  enabled: boolean;
  driverCardDays: number;
  vehicleUnitDays: number;
}

/** The next due time of a download last done at `lastMs` (null: never, so due now). */
export function nextDue(lastMs: number | null, days: number, nowMs: number): number {
  return lastMs === null ? nowMs : lastMs + days * DAY_MS;
}

/**
 * The period a scheduled download asks for: from the last download (so nothing is missed between two)
 * or, the first time, the whole legal period back; to now. Unix seconds, as the command takes them.
 */
export function downloadPeriod(lastMs: number | null, legalDays: number, nowMs: number): { from: number; to: number } {
  const from = lastMs ?? nowMs - legalDays * DAY_MS;
  return { from: Math.floor(from / 1000), to: Math.floor(nowMs / 1000) };
}

/**
 * A driver card as the tracker reports it (FMS driver identification: 14 characters of card number,
 * then replacement and renewal index) and as the card file says it (16 characters): the first 14
 * characters identify the driver across renewals, so both forms meet there.
 */
export function cardKey(id: string): string | null {
  const t = id.trim();
  return t.length >= 14 ? t.slice(0, 14).toUpperCase() : null;
}
