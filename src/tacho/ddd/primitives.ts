/**
 * The primitive data types of Appendix 1 (all big-endian), read from a DddReader into JSON-able
 * values: times as ISO 8601 UTC strings (null when unset), BCD as digit strings, text trimmed of
 * its padding.
 */
import { civilFromUnix } from '../../codec/time.js';
import { decodeText, knownCodePage } from './code-pages.js';
import type { DddReader } from './reader.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Seconds since 1970 UTC as `YYYY-MM-DDTHH:MM:SSZ`, by arithmetic: the purity lint keeps `Date` out of parsers. */
export function isoSeconds(t: number): string {
  const c = civilFromUnix(t);
  return `${pad(c.year, 4)}-${pad(c.month)}-${pad(c.day)}T${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}Z`;
}

/** TimeReal: seconds since 1970 UTC; 0 and 0xFFFFFFFF mean "not set". */
export function isoTime(t: number): string | null {
  return t === 0 || t === 0xffffffff ? null : isoSeconds(t);
}

export function timeReal(r: DddReader, what: string): string | null {
  return isoTime(r.u32(what));
}

export function bcd(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x >> 4).toString(16) + (x & 15).toString(16);
  return s;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Trailing space, NUL and 0xFF are padding (Appendix 1: unused fields may be all 00 or FF). */
function trimPadding(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && (b[n - 1] === 0x20 || b[n - 1] === 0 || b[n - 1] === 0xff)) n--;
  return b.subarray(0, n);
}

export function ia5(r: DddReader, n: number, what: string): string {
  return decodeText(1, trimPadding(r.bytes(n, what)));
}

/** Collects what the caller reports as warnings (unknown code pages) without a logger or globals. */
export interface TextSink {
  unknownCodePage(cp: number, at: number): void;
}

/** Name/Address (36) and VehicleRegistrationNumber (14): code page byte + text. */
export function codePageText(r: DddReader, n: number, what: string, sink?: TextSink): string {
  const at = r.pos;
  const cp = r.u8(`${what} code page`);
  const text = trimPadding(r.bytes(n - 1, what));
  if (text.length > 0 && !knownCodePage(cp)) sink?.unknownCodePage(cp, at);
  return decodeText(cp, text);
}

export function name(r: DddReader, what: string, sink?: TextSink): string {
  return codePageText(r, 36, what, sink);
}

export interface Vrn {
  nation: number;
  number: string;
}

/** VehicleRegistrationIdentification (15): nation + code-paged number (13). */
export function vrn(r: DddReader, what: string, sink?: TextSink): Vrn {
  const nation = r.u8(`${what} nation`);
  return { nation, number: codePageText(r, 14, `${what} number`, sink) };
}

export interface FullCardNumber {
  type: number;
  nation: number;
  number: string;
  /** Gen2 FullCardNumberAndGeneration only: 1 or 2 (0 for no card). */
  generation?: number;
}

export function fullCardNumber(r: DddReader, what: string, withGeneration = false): FullCardNumber {
  const type = r.u8(`${what} card type`);
  const nation = r.u8(`${what} nation`);
  const number = ia5(r, 16, `${what} number`);
  const c: FullCardNumber = { type, nation, number };
  if (withGeneration) c.generation = r.u8(`${what} generation`);
  return c;
}

export interface ExtendedSerialNumber {
  serialNumber: number;
  monthYear: string;
  type: number;
  manufacturerCode: number;
}

export function extendedSerialNumber(r: DddReader, what: string): ExtendedSerialNumber {
  return { serialNumber: r.u32(`${what} serial`), monthYear: bcd(r.bytes(2, `${what} month/year`)), type: r.u8(`${what} type`), manufacturerCode: r.u8(`${what} manufacturer`) };
}

/** Signed 24-bit ±DDMM.M × 10 to degrees; 0x7FFFFF is "unknown position". */
function coordinate(raw: number): number | null {
  if (raw === 0x7fffff) return null;
  const v = raw & 0x800000 ? raw - 0x1000000 : raw;
  const a = Math.abs(v);
  const deg = Math.floor(a / 1000) + (a % 1000) / 600;
  return Math.round(Math.sign(v) * deg * 1e6) / 1e6;
}

export interface GnssPlace {
  time: string | null;
  accuracy: number;
  /** Raw signed ±DDMM.M × 10 values, as stored. */
  latRaw: number;
  lonRaw: number;
  lat: number | null;
  lon: number | null;
  /** Gen2 v2 GNSSPlaceAuthRecord only. */
  authenticated?: boolean;
}

export function gnssPlace(r: DddReader, what: string, withAuth = false): GnssPlace {
  const time = timeReal(r, `${what} time`);
  const accuracy = r.u8(`${what} accuracy`);
  const la = r.u24(`${what} latitude`);
  const lo = r.u24(`${what} longitude`);
  const p: GnssPlace = { time, accuracy, latRaw: la & 0x800000 ? la - 0x1000000 : la, lonRaw: lo & 0x800000 ? lo - 0x1000000 : lo, lat: coordinate(la), lon: coordinate(lo) };
  if (withAuth) p.authenticated = r.u8(`${what} authentication status`) === 1;
  return p;
}
