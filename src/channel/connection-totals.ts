/**
 * A channel's connections over every instance and process that serves it: the channel's port
 * (channel-log.ts publishes what it returns as the retained `connections_count`). The Redis
 * implementation is cluster/connection-totals.ts; alone, LOCAL_TOTALS.
 */
export interface ConnectionTotals {
  /** Whether other instances' counts are included (Redis): the channel renews its report then. */
  readonly shared: boolean;
  /** The lease of a report, ms (a renewal every third of it). */
  readonly leaseMs: number;
  /** This instance's count now; resolves to the channel's total over every live instance. */
  report(channelId: string, count: number): Promise<number>;
  /** This instance serves the channel no more: its count is removed; resolves to the others' total. */
  leave(channelId: string): Promise<number>;
  close(): Promise<void>;
}

/** One instance alone: its count is the total. */
export const LOCAL_TOTALS: ConnectionTotals = {
  shared: false,
  leaseMs: 0,
  report: (_channelId, count) => Promise.resolve(count),
  leave: () => Promise.resolve(0),
  close: () => Promise.resolve(),
};
