/**
 * Device-side frames for simulators and benches (this project's bytes, built from the vendor
 * layouts, ref §2–§4): the IMEI login, Codec 8E AVL packets with a typical FMB record, the UDP
 * datagram around them and Codec 12 responses.
 */
import { ByteWriter } from '../../src/codec/byte-writer.js';
import { CODEC, GPRS_TYPE } from './constants.js';
import { wrapTcpFrame } from './frame.js';

export interface SimRecord {
  /** Unix milliseconds. */
  timeMs: number;
  lat: number;
  lon: number;
  speedKmh: number;
  /** Distinguishes records (odometer, metres). */
  odometerM: number;
}

export function loginFrame(imei: string): Uint8Array {
  const w = new ByteWriter(2 + imei.length);
  return w.u16(imei.length).ascii(imei).finish();
}

/**
 * One FMB-like Codec 8E record: ignition, movement, GSM signal, sleep mode (1-byte group), external
 * and battery voltage, PDOP/HDOP (2-byte), odometer and operator (4-byte), iButton (8-byte).
 */
function writeRecord(w: ByteWriter, r: SimRecord): void {
  w.u64(BigInt(r.timeMs)).u8(0).i32(Math.round(r.lon * 1e7)).i32(Math.round(r.lat * 1e7)).u16(112).u16(181).u8(11).u16(r.speedKmh);
  w.u16(0).u16(11); // event IO 0 (periodic), 11 elements
  w.u16(4).u16(239).u8(1).u16(240).u8(r.speedKmh > 0 ? 1 : 0).u16(21).u8(4).u16(200).u8(0);
  w.u16(4).u16(66).u16(13802).u16(67).u16(4087).u16(181).u16(9).u16(182).u16(7);
  w.u16(2).u16(16).u32(r.odometerM).u16(241).u32(24602);
  w.u16(1).u16(78).bytes(Uint8Array.of(0x01, 0xd0, 0x42, 0xf3, 0x1d, 0x00, 0x00, 0x30));
  w.u16(0); // NX
}

/** The AVL data array (codec 8E .. N2). */
export function avlData(records: readonly SimRecord[]): Uint8Array {
  const w = new ByteWriter(64 + records.length * 80);
  w.u8(CODEC.c8e).u8(records.length);
  for (const r of records) writeRecord(w, r);
  return w.u8(records.length).finish();
}

export function tcpAvlFrame(records: readonly SimRecord[]): Uint8Array {
  return wrapTcpFrame(avlData(records));
}

export function udpAvlDatagram(imei: string, packetId: number, avlPacketId: number, records: readonly SimRecord[]): Uint8Array {
  const data = avlData(records);
  const w = new ByteWriter(data.length + 8 + imei.length);
  w.u16(6 + imei.length + data.length).u16(packetId).u8(1).u8(avlPacketId).u16(imei.length).ascii(imei).bytes(data);
  return w.finish();
}

/** A Codec 12 response (type 0x06) carrying `text`. */
export function codec12Response(text: string): Uint8Array {
  const w = new ByteWriter(text.length + 8);
  w.u8(CODEC.c12).u8(1).u8(GPRS_TYPE.response).u32(text.length).ascii(text).u8(1);
  return wrapTcpFrame(w.finish());
}

/**
 * Cuts what the server writes to a device: the 1-byte login answer (when `expectLogin`), 4-byte
 * record-count ACKs (never 0: the server acknowledges whole packets) and Codec 12/14 command
 * frames (zero preamble + length).
 */
export function serverSplit(expectLogin: boolean) {
  return (buf: Uint8Array, start: number, end: number): number => {
    const n = end - start;
    if (expectLogin) return n >= 1 ? 1 : 0;
    if (n < 4) return 0;
    if (buf[start] !== 0 || buf[start + 1] !== 0 || buf[start + 2] !== 0 || buf[start + 3] !== 0) return 4;
    if (n < 8) return 0;
    const len = ((buf[start + 4]! << 24) | (buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!) >>> 0;
    return n < len + 12 ? 0 : len + 12;
  };
}
