import type { DeviceLink } from './device-link.js';

/**
 * Which link serves each ident of a channel. An ident has one owner: a second TCP connection with
 * the same ident takes it over (the old one is closed by the caller with close code 12), and a
 * link that changes ident (a gateway, a re-flashed device) gives up the old one.
 */
export class IdentTable {
  private readonly byIdent = new Map<string, DeviceLink>();

  get(ident: string): DeviceLink | undefined {
    return this.byIdent.get(ident);
  }

  get size(): number {
    return this.byIdent.size;
  }

  /** Every ident with the link serving it. */
  entries(): IterableIterator<[string, DeviceLink]> {
    return this.byIdent.entries();
  }

  /**
   * `link` now serves its current ident. Returns the TCP link that served it before and must be
   * closed (ident collision), and whether `before` (the link's previous ident) was released.
   */
  claim(link: DeviceLink, before: string | undefined): { displaced: DeviceLink | null; released: string | null } {
    const ident = link.ident!;
    let released: string | null = null;
    if (before && before !== ident && this.byIdent.get(before) === link) {
      this.byIdent.delete(before);
      released = before;
    }
    const other = this.byIdent.get(ident);
    const displaced = other && other !== link && other.transport === 'tcp' && !other.closed ? other : null;
    this.byIdent.set(ident, link);
    return { displaced, released };
  }

  /** The link is gone. Returns true when another link still serves its ident. */
  release(link: DeviceLink): boolean {
    if (!link.ident) return false;
    if (this.byIdent.get(link.ident) === link) {
      this.byIdent.delete(link.ident);
      return false;
    }
    return this.byIdent.has(link.ident);
  }
}
