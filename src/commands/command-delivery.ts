import type { CommandReply } from '../protocol/types.js';
import type { Logger } from '../util/log.js';
import { asEdge, RECENT_PER_DEVICE, type CommandBook, type Device, type Held } from './command-book.js';
import type { CommandOutbox } from './command-outbox.js';
import type { CommandStore } from './command-store.js';
import type { CommandStatus, EventFields } from './lifecycle-payloads.js';
import type { CommandDevicePort } from './ports.js';

/**
 * Commands out to a device, one at a time: encode with the device's session, count the attempt
 * durably, write between frames, then wait for the reply (or none, when the command has no reply
 * key). And the one way a command ends (`finish`): out of memory and the store, then its final
 * event and the cleared queue entry, in that order.
 */
export class CommandDelivery {
  constructor(
    private readonly book: CommandBook,
    private readonly outbox: CommandOutbox,
    private readonly store: CommandStore,
    private readonly device: CommandDevicePort,
    private readonly maxAttempts: number,
    private readonly now: () => number,
    private readonly log: Logger | undefined,
  ) {}

  kick(dev: Device): void {
    this.outbox.track(this.pump(dev));
  }

  private async pump(dev: Device): Promise<void> {
    if (dev.pumping) {
      dev.repump = true;
      return;
    }
    dev.pumping = true;
    try {
      do {
        dev.repump = false;
        await this.deliver(dev);
      } while (dev.repump);
    } finally {
      dev.pumping = false;
    }
  }

  private async deliver(dev: Device): Promise<void> {
    while (dev.online && dev.inflight === null && dev.queue.length > 0) {
      const h = dev.queue[0]!;
      if (this.now() >= h.c.expiresAtMs) {
        this.finish(dev, h, 'expired', { reason: ttlReason(h) });
        continue;
      }
      if (h.c.attempts >= this.maxAttempts) {
        this.finish(dev, h, 'processed', {
          executed: false,
          response: null,
          code: 'EDGE_COMMAND_ATTEMPTS',
          reason: `written ${h.c.attempts} times without a reply (the connection closed each time; commands.max_attempts)`,
        });
        continue;
      }
      let enc;
      try {
        enc = await this.device.encode(dev.channelId, dev.ident, { name: h.c.name, properties: h.c.properties });
      } catch (e) {
        const ee = asEdge(e, 'EDGE_COMMAND_INVALID');
        this.finish(dev, h, 'processed', { executed: false, response: null, code: ee.code, reason: `not encodable for this device: ${ee.reason}` });
        continue;
      }
      if (h.ended || dev.queue[0] !== h || dev.inflight !== null) continue;
      if (!dev.online) return;
      dev.queue.shift();
      dev.inflight = h;
      h.state = 'sending';
      h.replyKey = enc.replyKey;
      h.then = enc.then ?? null;
      h.deadlineMs = this.now() + h.c.timeoutMs;
      h.c.attempts++;
      // counted durably before the bytes go out, so the bound holds across crashes
      const still = await this.store.setAttempts(h.c.id, h.c.attempts).catch((e: unknown) => this.storeError(e, h.c.id));
      if (still === false && dev.inflight === h) {
        // a shared store no longer holds it: another instance canceled or expired it (and reported it)
        dev.inflight = null;
        this.book.drop(dev, h);
        continue;
      }
      if (dev.inflight !== h) continue;
      if (h.ended) {
        dev.inflight = null; // canceled before the write: nothing is sent, nothing will answer
        continue;
      }
      try {
        await this.device.send(dev.channelId, dev.ident, enc.bytes);
      } catch {
        if (dev.inflight === h) {
          // not written: the device went away; the command waits at the head for the next connection
          dev.inflight = null;
          if (!h.ended) {
            h.state = 'queued';
            dev.queue.unshift(h);
            dev.online = this.device.isOnline(dev.channelId, dev.ident);
          }
        }
        continue;
      }
      this.written(dev, h);
    }
  }

  private written(dev: Device, h: Held): void {
    if (dev.inflight !== h) return; // timed out, or the connection closed, while sending
    if (h.ended) {
      // canceled while being sent: hold the slot for its reply unless none will come
      h.state = 'sent';
      if (h.replyKey === null || h.earlyReply) dev.inflight = null;
      return;
    }
    h.state = 'sent';
    this.outbox.event(dev, h, 'sent', { attempt: h.c.attempts }, null);
    this.outbox.queueEntry(dev, h, null);
    if (h.replyKey === null) {
      this.finish(dev, h, 'processed', { executed: true, response: null });
    } else if (h.earlyReply) {
      dev.inflight = null;
      this.completeWithReply(dev, h, h.earlyReply);
    }
  }

  completeWithReply(dev: Device, h: Held, reply: CommandReply): void {
    this.finish(
      dev,
      h,
      'processed',
      reply.executed
        ? { executed: true, response: reply.response }
        : { executed: false, response: reply.response, code: 'EDGE_COMMAND_FAILED', reason: `the device answered that it did not execute the command (response ${JSON.stringify(reply.response)})` },
    );
  }

  /** Ends a command: out of the queue and the store, then its final event and the cleared queue entry. */
  finish(dev: Device, h: Held, status: CommandStatus, extra: Partial<EventFields>, keepSlot = false): void {
    if (h.ended) return;
    h.ended = true;
    this.book.held.delete(h.c.id);
    this.book.remember(h.c.id, status);
    const i = dev.queue.indexOf(h);
    if (i >= 0) dev.queue.splice(i, 1);
    if (dev.inflight === h && !keepSlot) dev.inflight = null;
    const removed = this.store.remove(h.c.id).catch((e: unknown) => this.storeError(e, h.c.id));
    dev.recent.push({ id: h.c.id, name: h.c.name, status, at: this.now() / 1000, ...(extra.executed !== undefined ? { executed: extra.executed } : {}), ...(extra.code ? { code: extra.code } : {}) });
    if (dev.recent.length > RECENT_PER_DEVICE) dev.recent.shift();
    const attempt = status === 'processed' || status === 'canceled' ? { attempt: h.c.attempts } : {};
    this.outbox.event(dev, h, status, { ...attempt, ...extra }, removed);
    this.outbox.clearEntry(dev, h, removed);
  }

  private storeError(e: unknown, id: string): void {
    this.log?.error({ code: 'EDGE_COMMAND_STORE_FAILED', id, err: e instanceof Error ? e.message : String(e) }, 'command store write failed; the change is kept in memory only');
  }
}

export function ttlReason(h: Held): string {
  return `not delivered within its ttl (${(h.c.expiresAtMs - h.c.queuedAtMs) / 1000} s)`;
}
