/**
 * Stable message ids for consumer-side deduplication (delivery is at least once: a record can be
 * published twice when a PUBACK is late, when the spool drains a message whose first attempt did
 * arrive, or when a device resends a frame whose ACK it never saw).
 *
 *   message.id = `${channel}-${ident}-${timestamp}-${hash}`
 *
 * `hash` is 48 bits of cyrb53 over the decoder's JSON of the message (before the server envelope
 * is appended, so receive time and peer do not enter it). Why a content hash rather than the
 * message's index in its frame: a device that never got its ACK may resend the same records
 * grouped differently (more or fewer per frame); the index would then change and the duplicate
 * would pass, while the content — and so the id — stays the same. Two messages with equal ident,
 * device time and content are the same record, so sharing an id is right. Messages whose time
 * comes from the server (e.g. identification) get a new timestamp per receipt, hence a new id.
 */
export function messageId(channelId: string, ident: string, timestamp: unknown, decoderJson: string): string {
  const ts = typeof timestamp === 'number' && Number.isFinite(timestamp) ? String(timestamp) : 'x';
  return `${channelId}-${ident}-${ts}-${cyrb53(decoderJson).toString(16).padStart(14, '0').slice(-12)}`;
}

/** cyrb53 (public domain, bryc): a fast 53-bit string hash with good avalanche; not cryptographic. */
export function cyrb53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
