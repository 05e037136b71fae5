/**
 * IO element naming and scaling, as data (ref §6, the vendor's "Data Sending Parameters ID" lists).
 *
 * The same AVL id means different things on the FMB/FMC line and on the FMx6 "professional" line
 * (FMB640, FMC650 ...; ref §6.1), so there are two tables; the channel option `io_dictionary` picks
 * one (`none`: everything raw). Rules (io-values.ts applies them):
 * - An id in the table becomes its name with its unit applied, if it arrives with the width the
 *   table gives (`width`, NX = 0). Anything else is published raw as `io.<id>`: 1/2/4-byte values as
 *   unsigned numbers, 8-byte and variable-length (NX) values as lower-case hex.
 * - A value that hits an error sentinel, is not 0/1 for a boolean, or is empty / not printable text
 *   is not named either: its raw `io.<id>` is published instead, so nothing is lost and nothing
 *   wrong is claimed.
 * - Driver ids are the parameters assets match: `ibutton.code` (78), `rfid.code` (207) and the
 *   tachograph / ALLCAN300 card numbers `tacho.fms.driver.id.1/2` (two 8-byte halves joined as ASCII,
 *   the name the Ruptela module uses for the same fact).
 * Names follow the project's flespi-style convention; units: V, A, km, l, °C, g.
 */

/** Width of the IO group the value must come in; 0 = the variable-length NX group of Codec 8E, 16 = the optional Codec 8 group. */
export type IoWidth = 0 | 1 | 2 | 4 | 8 | 16;

export interface BoolSpec {
  kind: 'bool';
  name: string;
  width: IoWidth;
}
/** value = raw (two's complement if `signed`) * mul / div; raw values in `errors` stay raw. */
export interface NumberSpec {
  kind: 'number';
  name: string;
  width: IoWidth;
  signed: boolean;
  mul: number;
  div: number;
  /** Decimal places of the scaled value (log10 of div), so 24079 / 1000 prints 24.079. */
  decimals: number;
  errors: readonly number[];
}
/** Wire-order hex of an id (8 bytes); an all-zero value ("no key") stays raw. */
export interface HexSpec {
  kind: 'hex';
  name: string;
  width: IoWidth;
}
/** Printable ASCII (NUL/space padding trimmed), e.g. the VIN or OBD fault codes. */
export interface TextSpec {
  kind: 'text';
  name: string;
  width: IoWidth;
}
/** First half of a card number split over two 8-byte ids (`second` is the other id). */
export interface PairSpec {
  kind: 'pair';
  name: string;
  width: IoWidth;
  second: number;
}
/** A BLE list (NX): `simple` = IO 385 layout, `tlv` = advanced beacon / EYE sensor TLV lists; fields under `name.<n>.`. */
export interface ListSpec {
  kind: 'list';
  name: string;
  width: IoWidth;
  layout: 'simple' | 'tlv';
}
export type IoSpec = BoolSpec | NumberSpec | HexSpec | TextSpec | PairSpec | ListSpec;

const bool = (name: string, width: IoWidth = 1): BoolSpec => ({ kind: 'bool', name, width });
const u = (name: string, width: IoWidth, div = 1, errors: readonly number[] = []): NumberSpec => ({ kind: 'number', name, width, signed: false, mul: 1, div, decimals: Math.round(Math.log10(div)), errors });
const s = (name: string, width: IoWidth, div = 1, errors: readonly number[] = []): NumberSpec => ({ kind: 'number', name, width, signed: true, mul: 1, div, decimals: Math.round(Math.log10(div)), errors });
const hex = (name: string): HexSpec => ({ kind: 'hex', name, width: 8 });
const text = (name: string, width: IoWidth = 0): TextSpec => ({ kind: 'text', name, width });
const pair = (name: string, second: number): PairSpec => ({ kind: 'pair', name, width: 8, second });
const list = (name: string, layout: 'simple' | 'tlv'): ListSpec => ({ kind: 'list', name, width: 0, layout });

/** BLE sensor temperature error codes (abnormal sensor / not found / failed sensor), ref §6.2. */
const BLE_TEMP_ERRORS = [4000, 3000, 2000] as const;
/** Dallas temperature: 850 not ready, 2000 read error, 3000 not connected, 4000 id failed. */
const DALLAS_ERRORS = [850, 2000, 3000, 4000] as const;

/** Ids that mean the same on both lines (ref §6.2 vs §6.3). */
const COMMON: [number, IoSpec][] = [
  [1, bool('din.1')],
  [2, bool('din.2')],
  [3, bool('din.3')],
  [16, u('vehicle.mileage', 4, 1000)], // total odometer, m → km
  [21, u('gsm.signal.level', 1)], // 0..5
  [66, u('external.powersource.voltage', 2, 1000)], // mV → V
  [67, u('battery.voltage', 2, 1000)],
  [68, u('battery.current', 2, 1000)], // mA → A
  [78, hex('ibutton.code')], // wire order; Traccar prints it byte-reversed (README "Driver ids")
  [179, bool('dout.1')],
  [180, bool('dout.2')],
  [181, u('position.pdop', 2, 10)],
  [182, u('position.hdop', 2, 10)],
  [199, u('vehicle.trip.mileage', 4, 1000)],
  [206, u('gsm.lac', 2)],
  [239, bool('engine.ignition.status')],
  [240, bool('movement.status')],
  [241, u('gsm.operator.code', 4)], // MCC+MNC, e.g. 24602
];

/** FMB/FMC/FMM/FMT/FMU/FMP (FMB920, FMB120, FMC130, FMC003 ...), ref §6.2. */
export const FMB_IO: ReadonlyMap<number, IoSpec> = new Map<number, IoSpec>([
  ...COMMON,
  [4, u('din.1.pulses', 4)],
  [6, u('ain.2', 2, 1000)],
  [9, u('ain.1', 2, 1000)],
  [10, bool('sd.status')],
  [12, u('gps.fuel.consumed', 4, 1000)], // 0.001 l → l
  [13, u('gps.fuel.rate', 2, 100)], // 0.01 l/100 km
  [15, u('eco.score', 2, 100)],
  [17, s('x.acceleration', 2, 1000)], // mG → g
  [18, s('y.acceleration', 2, 1000)],
  [19, s('z.acceleration', 2, 1000)],
  [20, u('ble.sensor.battery.level.2', 1)],
  [22, u('ble.sensor.battery.level.3', 1)],
  [23, u('ble.sensor.battery.level.4', 1)],
  [25, s('ble.sensor.temperature.1', 2, 100, BLE_TEMP_ERRORS)],
  [26, s('ble.sensor.temperature.2', 2, 100, BLE_TEMP_ERRORS)],
  [27, s('ble.sensor.temperature.3', 2, 100, BLE_TEMP_ERRORS)],
  [28, s('ble.sensor.temperature.4', 2, 100, BLE_TEMP_ERRORS)],
  [29, u('ble.sensor.battery.level.1', 1)],
  [30, u('obd.dtc.count', 1)],
  [31, u('engine.load', 1)],
  [32, s('engine.coolant.temperature', 1)],
  [36, u('engine.rpm', 2)],
  [48, u('fuel.level', 1)],
  [69, u('gnss.status.enum', 1)], // 0 off, 1 fix, 2 no fix, 3 sleep
  [71, hex('temperature.sensor.id.4')],
  [72, s('temperature.1', 4, 10, DALLAS_ERRORS)],
  [73, s('temperature.2', 4, 10, DALLAS_ERRORS)],
  [74, s('temperature.3', 4, 10, DALLAS_ERRORS)],
  [75, s('temperature.4', 4, 10, DALLAS_ERRORS)],
  [76, hex('temperature.sensor.id.1')],
  [77, hex('temperature.sensor.id.2')],
  [79, hex('temperature.sensor.id.3')],
  [80, u('network.mode.enum', 1)],
  [81, u('can.vehicle.speed', 1)],
  [82, u('can.throttle.pedal.level', 1)],
  [83, u('can.fuel.consumed', 4, 10)], // 0.1 l
  [84, u('can.fuel.volume', 2, 10)],
  [85, u('can.engine.rpm', 2)],
  [86, u('ble.sensor.humidity.1', 2, 10)],
  [87, u('can.vehicle.mileage', 4, 1000)],
  [89, u('can.fuel.level', 1)],
  [113, u('battery.level', 1)],
  [147, pair('tacho.fms.driver.id.1', 148)], // ALLCAN300 driver 1 id high/low [U: ASCII as on FMx6]
  [149, pair('tacho.fms.driver.id.2', 150)],
  [200, u('sleep.mode.enum', 1)],
  [205, u('gsm.cellid', 2)],
  [207, hex('rfid.code')],
  [246, bool('towing.status')],
  [247, u('crash.event.enum', 1)],
  [249, bool('gsm.jamming.status')],
  [250, u('trip.event.enum', 1)],
  [251, bool('idling.status')],
  [252, bool('battery.unplug.status')],
  [253, u('harsh.event.enum', 1)], // 1 acceleration, 2 braking, 3 cornering
  [256, text('vehicle.vin')],
  [281, text('obd.dtc.codes')],
  [385, list('ble.beacon', 'simple')],
  [548, list('ble.beacon', 'tlv')],
  [636, u('gsm.cellid', 4)],
  [10800, s('eye.sensor.temperature.1', 2, 100)],
  [10801, s('eye.sensor.temperature.2', 2, 100)],
  [10802, s('eye.sensor.temperature.3', 2, 100)],
  [10803, s('eye.sensor.temperature.4', 2, 100)],
  [10828, list('eye.sensor', 'tlv')],
  [10829, list('eye.sensor', 'tlv')],
  [10831, list('eye.sensor', 'tlv')],
  [11317, list('eye.sensor', 'tlv')],
]);

/** FMx6 (FMB640, FMB641, FMC640, FMC650, FMM640, FMM650) with tachograph elements, ref §6.3. */
export const FMX6_IO: ReadonlyMap<number, IoSpec> = new Map<number, IoSpec>([
  ...COMMON,
  [4, bool('din.4')],
  [9, u('ain.1', 2, 1000)],
  [10, u('ain.2', 2, 1000)],
  [11, u('ain.3', 2, 1000)],
  [22, u('network.mode.enum', 1)],
  [70, s('pcb.temperature', 2, 10)],
  [71, u('gnss.status.enum', 1)],
  [72, s('temperature.1', 2, 10, DALLAS_ERRORS)],
  [73, s('temperature.2', 2, 10, DALLAS_ERRORS)],
  [74, s('temperature.3', 2, 10, DALLAS_ERRORS)],
  [75, s('temperature.4', 2, 10, DALLAS_ERRORS)],
  [184, u('tacho.driver.1.working.state.enum', 1)],
  [185, u('tacho.driver.2.working.state.enum', 1)],
  [187, bool('tacho.driver.1.card.presence.status')],
  [188, bool('tacho.driver.2.card.presence.status')],
  [191, u('tacho.vehicle.speed', 2)],
  [192, u('tacho.vehicle.mileage', 4, 1000)],
  [195, pair('tacho.fms.driver.id.1', 196)],
  [197, pair('tacho.fms.driver.id.2', 198)],
  [205, u('gsm.cellid', 4)],
  [236, s('x.acceleration', 2, 1000)],
  [237, s('y.acceleration', 2, 1000)],
  [238, s('z.acceleration', 2, 1000)],
]);

export const IO_DICTIONARIES = { fmb: FMB_IO, fmx6: FMX6_IO, none: new Map<number, IoSpec>() } as const;
export type IoDictionary = keyof typeof IO_DICTIONARIES;
