export { ByteReader } from './byte-reader.js';
export { ByteWriter } from './byte-writer.js';
export { crc16Kermit, crc16Arc, crc8ReflectedPoly07, xor8 } from './crc.js';
export { toHex, fromHex } from './hex.js';
export { bcdToString, bcdByte, stringToBcd } from './bcd.js';
export { utcSeconds, isoUtc } from './time.js';
