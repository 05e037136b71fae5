/**
 * The `commands` configuration section (README "Device commands"). Validation of the file lives
 * with the rest of the config (src/config/); these are the shape and the defaults.
 */
export interface CommandsConfig {
  /** Directory of the durable command store (relative paths: the working directory). */
  dir: string;
  /** fdatasync every store write before it counts (false: survives a process crash, not a power cut). */
  fsync: boolean;
  /** `ttl` of a request that gives none, and the largest allowed, seconds. */
  default_ttl_s: number;
  max_ttl_s: number;
  /** `timeout` (wait for the device's reply) of a request that gives none, and the largest allowed, seconds. */
  default_timeout_s: number;
  max_timeout_s: number;
  /** Writes of one command to its device (reconnects in between) before it ends `executed: false`. */
  max_attempts: number;
  /** Commands held per device (queued + in flight); beyond it requests are rejected. */
  max_queued_per_device: number;
  /** `meta` limits: UTF-8 bytes of its JSON text as sent, and nesting depth (the object itself is 1). */
  max_meta_bytes: number;
  max_meta_depth: number;
  /** With redis_url: subscribe to requests as `$share/{group}/…` so one instance takes each; '' = every instance gets each. */
  share_group: string;
}

export const COMMANDS_DEFAULTS: CommandsConfig = {
  dir: './data/commands',
  fsync: true,
  default_ttl_s: 3600,
  max_ttl_s: 30 * 24 * 3600,
  default_timeout_s: 15,
  max_timeout_s: 600,
  max_attempts: 3,
  max_queued_per_device: 100,
  max_meta_bytes: 8192,
  max_meta_depth: 16,
  share_group: '',
};
