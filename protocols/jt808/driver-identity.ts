/**
 * 0x0702 driver identity report (JT/T 808-2013 §8.47, 2019 adds the ID card number) and 0x1003
 * audio/video capabilities (JT/T 1078, the answer to 0x9003), as named parameters.
 *
 * 0x0702: status u8 (1 card inserted / on duty, 2 removed / off duty) | time BCD[6] | with status 1:
 * read result u8 (0 read; 1 key authentication failed, 2 card locked, 3 card pulled out, 4 checksum
 * error) | with result 0: name length u8, name, qualification certificate code STRING[20], issuer length
 * u8, issuer, certificate expiry BCD[4] YYYYMMDD | 2019: driver ID card number STRING[20].
 * Traccar's dec-8 asserts the certificate code (its "cardCode"). The driver's certificate code is what
 * assets match on (`driver.certificate.id`), as a tachograph driver card's number is on Ruptela.
 * Text that is not printable ASCII (GBK names) is published as hex under `<name>.raw`.
 */
import type { ByteReader } from '../../src/codec/byte-reader.js';
import type { Message } from '../../src/protocol/types.js';
import { bcdTimeAt } from './bcd-time.js';
import { text } from './session-messages.js';

export function decodeDriverIdentity(r: ByteReader, f: Uint8Array, version: 2013 | 2019, tzOffsetMin: number, m: Message): void {
  const status = r.u8('card status');
  const at = r.pos;
  r.bytes(6, 'time');
  const t = bcdTimeAt(f, at, tzOffsetMin);
  if (t !== null) m.timestamp = t;
  m['message.type'] = 'driver_identity';
  m['driver.card.status.enum'] = status;
  m['driver.card.inserted.status'] = status === 1;
  if (status !== 1) return;
  const result = r.u8('IC card read result');
  m['driver.card.read.result.enum'] = result;
  if (result !== 0) return;
  text(r, r.u8('name length'), 'driver name', 'driver.name', m);
  text(r, 20, 'qualification certificate code', 'driver.certificate.id', m);
  text(r, r.u8('issuer length'), 'certificate issuer', 'driver.certificate.issuer', m);
  const exp = r.bytes(4, 'certificate expiry');
  const digits = Array.from(exp, (b) => b.toString(16).padStart(2, '0')).join('');
  if (/^\d{8}$/.test(digits) && digits !== '00000000') m['driver.certificate.expiry'] = `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
  if (version === 2019 && r.remaining >= 20) text(r, 20, 'driver ID card number', 'driver.id.card', m);
}

/**
 * 0x1003: input audio encoding u8, input audio channels u8, sampling rate u8 (enum), sample bits u8
 * (enum), audio frame length u16, audio output supported u8, video encoding u8, max audio physical
 * channels u8, max video physical channels u8 (JT/T 1078-2016 table 11 as the open-source JT/T 1078
 * codecs read it [S]). The enums are published as numbers (`.enum`): their tables are not confirmed.
 */
export function decodeAvCapabilities(r: ByteReader, m: Message): void {
  m['message.type'] = 'av_capabilities';
  m['av.audio.input.encoding.enum'] = r.u8('audio encoding');
  m['av.audio.input.channels'] = r.u8('audio channels');
  m['av.audio.input.sampling.rate.enum'] = r.u8('sampling rate');
  m['av.audio.input.sample.bits.enum'] = r.u8('sample bits');
  m['av.audio.frame.length'] = r.u16('audio frame length');
  m['av.audio.output.status'] = r.u8('audio output') === 1;
  m['av.video.encoding.enum'] = r.u8('video encoding');
  m['av.audio.channels.max'] = r.u8('audio physical channels');
  m['av.video.channels.max'] = r.u8('video physical channels');
}
