/**
 * Turns one record's raw IO map into message parameters using the io-names.ts table.
 * Raw values stay exact: 8-byte values are hex strings and never pass through a JS number.
 */
import type { DecodeWarning, Message, MessageValue } from '../../src/protocol/types.js';
import { toHex } from '../../src/codec/hex.js';
import { IGNITION_SOURCES, IO_COMPOUNDS, IO_NAMES, IO_SIGNED, type IoSpec } from './io-names.js';

/** One IO element as read from the wire: `value` for 1/2/4-byte groups, `bytes` (a view) for 8-byte. */
export interface IoEntry {
  width: 1 | 2 | 4 | 8;
  value: number;
  bytes: Uint8Array | undefined;
}

/** The raw published form: signed per IO_SIGNED, hex for 8-byte values. */
export function rawIoValue(id: number, e: IoEntry): MessageValue {
  if (e.bytes !== undefined) return toHex(e.bytes);
  if (!IO_SIGNED.has(id)) return e.value;
  if (e.width === 1) return (e.value << 24) >> 24;
  if (e.width === 2) return (e.value << 16) >> 16;
  return e.value | 0;
}

/** The named value, or undefined when the raw value must be published instead. */
function namedValue(id: number, e: IoEntry, spec: IoSpec): MessageValue | undefined {
  switch (spec.kind) {
    case 'bool':
      return e.value === 0 ? false : e.value === 1 ? true : undefined;
    case 'number': {
      if (spec.errors.includes(e.value)) return undefined;
      const v = rawIoValue(id, e) as number;
      return (v * spec.mul) / spec.div + spec.add;
    }
    case 'hex': {
      const hex = toHex(e.bytes ?? new Uint8Array(0));
      return spec.errorHex.includes(hex) ? undefined : hex;
    }
  }
}

/** Joins 8-byte parts as ASCII; undefined when a part is missing or the text is empty/not printable. */
function compoundText(io: ReadonlyMap<number, IoEntry>, ids: readonly number[]): string | undefined {
  let s = '';
  for (const id of ids) {
    const e = io.get(id);
    if (e?.bytes === undefined) return undefined;
    for (let i = 0; i < e.bytes.length; i++) s += String.fromCharCode(e.bytes[i]!);
  }
  s = s.replace(/^\0+|\0+$/g, '').trim();
  return s.length > 0 && /^[\x20-\x7e]+$/.test(s) ? s : undefined;
}

export function applyIo(io: ReadonlyMap<number, IoEntry>, msg: Message, warnings: DecodeWarning[]): void {
  let joined: Set<number> | undefined;
  for (const c of IO_COMPOUNDS) {
    if (!io.has(c.ids[0]!)) continue;
    const text = compoundText(io, c.ids);
    if (text === undefined) continue;
    msg[c.name] = text;
    joined ??= new Set();
    for (const id of c.ids) joined.add(id);
  }
  for (const [id, e] of io) {
    if (joined?.has(id) === true) continue; // published as part of a joined text value
    const spec = IO_NAMES.get(id);
    if (spec !== undefined) {
      if (spec.width !== e.width) {
        warnings.push({
          code: 'EDGE_DECODE_INVALID',
          reason: `IO ${id} arrived in the ${e.width}-byte group, expected ${spec.width}; published raw`,
        });
      } else {
        const v = namedValue(id, e, spec);
        if (v !== undefined) {
          msg[spec.name] = v;
          continue;
        }
      }
    }
    msg[`io.${id}`] = rawIoValue(id, e);
  }
  for (const id of IGNITION_SOURCES) {
    const e = io.get(id);
    if (e !== undefined && e.width === 1 && (e.value === 0 || e.value === 1)) {
      msg['engine.ignition.status'] = e.value === 1;
      break;
    }
  }
}
