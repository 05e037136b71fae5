/**
 * Where a device is connected, for the read API and the console: to this process, to another
 * process or instance (the shared device ownership in Redis, src/cluster/device-ownership.ts), or
 * nowhere. Without Redis this process is the whole channel, so its own connections are the truth.
 */
export interface Presence {
  connected: boolean;
  /** The instance id holding the connection (this one's, or another process's or instance's); null: none. */
  connected_instance: string | null;
  /** The shared ownership could not be read: `connected` then says only whether this process holds it. */
  connected_error?: string;
}

/** The instance ids holding these devices (null: none), in order; rejects when the store cannot answer. */
export type HoldersPort = (channelId: string, idents: readonly string[]) => Promise<(string | null)[]>;

export async function presenceOf(o: { instanceId: string; isLocal: (ident: string) => boolean; holders: HoldersPort | null }, channelId: string, idents: readonly string[]): Promise<Presence[]> {
  const out: Presence[] = idents.map((ident) => (o.isLocal(ident) ? { connected: true, connected_instance: o.instanceId } : { connected: false, connected_instance: null }));
  if (!o.holders) return out;
  const ask = idents.filter((_, i) => !out[i]!.connected);
  if (ask.length === 0) return out;
  let held: (string | null)[];
  try {
    held = await o.holders(channelId, ask);
  } catch (e) {
    const error = `device ownership cannot be read: ${(e as Error).message}`;
    for (const p of out) if (!p.connected) p.connected_error = error;
    return out;
  }
  let k = 0;
  for (const p of out) {
    if (p.connected) continue;
    const by = held[k++] ?? null;
    // this instance's own id on a device it does not hold: the release has not reached Redis yet
    if (by !== null && by !== o.instanceId) {
      p.connected = true;
      p.connected_instance = by;
    }
  }
  return out;
}
