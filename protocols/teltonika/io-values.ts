/**
 * Applies an IO dictionary (io-names.ts) to the IO elements of one record. Elements arrive as
 * (id, width, value): 1/2/4-byte values as unsigned numbers, 8-byte and NX values as byte views.
 */
import { toHex } from '../../src/codec/hex.js';
import { scaled } from '../../src/protocol/message.js';
import type { Message } from '../../src/protocol/types.js';
import { readSimpleBeacons, readTlvBeacons } from './beacons.js';
import type { IoSpec, IoWidth } from './io-names.js';

export interface IoElement {
  id: number;
  width: IoWidth;
  value: number | Uint8Array;
}

function raw(out: Message, e: IoElement): void {
  out[`io.${e.id}`] = typeof e.value === 'number' ? e.value : toHex(e.value);
}

/** Printable ASCII without NUL/space padding, or null (empty, or a byte outside 0x20..0x7e). */
function asciiText(b: Uint8Array): string | null {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0) continue;
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  s = s.trim();
  return s === '' ? null : s;
}

function signedOf(v: number, width: IoWidth): number {
  const bits = width * 8;
  return v >= 2 ** (bits - 1) ? v - 2 ** bits : v;
}

/** Named (or raw) fields of `elements` into `out`. */
export function applyIo(elements: readonly IoElement[], dict: ReadonlyMap<number, IoSpec>, out: Message): void {
  let pairsSeen = false;
  for (const e of elements) {
    const spec = dict.get(e.id);
    if (spec === undefined || spec.width !== e.width) raw(out, e);
    else if (spec.kind === 'pair') pairsSeen = true; // joined below, once every element is known
    else if (!named(spec, e, out)) raw(out, e);
  }
  if (pairsSeen) joinPairs(elements, dict, out);
}

/**
 * Driver-id pairs: both halves are consumed when they join, whatever their wire order (the second
 * half was published raw by the first pass and is removed again); a half alone stays raw.
 */
function joinPairs(elements: readonly IoElement[], dict: ReadonlyMap<number, IoSpec>, out: Message): void {
  for (const e of elements) {
    const spec = dict.get(e.id);
    if (spec?.kind !== 'pair' || spec.width !== e.width) continue;
    const second = elements.find((x) => x.id === spec.second);
    if (second !== undefined && joinPair(spec.name, e, second, out)) delete out[`io.${second.id}`];
    else raw(out, e);
  }
}

function joinPair(name: string, first: IoElement, second: IoElement, out: Message): boolean {
  if (typeof first.value === 'number' || typeof second.value === 'number' || second.width !== 8) return false;
  const joined = new Uint8Array(16);
  joined.set(first.value, 0);
  joined.set(second.value, 8);
  const t = asciiText(joined);
  if (t === null) return false;
  out[name] = t;
  return true;
}

function named(spec: IoSpec, e: IoElement, out: Message): boolean {
  const v = e.value;
  switch (spec.kind) {
    case 'bool':
      if (v !== 0 && v !== 1) return false;
      out[spec.name] = v === 1;
      return true;
    case 'number': {
      if (typeof v !== 'number' || spec.errors.includes(v)) return false;
      const n = spec.signed ? signedOf(v, e.width) : v;
      out[spec.name] = spec.div === 1 && spec.mul === 1 ? n : scaled(n, spec.mul / spec.div, spec.decimals);
      return true;
    }
    case 'hex':
      if (typeof v === 'number' || v.every((b) => b === 0)) return false;
      out[spec.name] = toHex(v);
      return true;
    case 'text': {
      if (typeof v === 'number') return false;
      const t = asciiText(v);
      if (t === null) return false;
      out[spec.name] = t;
      return true;
    }
    case 'pair':
      return false; // joined in applyIo, or raw when its other half is missing
    case 'list':
      if (typeof v === 'number') return false;
      return spec.layout === 'simple' ? readSimpleBeacons(v, spec.name, out) : readTlvBeacons(v, spec.name, out);
  }
}
