/**
 * Text in tachograph data (Appendix 1 chapter 4): Name, Address and VehicleRegistrationNumber carry
 * a code-page byte before the text. Node's TextDecoder covers most ISO 8859 parts but maps 8859-1
 * to windows-1252 and rejects 8859-16, so 1 is decoded one code point per byte and 16 with the
 * table of the code points that differ from Latin-1 (ISO/IEC 8859-16:2001).
 */
import { TextDecoder } from 'node:util';

const LATIN10: Record<number, number> = {
  0xa1: 0x104, 0xa2: 0x105, 0xa3: 0x141, 0xa4: 0x20ac, 0xa5: 0x201e, 0xa6: 0x160, 0xa8: 0x161, 0xaa: 0x218, 0xac: 0x179, 0xae: 0x17a, 0xaf: 0x17b,
  0xb2: 0x10c, 0xb3: 0x142, 0xb4: 0x17d, 0xb5: 0x201d, 0xb8: 0x17e, 0xb9: 0x10d, 0xba: 0x219, 0xbc: 0x152, 0xbd: 0x153, 0xbe: 0x178, 0xbf: 0x17c,
  0xc3: 0x102, 0xc5: 0x106, 0xd0: 0x110, 0xd1: 0x143, 0xd5: 0x150, 0xd7: 0x15a, 0xd8: 0x170, 0xdd: 0x118, 0xde: 0x21a,
  0xe3: 0x103, 0xe5: 0x107, 0xf0: 0x111, 0xf1: 0x144, 0xf5: 0x151, 0xf7: 0x15b, 0xf8: 0x171, 0xfd: 0x119, 0xfe: 0x21b,
};

const LABELS: Record<number, string> = {
  2: 'iso-8859-2', 3: 'iso-8859-3', 5: 'iso-8859-5', 7: 'iso-8859-7', 9: 'windows-1254', 13: 'iso-8859-13', 15: 'iso-8859-15', 80: 'koi8-r', 85: 'koi8-u',
};
const decoders = new Map<number, TextDecoder>();

/** Code pages this module decodes exactly; others are read as Latin-1 and reported by the caller. */
export function knownCodePage(cp: number): boolean {
  return cp === 1 || cp === 16 || cp in LABELS;
}

export function decodeText(cp: number, b: Uint8Array): string {
  const label = LABELS[cp];
  if (label) {
    let d = decoders.get(cp);
    if (!d) decoders.set(cp, (d = new TextDecoder(label)));
    return d.decode(b);
  }
  let s = '';
  for (const c of b) s += String.fromCharCode(cp === 16 ? (LATIN10[c] ?? c) : c);
  return s;
}
