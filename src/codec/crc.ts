/**
 * Named checksums. Each function carries the exact catalogue variant in its name, because
 * "crc16" alone is ambiguous (KERMIT, XMODEM, IBM/ARC, ... all share a polynomial or width).
 */

// CRC-16/KERMIT: poly 0x1021 reflected (0x8408), init 0, refin/refout, xorout 0. check("123456789") = 0x2189.
const KERMIT_TABLE = buildReflectedTable16(0x8408);

function buildReflectedTable16(reflectedPoly: number): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ reflectedPoly : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** `init`: the CRC of the bytes before `start` (a running CRC over pieces; 0 for a fresh one). */
export function crc16Kermit(buf: Uint8Array, start = 0, end = buf.length, init = 0): number {
  let crc = init;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ KERMIT_TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}

// CRC-16/ARC ("CRC-16/IBM" in Teltonika's documents): poly 0x8005 reflected (0xA001), init 0,
// refin/refout, xorout 0. check("123456789") = 0xBB3D.
const ARC_TABLE = buildReflectedTable16(0xa001);

export function crc16Arc(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ ARC_TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}

/** XOR of all bytes: the JT/T 808 check code. */
export function xor8(buf: Uint8Array, start = 0, end = buf.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= buf[i]!;
  return x;
}
