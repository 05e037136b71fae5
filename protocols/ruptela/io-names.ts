/**
 * IO element naming and scaling, as data (ref §9 FMIO table, ref §10 flespi names).
 *
 * Rules (applied to the merged IO map of one record, see records.ts):
 * - An id in this table becomes its flespi-style name with its unit applied. Anything else is
 *   published raw as `io.<id>`: 1/2/4-byte values as numbers (signed for IO_SIGNED ids), 8-byte
 *   values as lower-case hex (they are ids or text; never a JS number).
 * - A named value that hits an error sentinel, is not 0/1 for a boolean, arrives in an unexpected
 *   IO group, or (for joined text) is empty or not printable is NOT named: its raw `io.<id>` is
 *   published instead, so nothing is lost and nothing wrong is claimed.
 * - Confidence per entry: [C] FMIO list / Traccar, [S] second-hand flespi name, [G] our choice.
 *   Scales follow the FMIO list; ids whose scale is doubtful are simply left out (raw).
 */

/** Ids whose values are two's-complement in their group width (ref §9 "Signed ids known so far"). */
export const IO_SIGNED: ReadonlySet<number> = new Set([6, 32, 49, 50, 51, 74, 78, 79, 80, 419]);

interface BaseSpec {
  name: string;
  /** Byte width of the IO group the id must arrive in. */
  width: 1 | 2 | 4 | 8;
}
/** 0 → false, 1 → true, anything else raw. */
export interface BoolSpec extends BaseSpec {
  kind: 'bool';
}
/** value = raw * mul / div + add; raw values in `errors` are published raw instead. */
export interface NumberSpec extends BaseSpec {
  kind: 'number';
  mul: number;
  div: number;
  add: number;
  errors: readonly number[];
}
/** 8-byte id as wire-order hex; `errorHex` values are published raw instead. */
export interface HexSpec extends BaseSpec {
  kind: 'hex';
  errorHex: readonly string[];
}
export type IoSpec = BoolSpec | NumberSpec | HexSpec;

const bool = (name: string): BoolSpec => ({ kind: 'bool', name, width: 1 });
const num = (name: string, width: 1 | 2 | 4, mul: number, div: number, add = 0, errors: readonly number[] = []): NumberSpec => ({
  kind: 'number', name, width, mul, div, add, errors,
});

/** J1939-style "error" / "not available" raw values for 1-byte and 4-byte CAN parameters [G]. */
const CAN1_ERRORS = [254, 255] as const;
const CAN4_ERRORS = [0xffffffff] as const;

export const IO_NAMES: ReadonlyMap<number, IoSpec> = new Map<number, IoSpec>([
  [2, bool('din.1')], // DIN1 [C meaning; name G]
  [3, bool('din.2')], // DIN2 [C; G]
  [4, bool('din.3')], // DIN3 [C; G]
  [5, bool('din.4')], // "Ignition (DIN4)" [C]; also the last ignition source (see IGNITION_SOURCES)
  [6, num('device.temperature', 1, 1, 1)], // modem temperature, signed °C [C scale; S name]
  [20, num('ain.3', 2, 1, 1000, 0, [65535])], // AIN3 mV → V, 65535 = error [C scale; S/G name]
  [21, num('ain.4', 2, 1, 1000, 0, [65535])], // AIN4 [C; S/G]
  [22, num('ain.1', 2, 1, 1000, 0, [65535])], // AIN1 [C; S/G]
  [23, num('ain.2', 2, 1, 1000, 0, [65535])], // AIN2 [C; S/G]
  [29, num('external.powersource.voltage', 2, 1, 1000)], // power supply mV → V [C scale; flespi common name]
  [30, num('battery.voltage', 2, 1, 1000)], // internal battery mV → V [C; C name]
  // PCB temperature, signed °C [C; S name]. The FMIO list names 41 and 85 as error values, but
  // T#13 (Dubai, May, 13:50) reports 41 as a plausible reading, so no sentinel is applied [U].
  [32, num('pcb.temperature', 1, 1, 1)],
  // iButton, wire-order hex (= Traccar's asserted T#1 value 01d042f31d000030, family code first).
  // flespi reportedly shows it byte-reversed [S]; we keep the [C] wire order. All-FF = no key.
  [34, { kind: 'hex', name: 'ibutton.code', width: 8, errorHex: ['ffffffffffffffff'] }],
  [65, num('vehicle.mileage', 4, 1, 1000)], // virtual odometer, metres → km [C scale; S name]
  [114, num('can.vehicle.mileage', 4, 5, 1000, 0, CAN4_ERRORS)], // CAN distance, 5 m units → km [C scale; G name]
  [115, num('can.engine.coolant.temperature', 1, 1, 1, -40, CAN1_ERRORS)], // −40 offset [C scale; C name]
  [134, num('segment.braking.events', 1, 1, 1)], // ECO brake counter [S]
  [136, num('segment.acceleration.events', 1, 1, 1)], // harsh-acceleration counter [S]
  [150, num('gsm.operator.code', 4, 1, 1)], // MCC+MNC [C meaning; flespi common name]
  [163, num('tacho.vehicle.mileage', 4, 5, 1000, 0, CAN4_ERRORS)], // TCO distance, 5 m → km [C scale; S name]
  [173, bool('movement.status')], // movement sensor [C meaning; flespi common name]
  [175, num('absolute.idle.seconds', 4, 1, 1)], // absolute idle time, s [C; C name]
  [201, num('can.adblue.level', 1, 4, 10, 0, CAN1_ERRORS)], // × 0.4 % [C scale; S name]
  [207, num('can.fuel.level', 1, 4, 10, 0, CAN1_ERRORS)], // × 0.4 %, 254 = error [C; S name]
  [251, bool('virtual.engine.ignition.status')], // virtual ignition [C; C name]
  [409, bool('config.engine.ignition.status')], // custom (configured) ignition [C; C name]
  [522, bool('can.engine.ignition.status')], // CAN ignition [C; C name]
]);

/** Multi-part 8-byte text values, joined in id order as ASCII, trailing NULs/spaces trimmed. */
export interface CompoundSpec {
  name: string;
  ids: readonly number[];
}
export const IO_COMPOUNDS: readonly CompoundSpec[] = [
  { name: 'vehicle.vin', ids: [104, 105, 106] }, // OBD VIN parts [C ids; S name]
  { name: 'can.vehicle.id', ids: [123, 124, 125] }, // CAN vehicle id [C; S]
  { name: 'tacho.vehicle.id', ids: [152, 153, 154] }, // TCO vehicle id [C; S]
  { name: 'tacho.fms.driver.id.1', ids: [155, 156] }, // TCO driver 1 id, 16 ASCII chars [C; S]
  { name: 'tacho.fms.driver.id.2', ids: [157, 158] }, // TCO driver 2 id [C; S]
];

/**
 * `engine.ignition.status` precedence (ref §9 pitfalls, flespi changelog #117): CAN > configured >
 * virtual > DIN4 wiring. The sources are published too; only 0/1 values count.
 */
export const IGNITION_SOURCES: readonly number[] = [522, 409, 251, 5];
