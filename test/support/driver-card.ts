/**
 * A tachograph driver card as Ruptela devices report it: IO 155 + 156 carry the card number
 * ("12345678" and "90123456" as its two 8-byte halves), read as `tacho.fms.driver.id.1`; and two
 * device IMEIs for a card moving between vehicles.
 */
export const CARD = '1234567890123456';
export const CARD_IO: [number, bigint][] = [
  [155, 0x3132333435363738n],
  [156, 0x3930313233343536n],
];
export const IMEI_A = 356307042441011n;
export const IMEI_B = 356307042441029n;
