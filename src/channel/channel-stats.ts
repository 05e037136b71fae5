import { PerSecondBudget, Tally } from '../util/tally.js';

/** Individual per-connection error events published per second; the rest are counted per interval. */
const ERROR_EVENTS_PER_SECOND = 20;
/** `identified` log events published per second; the rest are counted (identifiedNotLogged). */
const IDENTIFIED_EVENTS_PER_SECOND = 200;

/**
 * A channel's counters and per-interval tallies. Counters are cumulative (published retained as
 * `counters`); tallies are reset at every stats interval and published as aggregated log events,
 * so a flood of per-frame conditions becomes one line per interval.
 */
export class ChannelStats {
  readonly counters = {
    frames: 0,
    messages: 0,
    acked: 0,
    decodeErrors: 0,
    udpOverloadDrops: 0,
    udpKernelDrops: 0,
    udpRepliesDropped: 0,
    outboundOverflows: 0,
    frameTimeouts: 0,
    serverFrames: 0,
    fileChunks: 0,
    /** Device questions relayed to an outside service (`relay` effects, e.g. tacho card APDUs). */
    relayed: 0,
    reassemblyDrops: 0,
    /** Requests for missing parts of multi-frame messages sent (e.g. JT/T 808 0x8800 with a list, 0x8003). */
    resendRequests: 0,
    /** Traffic capture (config capture): rows written, rows lost (write failures, bounds), failed writes. */
    captureRows: 0,
    captureDroppedRows: 0,
    captureWriteErrors: 0,
    /** `identified` log events over the per-second budget (counted, not published; the retained state is). */
    identifiedNotLogged: 0,
  };
  /** Decoder warnings by code. */
  readonly warnings = new Tally();
  /** Frames not acknowledged and server-side closes, by code (publish failed, spool write failed, ...). */
  readonly unacked = new Tally();
  /** Error events over the per-second budget, by code. */
  readonly errorsNotLogged = new Tally();
  readonly errorBudget = new PerSecondBudget(ERROR_EVENTS_PER_SECOND);
  readonly identifiedBudget = new PerSecondBudget(IDENTIFIED_EVENTS_PER_SECOND);
}

export type ChannelCounters = ChannelStats['counters'];
