/**
 * What a JT/T 1078 media packet's numbers mean: payload type (PT) → codec, data type → media kind,
 * sub-package marks. Here rather than in the protocol folder because the frame assembler, the camera
 * simulator and the players all need the same meanings, and src/ never imports a protocol folder.
 */

/** Data type, the high nibble of the packet's type byte. */
export const DATA_TYPE = { I: 0, P: 1, B: 2, AUDIO: 3, TRANSPARENT: 4 } as const;
/** Sub-package mark, the low nibble: a frame is one atomic packet, or first, middle…, last. */
export const SUBPACKAGE = { ATOMIC: 0, FIRST: 1, LAST: 2, MIDDLE: 3 } as const;

export type MediaKind = 'video' | 'audio' | 'transparent';
export type MediaCodec = 'h264' | 'h265' | 'g711a' | 'g711u' | 'g726' | 'aac' | 'unknown';

/**
 * Payload types this server knows. Confidence, as far as public sources go: 98 is confirmed by
 * bytes (the Traccar vectors); 6 and 8 match what open-source JT/T 1078 codecs use; 99, 7 and 19
 * are the standard's table as recalled, not checked against a device. Any other value is kept as
 * the packet's number with codec `unknown`, never an error: the media may still be forwarded raw.
 */
export const PAYLOAD_TYPES: Readonly<Record<number, { codec: MediaCodec; confidence: 'bytes' | 'codecs' | 'recalled' }>> = {
  98: { codec: 'h264', confidence: 'bytes' },
  99: { codec: 'h265', confidence: 'recalled' },
  6: { codec: 'g711a', confidence: 'codecs' },
  7: { codec: 'g711u', confidence: 'recalled' },
  8: { codec: 'g726', confidence: 'codecs' },
  19: { codec: 'aac', confidence: 'recalled' },
};

export function codecOf(payloadType: number): MediaCodec {
  return PAYLOAD_TYPES[payloadType]?.codec ?? 'unknown';
}

/** The payload type a simulator or encoder writes for a codec (the inverse of the table). */
export function payloadTypeOf(codec: Exclude<MediaCodec, 'unknown'>): number {
  return Number(Object.entries(PAYLOAD_TYPES).find(([, v]) => v.codec === codec)![0]);
}

export function kindOf(dataType: number): MediaKind {
  return dataType <= DATA_TYPE.B ? 'video' : dataType === DATA_TYPE.AUDIO ? 'audio' : 'transparent';
}
