import { createHash } from 'node:crypto';
import type { Logger } from '../util/log.js';
import { deviceKey, held, type CommandBook, type Device } from './command-book.js';
import { ttlReason, type CommandDelivery } from './command-delivery.js';
import type { CommandOutbox } from './command-outbox.js';
import type { CommandStore, SharedCommandStore, StoredCommand } from './command-store.js';
import type { CommandDevicePort } from './ports.js';

/** What a store mode works on: the service's memory, its outbox and delivery, the store and the device port. */
export interface ModeHost {
  readonly book: CommandBook;
  readonly outbox: CommandOutbox;
  readonly delivery: CommandDelivery;
  readonly store: CommandStore;
  readonly device: CommandDevicePort;
  readonly log: Logger | undefined;
  now(): number;
  isStopped(): boolean;
}

/**
 * Where the truth of the queues lives, and what follows from it. Local (a file store, one
 * process): memory holds every command, and every request is this instance's to report. Shared (a
 * Redis store, several instances): the store holds every command, memory only those of devices
 * connected here, and each event is reported by exactly one instance (the store decides which).
 */
export interface StoreMode {
  /** True: the per-device queue limit is checked against memory before the request is validated. */
  readonly limitsInMemory: boolean;
  /** Opens the store; the commands this instance holds from the start (in queue order). */
  initialLoad(): Promise<StoredCommand[]>;
  start(): void;
  /** A token naming one delivery of a request or cancel (several instances may get it); '' for none. */
  token(topic: string, payload: Buffer): string;
  /** Runs `report` here when this instance is the one to report for `token`. */
  once(token: string, report: () => unknown): void;
  /** Stores an admitted command unless it is a duplicate or its device is full. */
  admit(c: StoredCommand, maxPerDevice: number): Promise<'added' | 'duplicate' | 'full'>;
  /** Whether an admitted command is held in this instance's memory. */
  holds(channelId: string, ident: string): boolean;
  /** The device that came online, when this instance has (or should load) commands for it. */
  onlineDevice(channelId: string, ident: string): Device | undefined;
  /** The device is online here: its commands go out (after loading them, for a shared store). */
  resume(dev: Device): void;
  /** The device is offline here. */
  offline(dev: Device): void;
  /** A cancel for a command this instance does not hold; false when the mode has nothing more to look at. */
  cancelUnheld(channelId: string, ident: string, id: string, notFound: () => void): boolean;
  /** Periodic work beyond the in-memory expiry. */
  tick(now: number): void;
  /** Resync: queue entries of commands this instance does not hold but should report; how many. */
  republishUnheld(): Promise<number>;
}

export class LocalMode implements StoreMode {
  readonly limitsInMemory = true;
  constructor(private readonly h: ModeHost) {}
  initialLoad(): Promise<StoredCommand[]> {
    return this.h.store.load();
  }
  start(): void {}
  token(): string {
    return '';
  }
  once(_token: string, report: () => unknown): void {
    report();
  }
  async admit(c: StoredCommand): Promise<'added'> {
    await this.h.store.add(c);
    return 'added';
  }
  holds(): boolean {
    return true;
  }
  onlineDevice(channelId: string, ident: string): Device | undefined {
    return this.h.book.get(channelId, ident);
  }
  resume(dev: Device): void {
    this.h.delivery.kick(dev);
  }
  offline(): void {}
  cancelUnheld(): boolean {
    return false;
  }
  tick(): void {}
  async republishUnheld(): Promise<number> {
    return 0;
  }
}

export class SharedMode implements StoreMode {
  readonly limitsInMemory = false;
  private sweeping = false;

  constructor(
    private readonly h: ModeHost,
    private readonly shared: SharedCommandStore,
  ) {}

  /** Nothing at first: a device's commands are loaded when it connects here (resume). */
  async initialLoad(): Promise<StoredCommand[]> {
    await this.h.store.load();
    return [];
  }

  start(): void {
    // another instance added or removed commands of a device: reload them if it is connected here
    this.shared.onChanged((channelId, ident) => {
      const dev = this.h.book.get(channelId, ident);
      if (dev?.online && !this.h.isStopped()) this.h.outbox.track(this.refresh(dev));
    });
  }

  token(topic: string, payload: Buffer): string {
    return createHash('sha1').update(topic).update('\u0000').update(payload).digest('hex');
  }

  once(token: string, report: () => unknown): void {
    if (!token) {
      report();
      return;
    }
    this.h.outbox.track(this.firstToReport(token).then((first) => (first ? report() : undefined)));
  }

  admit(c: StoredCommand, maxPerDevice: number): Promise<'added' | 'duplicate' | 'full'> {
    return this.shared.addOnce(c, maxPerDevice);
  }

  /** Held in memory only where the device is connected (else by whichever instance it connects to). */
  holds(channelId: string, ident: string): boolean {
    return this.h.device.isOnline(channelId, ident);
  }

  onlineDevice(channelId: string, ident: string): Device {
    return this.h.book.deviceFor(channelId, ident);
  }

  resume(dev: Device): void {
    this.h.outbox.track(this.refresh(dev));
  }

  /** The commands stay in the store for whichever instance the device connects to next. */
  offline(dev: Device): void {
    if (!dev.online) for (const q of [...dev.queue]) this.h.book.drop(dev, q);
  }

  /** Held by the store only (its device is offline or on another instance): whoever removes it reports it. */
  cancelUnheld(channelId: string, ident: string, id: string, notFound: () => void): boolean {
    const { book, outbox, store } = this.h;
    outbox.track(
      (async () => {
        const c = await this.shared.get(id);
        if (!c || deviceKey(c.channelId, c.ident) !== deviceKey(channelId, ident)) return notFound();
        if (!(await store.remove(c.id))) return notFound();
        const d = book.deviceFor(c.channelId, c.ident);
        book.remember(c.id, 'canceled');
        const x = held(c, true);
        outbox.event(d, x, 'canceled', { attempt: c.attempts }, null);
        outbox.clearEntry(d, x, null);
      })(),
    );
    return true;
  }

  tick(now: number): void {
    if (this.sweeping || this.h.isStopped()) return;
    this.sweeping = true;
    this.h.outbox.track(this.sweep(now).finally(() => (this.sweeping = false)));
  }

  /** Expiry of commands whose device no instance holds (each instance expires its own devices' in tick). */
  private async sweep(now: number): Promise<void> {
    const { book, outbox } = this.h;
    for (const c of await this.shared.takeExpired(now, 100)) {
      const dev = book.deviceFor(c.channelId, c.ident);
      const local = book.held.get(c.id);
      if (local) book.drop(dev, local);
      const x = held(c, true);
      book.remember(c.id, 'expired');
      outbox.event(dev, x, 'expired', { reason: ttlReason(x) }, null);
      outbox.clearEntry(dev, x, null);
    }
  }

  /**
   * The device's held commands as the store has them. New ones join the queue; ones that are gone
   * (canceled or expired by another instance, which reported it) leave it silently; an in-flight one
   * that is gone keeps the slot until its reply or timeout, like a local cancel.
   */
  private async refresh(dev: Device): Promise<void> {
    const { book } = this.h;
    const list = await this.shared.loadDevice(dev.channelId, dev.ident);
    if (!dev.online) return;
    const ids = new Set(list.map((c) => c.id));
    for (const h of [...dev.queue]) if (!ids.has(h.c.id) && !book.admitting.has(h.c.id)) book.drop(dev, h);
    if (dev.inflight && !ids.has(dev.inflight.c.id)) dev.inflight.ended = true;
    for (const c of list) {
      if (book.held.has(c.id) || book.recent.has(c.id)) continue;
      const h = held(c);
      book.held.set(c.id, h);
      dev.queue.push(h);
    }
    this.h.delivery.kick(dev);
  }

  /**
   * Commands of devices no instance holds, by the one instance that wins this minute's claim (a
   * broker outage makes every instance resync at about the same time; two winners across a minute
   * boundary only publish the same entries twice).
   */
  async republishUnheld(): Promise<number> {
    const { book, outbox, store, device } = this.h;
    if (!(await this.shared.firstToReport(`resync:${Math.floor(this.h.now() / 60_000)}`))) return 0;
    let n = 0;
    for (const c of await store.load()) {
      if (book.held.has(c.id) || device.isOnline(c.channelId, c.ident)) continue;
      outbox.queueEntry(book.deviceFor(c.channelId, c.ident), held(c), null);
      n++;
    }
    return n;
  }

  /**
   * Whether this instance reports the event. The claim is a Redis write, so during a Redis outage
   * it fails: then every instance that got the request reports it (a repeated `rejected` is
   * harmless, an unanswered request is not: the requester would wait for its TTL).
   */
  private firstToReport(token: string): Promise<boolean> {
    return this.shared.firstToReport(token).catch((e: unknown) => {
      this.h.log?.warn({ code: 'EDGE_COMMAND_STORE_FAILED', err: e instanceof Error ? e.message : String(e) }, 'command service: cannot claim the report in Redis; reporting it from this instance');
      return true;
    });
  }
}
