/**
 * Where held commands live between restarts. Small on purpose: the default is a local file
 * (file-command-store.ts); a store shared by several instances (a later issue) implements the same
 * four operations. Every promise resolves once the change is durable (it survives kill -9).
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
  /** Every held command, in the order they were added. */
  load(): Promise<StoredCommand[]>;
  add(cmd: StoredCommand): Promise<void>;
  setAttempts(id: string, attempts: number): Promise<void>;
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}
