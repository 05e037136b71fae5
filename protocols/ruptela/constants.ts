/**
 * Ruptela wire constants: command ids, fixed server frames and frame limits.
 * Spec: the Ruptela device protocol document v1.113 (2022), as publicly reconstructed in ErnestasD/gps_tracker docs/protocols/ruptela.md (cited as "ref §n"); every id below is in the ref §4 catalogue.
 */

/** Device → server command ids (ref §4). 5 and 6 are smart-card commands on the device side (not Traccar's 105/106). */
export const DEVICE_CMD = {
  records: 1, // ref §6, [C]
  configurationReply: 2, // ASCII, answers 102 [C]
  versionReply: 3, // ASCII CSV, answers 103 [V]
  firmwareReply: 4, // ASCII, answers 104 [V]
  smartCardData: 5, // [V] no full frame public
  smartCardSize: 6, // size u16 + ts u32 [V]
  textReply: 7, // ASCII, answers 108 [C]
  dtc: 9, // ref §7.1 [C]
  tachoTransaction: 10, // ref §8.2 [V]
  tachoData: 11, // [V]
  tachoFileInfo: 12, // [V]
  transparentChannel: 14, // [V]
  identification: 15, // ref §7.2 [C]
  heartbeat: 16, // empty payload [C]
  setIoResult: 17, // result byte, 0 = success [C]/[V]
  dynamicIdentification: 18, // ref §7.3 [V]
  smartCardSize2: 19, // size u32 + ts u32 [V]
  garminStatus: 30, // NO IMEI: len 2 (V#20) [V]
  garminFmi: 31, // [V]
  weighing: 32, // [V]
  fls: 33, // [V]
  sdLog: 34, // [V]
  accident: 35, // [V] partial
  driverRegistration: 36, // [S] layout unknown
  files: 37, // ref §7.4 [C]
  beacons: 38, // [V] partial
  recordsExtended: 68, // ref §6, 2-byte IO ids [C]
} as const;

/** Server → device command ids (ref §4.1, §5.1). */
export const SERVER_CMD = {
  recordsAck: 100, // answers 1 and 68
  configuration: 102,
  version: 103,
  firmware: 104,
  setConnection: 105, // no device reply
  setOdometer: 106, // no device reply
  smartCardAck: 107,
  text: 108, // SMS-style text; the device answers 7
  dtcAck: 109,
  tacho: 110, // remote tacho download: start (sub 2), card answers (ref §8.2)
  tachoAck: 111, // answers 12 and 11: ack u8 + index u16
  identificationAck: 115, // answers 15 and 18
  heartbeatAck: 116,
  setIo: 117, // the device answers 17
  files: 137,
} as const;

/** Human names for log lines about commands this module does not decode (ref §4 table). */
export const DEVICE_CMD_NAMES: Readonly<Record<number, string>> = {
  1: 'records',
  2: 'configuration reply',
  3: 'version reply',
  4: 'firmware reply',
  5: 'smart-card data',
  6: 'smart-card size',
  7: 'text reply',
  9: 'DTC records',
  10: 'tacho transaction',
  11: 'tacho data fragment',
  12: 'tacho file info',
  14: 'transparent channel',
  15: 'identification',
  16: 'heartbeat',
  17: 'set-IO result',
  18: 'dynamic identification',
  19: 'smart-card size (2nd generation)',
  30: 'Garmin status',
  31: 'Garmin FMI passthrough',
  32: 'weighing system',
  33: 'FLS channel reply',
  34: 'SD-card log',
  35: 'accident data',
  36: 'driver registration',
  37: 'files',
  38: 'BLE beacons',
  68: 'extended records',
};

/**
 * Fixed server frames (ref §4.1, CRCs recomputed there and in V#27–V#36).
 * Hex, not Uint8Array: callers get a fresh copy per reply (replies may be transferred across
 * threads, which would detach a shared buffer).
 */
export const FIXED_REPLY_HEX = {
  recordsAck: '0002640113bc', // V#27
  identificationAck: '00027301cb25', // V#29
  heartbeatAck: '00027401862d', // V#31
  dtcAck: '00026d01c4a4', // V#32
} as const;

/** Largest frame on the wire, both directions (ref §2; T#5 and V#9 are exactly this size). */
export const MAX_FRAME_BYTES = 1024;
/** Length field bounds. `len` counts IMEI + cmd + payload (device) or cmd + payload (server). */
export const MAX_LEN = MAX_FRAME_BYTES - 4;
/** Smallest device length: cmd 30 without IMEI is `len` 2 (V#20). */
export const MIN_DEVICE_LEN = 2;
/** Smallest length of a device frame that carries an IMEI: 8-byte IMEI + cmd byte (heartbeat, V#4). */
export const MIN_IMEI_LEN = 9;
/** Smallest server frame length: cmd byte only (version request, V#50). */
export const MIN_SERVER_LEN = 1;
