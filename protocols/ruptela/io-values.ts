/**
 * Turns one record's IO elements (a range of the flat IoStore, see io-store.ts) into message
 * parameters using the io-names.ts table.
 * Raw values stay exact: 8-byte values are hex strings and never pass through a JS number.
 *
 * Hot path: the io-names.ts Maps/Sets are compiled once into arrays indexed by IO id, and the
 * `io.<id>` key strings are built once, so a record costs no Map lookups, no per-entry objects
 * and no number-to-string conversions for its keys.
 */
import { toHex } from '../../src/codec/hex.js';
import type { DecodeWarning, Message, MessageValue } from '../../src/protocol/types.js';
import { IGNITION_SOURCES, IO_COMPOUNDS, IO_NAMES, IO_SIGNED, type IoSpec } from './io-names.js';
import { DELETED, IdStamps, type IoStore } from './io-store.js';

// ---- lookup tables, compiled once from io-names.ts ----

/** Per-id flag bits (ids ≥ TABLE_LEN have none). */
const F_SIGNED = 1; // two's-complement value (IO_SIGNED)
const F_LOOKUP = 2; // needed by id before/after the main pass: compound part or ignition source
const F_COMPOUND_HEAD = 4; // first id of a compound (its presence triggers the join attempt)

const compoundIds = IO_COMPOUNDS.flatMap((c) => c.ids);
/** One past the largest id any table mentions; every per-id array below has this length. */
const TABLE_LEN = 1 + Math.max(...IO_NAMES.keys(), ...IO_SIGNED, ...compoundIds, ...IGNITION_SOURCES);

const FLAGS = new Uint8Array(TABLE_LEN);
for (const id of IO_SIGNED) FLAGS[id] = FLAGS[id]! | F_SIGNED;
for (const id of compoundIds) FLAGS[id] = FLAGS[id]! | F_LOOKUP;
for (const id of IGNITION_SOURCES) FLAGS[id] = FLAGS[id]! | F_LOOKUP;
for (const c of IO_COMPOUNDS) FLAGS[c.ids[0]!] = FLAGS[c.ids[0]!]! | F_COMPOUND_HEAD;

/** IO_NAMES as a dense array: one indexed load instead of a Map lookup per element. */
const SPECS: readonly (IoSpec | undefined)[] = Array.from({ length: TABLE_LEN }, (_, id) => IO_NAMES.get(id));

/** `io.<id>` keys built once: ids below 1024 eagerly (all classic ids and the common extended ones). */
const RAW_NAME_EAGER = 1024;
const RAW_NAMES: readonly string[] = Array.from({ length: RAW_NAME_EAGER }, (_, id) => `io.${id}`);
const rawNamesHigh = new Map<number, string>();

function rawName(id: number): string {
  if (id < RAW_NAME_EAGER) return RAW_NAMES[id]!;
  let s = rawNamesHigh.get(id);
  if (s === undefined) {
    s = `io.${id}`;
    rawNamesHigh.set(id, s); // bounded: at most 64 Ki u16 ids
  }
  return s;
}

/**
 * Per-message index of the F_LOOKUP ids present: SLOT[id] is the store entry when LOOKUP.has(id).
 * Reused across messages (generation stamps, see IdStamps), so nothing is allocated per record.
 */
const SLOT = new Int32Array(TABLE_LEN);
const LOOKUP = new IdStamps(TABLE_LEN);
/** Ids published as part of a joined compound text in the current message. */
const JOINED = new IdStamps(TABLE_LEN);

// ---- values ----

/** The raw published form: signed per IO_SIGNED (in any group width), hex for 8-byte values. */
function rawValue(id: number, width: number, value: number, buf: Uint8Array): MessageValue {
  if (width === 8) return toHex(buf, value, value + 8);
  if (id >= TABLE_LEN || (FLAGS[id]! & F_SIGNED) === 0) return value;
  if (width === 1) return (value << 24) >> 24;
  if (width === 2) return (value << 16) >> 16;
  return value | 0;
}

/** The named value, or undefined when the raw value must be published instead. */
function namedValue(id: number, value: number, spec: IoSpec, buf: Uint8Array): MessageValue | undefined {
  switch (spec.kind) {
    case 'bool':
      return value === 0 ? false : value === 1 ? true : undefined;
    case 'number': {
      if (spec.errors.includes(value)) return undefined; // sentinels are raw (unsigned) wire values
      const v = rawValue(id, spec.width, value, buf) as number;
      // keep this exact expression: (v * mul) / div + add rounds differently from v * (mul / div)
      return (v * spec.mul) / spec.div + spec.add;
    }
    case 'hex': {
      const hex = toHex(buf, value, value + 8); // value = offset of the 8 bytes (width checked by the caller)
      return spec.errorHex.includes(hex) ? undefined : hex;
    }
  }
}

/** Bytes of the compound being joined (8 per part). */
const TEXT = new Uint8Array(8 * Math.max(...IO_COMPOUNDS.map((c) => c.ids.length)));

/** Joins 8-byte parts as ASCII; undefined when a part is missing or the text is empty/not printable. */
function compoundText(store: IoStore, buf: Uint8Array, ids: readonly number[]): string | undefined {
  let n = 0;
  for (const id of ids) {
    if (!LOOKUP.has(id)) return undefined;
    const k = SLOT[id]!;
    if (store.widths[k] !== 8) return undefined;
    const at = store.values[k]!;
    for (let i = at; i < at + 8; i++) TEXT[n++] = buf[i]!;
  }
  // Fast path for the usual shape, printable ASCII padded with trailing NULs: there the general
  // rule below reduces to "drop trailing NULs, then leading/trailing spaces" (no regex needed).
  let end = n;
  while (end > 0 && TEXT[end - 1] === 0) end--;
  let printable = true;
  for (let i = 0; i < end; i++) {
    const c = TEXT[i]!;
    if (c < 0x20 || c > 0x7e) {
      printable = false;
      break;
    }
  }
  if (printable) {
    let lo = 0;
    while (lo < end && TEXT[lo] === 0x20) lo++;
    while (end > lo && TEXT[end - 1] === 0x20) end--;
    if (lo === end) return undefined;
    let text = '';
    for (let i = lo; i < end; i++) text += String.fromCharCode(TEXT[i]!);
    return text;
  }
  // General rule: strip NULs at both ends, trim JS whitespace, then require printable ASCII.
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(TEXT[i]!);
  s = s.replace(/^\0+|\0+$/g, '').trim();
  return s.length > 0 && /^[\x20-\x7e]+$/.test(s) ? s : undefined;
}

/**
 * Publishes the live entries of store[start, end) (wire order; a merged split record is laid out
 * as one range too) into `msg`: joined compounds first, then each element named or raw, then
 * `engine.ignition.status`. This order is the published JSON key order; keep it.
 */
export function applyIo(store: IoStore, buf: Uint8Array, start: number, end: number, msg: Message, warnings: DecodeWarning[]): void {
  const ids = store.ids;
  const widths = store.widths;
  const values = store.values;

  // Pass 1: index the few ids that are looked up by id (compound parts, ignition sources).
  LOOKUP.next();
  let anyLookup = false;
  let anyHead = false;
  for (let k = start; k < end; k++) {
    const id = ids[k]!;
    if (id >= TABLE_LEN) continue;
    const f = FLAGS[id]!;
    if ((f & F_LOOKUP) === 0 || widths[k] === DELETED) continue;
    LOOKUP.mark(id);
    SLOT[id] = k;
    anyLookup = true;
    if ((f & F_COMPOUND_HEAD) !== 0) anyHead = true;
  }

  let anyJoined = false;
  if (anyHead) {
    JOINED.next();
    for (const c of IO_COMPOUNDS) {
      if (!LOOKUP.has(c.ids[0]!)) continue;
      const text = compoundText(store, buf, c.ids);
      if (text === undefined) continue;
      msg[c.name] = text;
      anyJoined = true;
      for (const id of c.ids) JOINED.mark(id);
    }
  }

  // Pass 2: every live element, in order.
  for (let k = start; k < end; k++) {
    const width = widths[k]!;
    if (width === DELETED) continue;
    const id = ids[k]!;
    const value = values[k]!;
    if (id < TABLE_LEN) {
      if (anyJoined && JOINED.has(id)) continue; // published as part of a joined text value
      const spec = SPECS[id];
      if (spec !== undefined) {
        if (spec.width !== width) {
          warnings.push({
            code: 'EDGE_DECODE_INVALID',
            reason: `IO ${id} arrived in the ${width}-byte group, expected ${spec.width}; published raw`,
          });
        } else {
          const v = namedValue(id, value, spec, buf);
          if (v !== undefined) {
            msg[spec.name] = v;
            continue;
          }
        }
      }
    }
    msg[rawName(id)] = rawValue(id, width, value, buf);
  }

  if (!anyLookup) return;
  for (const id of IGNITION_SOURCES) {
    if (!LOOKUP.has(id)) continue;
    const k = SLOT[id]!;
    const v = values[k]!;
    if (widths[k] === 1 && (v === 0 || v === 1)) {
      msg['engine.ignition.status'] = v === 1;
      break;
    }
  }
}
