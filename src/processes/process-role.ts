/**
 * What one process is among the processes of one box serving the same channels (config
 * `processes`): its index, and which listeners it opens. A process that runs alone (the default)
 * has index 0 of 1 and opens everything.
 */
export interface ProcessRole {
  /** 0-based; the suffix of its instance id (`{instance_id}-p{index}`) and of its data directories. */
  index: number;
  count: number;
  /** Its sockets are its own, bound with SO_REUSEPORT (src/processes/balance.ts). */
  reusePort: boolean;
  /** It opens the channels' UDP ports (every process with reusePort; process 0 only without). */
  udp: boolean;
  /** It runs the HTTP listener (process 0): one port, one API and console, one /metrics. */
  http: boolean;
}

export const ALONE: ProcessRole = { index: 0, count: 1, reusePort: false, udp: true, http: true };
