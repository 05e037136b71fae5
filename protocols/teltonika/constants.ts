/**
 * Teltonika wire constants: codec ids, frame limits, command types.
 * Spec: Teltonika's public "Teltonika Data Sending Protocols" wiki page (cited as "ref §n": the
 * sections of the project's reference summary of it, README.md "Sources").
 */

/** Codec ids of the TCP/UDP data field (ref §2, §5). */
export const CODEC = {
  gh3000: 0x07, // old GH3000 personal tracker [S]: not decoded (unsupported)
  c8: 0x08,
  c8e: 0x8e,
  c16: 0x10,
  c12: 0x0c, // GPRS command (server, type 0x05) / response (device, type 0x06)
  c13: 0x0d, // device → server with timestamp (RS232 TCP link mode), one-way
  c14: 0x0e, // command addressed by IMEI
  c15: 0x0f, // FMX6 RS232 data with timestamp and IMEI, one-way
} as const;

/** Codec 12/14 message types (ref §5.1, §5.3). */
export const GPRS_TYPE = {
  command: 0x05,
  response: 0x06,
  /** Codec 12 RS232 camera (old CAM accessory) [S]: not decoded. */
  camera: 0x0d,
  /** Codec 15 RS232 data [V]. */
  serial: 0x0b,
  /** Codec 14 nACK: the IMEI in the command is not the device's. */
  imeiMismatch: 0x11,
} as const;

/**
 * Largest frame accepted. Vendor packets are at most 1280 bytes (ref §1), but Codec 12 camera
 * frames of 2 KiB exist (Traccar dec-51) and Traccar's framer allows 32 KiB; 16 KiB bounds the
 * per-connection buffer while leaving room for long NX elements.
 */
export const MAX_FRAME_BYTES = 16384;

/** TCP data frame: 4 zero bytes, u32 data length, data (codec .. quantity 2), u32 CRC field. */
export const TCP_HEADER_BYTES = 8;
export const TCP_OVERHEAD_BYTES = 12;
/** Smallest data field: codec, quantity 1, quantity 2. */
export const MIN_DATA_LEN = 3;
export const MAX_DATA_LEN = MAX_FRAME_BYTES - TCP_OVERHEAD_BYTES;

/** The keep-alive byte a device may write between packets (ref §1); answered with nothing. */
export const PING_BYTE = 0xff;

/** Bounds of the IMEI login length (vendor: always 15) [U: the bound is ours, ref §2.2]. */
export const MIN_IMEI_LEN = 1;
export const MAX_IMEI_LEN = 32;

/** UDP header before the codec byte: len 2, packet id 2, not-usable byte 1, AVL packet id 1, IMEI length 2. */
export const UDP_FIXED_HEADER_BYTES = 8;
