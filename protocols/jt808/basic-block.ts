/**
 * The 28-byte basic block that opens 0x0200 (and every 0x0704 item, and the 0x0801 header's
 * location): alarm u32 | status u32 | lat u32 (1e-6°) | lon u32 | altitude u16 m | speed u16
 * (0.1 km/h) | course u16 | time BCD[6]. Two readers of the same layout: the declarative
 * binary-parser one and a hand-written one; bench/decode-bench.ts times both on the same bodies
 * and the decoder uses the one the README's figure justifies.
 */
import bp from 'binary-parser/dist/binary_parser.js';
import { EdgeError } from '../../src/errors.js';

export const BASIC_BLOCK_BYTES = 28;

export interface BasicBlock {
  alarm: number;
  status: number;
  lat: number;
  lon: number;
  altitude: number;
  speed: number;
  course: number;
  /** Raw BCD bytes of the time. */
  yy: number;
  mo: number;
  dd: number;
  hh: number;
  mi: number;
  ss: number;
}

export type BasicBlockReader = (f: Uint8Array, at: number, end: number) => BasicBlock;

const LAYOUT = new bp.Parser()
  .uint32be('alarm')
  .uint32be('status')
  .uint32be('lat')
  .uint32be('lon')
  .uint16be('altitude')
  .uint16be('speed')
  .uint16be('course')
  .uint8('yy')
  .uint8('mo')
  .uint8('dd')
  .uint8('hh')
  .uint8('mi')
  .uint8('ss');

function need(at: number, end: number): void {
  if (at + BASIC_BLOCK_BYTES > end) throw new EdgeError('EDGE_DECODE_TRUNCATED', `location basic block needs ${BASIC_BLOCK_BYTES} bytes, ${end - at} left`, at);
}

/** binary-parser layout (one DataView and one object per call; parse() cannot start at an offset). */
export const readBasicByLayout: BasicBlockReader = (f, at, end) => {
  need(at, end);
  return LAYOUT.parse(f.subarray(at, at + BASIC_BLOCK_BYTES)) as BasicBlock;
};

/** Hand-written reads of the same layout. */
export const readBasicByHand: BasicBlockReader = (f, at, end) => {
  need(at, end);
  const u32 = (p: number) => ((f[p]! << 24) | (f[p + 1]! << 16) | (f[p + 2]! << 8) | f[p + 3]!) >>> 0;
  return {
    alarm: u32(at),
    status: u32(at + 4),
    lat: u32(at + 8),
    lon: u32(at + 12),
    altitude: (f[at + 16]! << 8) | f[at + 17]!,
    speed: (f[at + 18]! << 8) | f[at + 19]!,
    course: (f[at + 20]! << 8) | f[at + 21]!,
    yy: f[at + 22]!,
    mo: f[at + 23]!,
    dd: f[at + 24]!,
    hh: f[at + 25]!,
    mi: f[at + 26]!,
    ss: f[at + 27]!,
  };
};
