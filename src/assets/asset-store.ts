import type { AssetRecord } from './types.js';

/**
 * Where asset timelines live between restarts. Small on purpose: the default is a local directory
 * (file-asset-store.ts); a store shared by several instances (redis-asset-store.ts) implements the
 * same operations and `watch`. Every promise resolves once the change is durable (it survives kill -9).
 *
 * Writes are conditional on the revision the writer last saw (`expectedRev`, 0 = the asset must not
 * exist), so a second writer cannot silently overwrite a change it has not seen: the loser gets
 * `false`, reloads the asset with `get` and the change that lost is refused (a frame is then not
 * acknowledged and its device sends it again; a management request is rejected).
 */
export interface AssetStore {
  /** Every stored asset. */
  load(): Promise<AssetRecord[]>;
  get(id: string): Promise<AssetRecord | null>;
  /** Stores `record` (whose `rev` is expectedRev + 1) if the stored revision is still `expectedRev`. */
  put(record: AssetRecord, expectedRev: number): Promise<boolean>;
  /** Removes the asset if the stored revision is still `expectedRev`. */
  delete(id: string, expectedRev: number): Promise<boolean>;
  /**
   * Shared stores only: calls `onChange(id, rev)` after a write by any writer (rev 0: deleted), and
   * `onChange(null, 0)` when notices may have been lost (compare everything again). Resolves once
   * notices flow, so a `load` after it misses no change. A cache hint, not a guarantee: correctness
   * rests on the conditional writes; the notice only keeps another instance's cache fresh.
   */
  watch?(onChange: (id: string | null, rev: number) => void): Promise<void>;
  close(): Promise<void>;
}
