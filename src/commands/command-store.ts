/**
 * Where held commands live between restarts. Small on purpose: the default is a local file
 * (file-command-store.ts); a store shared by several instances (src/cluster/redis-command-store.ts)
 * implements the same operations and `shared`. Both keep the contract test/support/store-suites.ts
 * checks. Every promise resolves once the change is durable (it survives kill -9).
 */
export interface StoredCommand {
  id: string;
  channelId: string;
  /** The ident as addressed in the request topic. */
  ident: string;
  name: string;
  properties: Record<string, unknown>;
  /** `meta` exactly as the sender wrote it (JSON text), or null. */
  meta: string | null;
  queuedAtMs: number;
  expiresAtMs: number;
  timeoutMs: number;
  /** Writes to the device so far (counted before each write). */
  attempts: number;
}

export interface CommandStore {
  /**
   * Every held command, in the order they were added (a shared store: by queue time, the order the
   * instances agree on). Opens the store on first call.
   */
  load(): Promise<StoredCommand[]>;
  add(cmd: StoredCommand): Promise<void>;
  /** Resolves false when the command was not there any more (a shared store: another instance ended it). */
  setAttempts(id: string, attempts: number): Promise<boolean | void>;
  /** Resolves false when the command was not there any more (a shared store: another instance ended it). */
  remove(id: string): Promise<boolean | void>;
  close(): Promise<void>;
  /** Set by a store several instances share (redis-command-store.ts); absent = this process only. */
  readonly shared?: SharedCommandStore;
}

/**
 * The operations a store shared by several instances adds. With it the command service holds in
 * memory only the commands of devices connected to this instance (it delivers those); everything
 * else lives in the store. Each operation that ends a command or admits one succeeds on exactly one
 * instance, and only that instance publishes the lifecycle event, so events go out once.
 */
export interface SharedCommandStore {
  /** Adds unless the id is held or ended recently ('duplicate') or the device holds `maxPerDevice` ('full'). */
  addOnce(cmd: StoredCommand, maxPerDevice: number): Promise<'added' | 'duplicate' | 'full'>;
  get(id: string): Promise<StoredCommand | null>;
  /** A device's held commands in queue order. */
  loadDevice(channelId: string, ident: string): Promise<StoredCommand[]>;
  /** Removes and returns commands past their expiry whose device no instance holds (no live owner). */
  takeExpired(nowMs: number, limit: number): Promise<StoredCommand[]>;
  /** True for the first instance to call it with this token (within a minute): it reports the event. */
  firstToReport(token: string): Promise<boolean>;
  /** Called when a device's held commands were added or removed by any instance. */
  onChanged(cb: (channelId: string, ident: string) => void): void;
}
