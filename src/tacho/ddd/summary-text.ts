/** A few lines for a person at a terminal (`edge-channel ddd FILE` on a TTY or with --summary). */
import type { DddDocument } from './parse.js';
import { summarize } from './summary.js';

export function summaryText(doc: DddDocument): string {
  const s = summarize(doc);
  const what = doc.kind === 'driver_card' ? 'driver card' : 'vehicle unit';
  const gen = doc.generation === 2 ? `Gen2${doc.gen2Version ? ` v${doc.gen2Version}` : ''}` : 'Gen1';
  const lines = [`${what} download, ${gen}, ${doc.bytes} bytes`];
  if (doc.kind === 'driver_card') lines.push(`driver:      ${s.driver ?? '-'}  card ${s.cardNumber ?? '-'} (nation ${s.cardNation ?? '-'}, expires ${s.cardExpiry ?? '-'})`);
  else lines.push(`vehicle:     VIN ${s.vin || '-'}  registration ${s.vehicleRegistration || '-'}`);
  lines.push(`activity:    ${s.daysCovered} day(s) ${s.firstDay ?? ''}${s.lastDay && s.lastDay !== s.firstDay ? ` .. ${s.lastDay}` : ''}, ${s.activityIntervals} interval(s)`);
  lines.push(`records:     ${s.events} event(s), ${s.faults} fault(s), ${s.vehiclesUsed} vehicle(s) used, ${s.places} place(s)${doc.kind === 'vehicle_unit' ? `, ${s.calibrations} calibration(s)` : ''}`);
  lines.push(`signature:   ${s['signature.verified'] ? 'verified' : 'NOT verified'} (${s['signature.reason']})`);
  if (doc.warnings.length) lines.push(`warnings:    ${doc.warnings.length} (first: @${doc.warnings[0]!.offset} ${doc.warnings[0]!.reason})`);
  return lines.join('\n') + '\n';
}
