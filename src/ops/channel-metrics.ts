/**
 * What a channel reports per event to the metrics (src/ops/metrics.ts), for the figures that cannot
 * be read from its public counters at scrape time. Optional in ChannelDeps: a channel without it
 * (tests, benches) pays nothing. Both calls are cheap and must never throw.
 */
export interface ChannelMetrics {
  /** A frame was acknowledged (its reply written, or none needed): time since its bytes arrived. */
  acked(channelId: string, latencyMs: number): void;
  /** A frame failed framing, checksum or decoding, with its stable error code. */
  decodeError(channelId: string, code: string): void;
}
