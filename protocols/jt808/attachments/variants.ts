/**
 * The regional variants of the Subiao alarm identification (T/JSATL12 and its provincial copies).
 * No in-band flag tells them apart, so the channel option `alarm_identification_bytes` chooses one
 * (default 16, Jiangsu). The identification is carried verbatim in 0x0200 items, 0x9208 and 0x1210;
 * its inner layout only matters for the fields this module publishes and for the attachment count.
 *
 * ```
 *  16 Jiangsu      terminal id[7]  | time BCD[6] | sequence u8 | attachments u8 | reserved u8      [C]
 *  38 Heilongjiang terminal id[30] | time BCD[6] | sequence u8 | attachments u8                    [C]
 *  40 Guangdong    terminal id[30] | time BCD[6] | sequence u8 | attachments u8 | reserved[2]      [C]
 *  39 Sichuan      terminal id[30] | time BCD[6] | sequence u8 | attachments u8 | reserved u8      [G]
 *  32 Hunan        terminal id[7]  | time BCD[6] | sequence u8 | attachments u8 | reserved[17]     [G]
 * ```
 *
 * The lengths are from go-jt808's constants; the 38/40 layouts from the same source. For 39 and 32
 * only the length is known: the layouts above are this module's guess (documented in README.md), so
 * the published terminal id, time, sequence and attachment count of those two may be wrong; the
 * identification bytes themselves (what 0x9208 echoes and 0x1210 matches) are right in any case.
 * The terminal-id field of 0x1210 has the width of the identification's terminal id.
 */
export type IdentificationBytes = 16 | 32 | 38 | 39 | 40;

export const IDENTIFICATION_VARIANTS: readonly IdentificationBytes[] = [16, 32, 38, 39, 40];

export interface IdentificationLayout {
  bytes: IdentificationBytes;
  terminalIdBytes: number;
  /** Offset of the BCD time; sequence and attachment count follow it. */
  timeAt: number;
  /** Whether the layout is a guess (README "Alarm attachments"). */
  guessed: boolean;
}

export function identificationLayout(bytes: IdentificationBytes): IdentificationLayout {
  const terminalIdBytes = bytes === 16 || bytes === 32 ? 7 : 30;
  return { bytes, terminalIdBytes, timeAt: terminalIdBytes, guessed: bytes === 32 || bytes === 39 };
}
