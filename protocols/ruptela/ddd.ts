/**
 * Labels a tachograph download (.DDD, EU 2016/799 Annex IC Appendix 7) from its first bytes; no
 * further parsing (files are parsed offline).
 *
 * - Vehicle unit: TREP-tagged blocks, each after the positive response SID 0x76:
 *   `76 01..05` generation 1, `76 21..25` generation 2, `76 31..35` generation 2 version 2.
 * - Driver card: a sequence of `file id u16 | type u8 | length u16 | data` blocks starting with
 *   EF_ICC (file id 0x0002); type 0/1 = generation 1 data/signature, 2/3 = generation 2.
 */
export interface DddLabel {
  source: 'vehicle_unit' | 'driver_card' | 'unknown';
  generation: 1 | 2 | null;
  ddd: boolean;
}

export function labelDdd(first: Uint8Array): DddLabel {
  if (first.length >= 2 && first[0] === 0x76) {
    const trep = first[1]!;
    if (trep >= 0x01 && trep <= 0x05) return { source: 'vehicle_unit', generation: 1, ddd: true };
    if ((trep >= 0x21 && trep <= 0x25) || (trep >= 0x31 && trep <= 0x35)) return { source: 'vehicle_unit', generation: 2, ddd: true };
  }
  if (first.length >= 5 && first[0] === 0x00 && first[1] === 0x02 && first[2]! <= 3) {
    return { source: 'driver_card', generation: first[2]! <= 1 ? 1 : 2, ddd: true };
  }
  return { source: 'unknown', generation: null, ddd: false };
}
