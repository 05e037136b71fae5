import type { FramePart, ReassembleEffect } from '../../protocol/types.js';
import type { DeviceLink } from '../device-link.js';
import type { EffectHandler, FrameSlot, PipelineHost, PipelineOps } from '../pipeline-types.js';
import { Reassembler, type ReassemblerLimits, type ResendAsk } from '../reassembler.js';

/** Reassembly without channel config (the config's defaults). */
const REASSEMBLY_DEFAULTS: ReassemblerLimits = { maxBytes: 4 * 1024 * 1024, maxAgeMs: 5 * 60_000, resendAfterMs: 20_000, maxRequests: 3 };

/**
 * A part of a multi-frame message: joined and decoded once complete (as one more frame of the link);
 * a request for missing parts goes out right after this frame's replies when the reassembler says so.
 * Not durable: the parts live in memory, and the device resends what a restart lost on request.
 */
export class ReassembleEffects implements EffectHandler<ReassembleEffect> {
  readonly kind = 'reassemble';
  readonly durable = false;
  private readonly reassemblers = new WeakMap<DeviceLink, Reassembler>();
  /** Links holding unfinished messages (the sweep visits only these). */
  private readonly assembling = new Set<DeviceLink>();

  constructor(
    private readonly host: PipelineHost,
    private readonly ops: PipelineOps,
    private readonly limits: ReassemblerLimits = REASSEMBLY_DEFAULTS,
  ) {}

  apply(link: DeviceLink, slot: FrameSlot, e: ReassembleEffect, nowMs: number): null {
    const counters = this.host.stats.counters;
    let r = this.reassemblers.get(link);
    if (!r) this.reassemblers.set(link, (r = new Reassembler(this.limits)));
    const res = r.add(e.key, e.index, e.count, e.bytes, nowMs, e.resend);
    if (res.kind === 'complete') this.ops.enqueue(link, [res.bytes], nowMs, true);
    else if (res.kind === 'dropped') {
      counters.reassemblyDrops++;
      this.host.stats.warnings.add('EDGE_REASSEMBLY_DROPPED');
    } else if (res.kind === 'partial' && res.ask) {
      const bytes = this.resendFrame(link, res.ask);
      if (bytes) (slot.after ??= []).push(bytes);
    }
    // 'duplicate': a late copy of a part of a message already decoded; its own reply is enough
    if (r.size > 0) this.assembling.add(link);
    else this.assembling.delete(link);
    return null;
  }

  /**
   * Periodic (channel timer): drops unfinished messages past their age and asks again for parts of
   * messages that stalled, between frames (DeviceLink.send).
   */
  sweep(nowMs: number): void {
    for (const link of this.assembling) {
      const r = this.reassemblers.get(link);
      if (!r || link.closed || link.closing) {
        this.assembling.delete(link);
        continue;
      }
      const { asks, dropped } = r.sweep(nowMs);
      if (dropped > 0) {
        this.host.stats.counters.reassemblyDrops += dropped;
        this.host.stats.warnings.add('EDGE_REASSEMBLY_DROPPED');
      }
      for (const a of asks) {
        const bytes = this.resendFrame(link, a);
        if (bytes) link.send(bytes);
      }
      if (r.size === 0) this.assembling.delete(link);
    }
  }

  private resendFrame(link: DeviceLink, ask: ResendAsk): Uint8Array | null {
    const part: FramePart | undefined = link.part ? this.host.proto.parts?.find((p) => p.id === link.part) : this.host.proto;
    if (!part?.resendRequest) return null;
    let bytes: Uint8Array | null;
    try {
      bytes = part.resendRequest(ask.context, ask.missing, ask.count, link.session);
    } catch (err) {
      // a protocol bug must not take the channel down: the message waits for its age bound instead
      this.host.linkLog(link).warn({ code: 'EDGE_DECODE_INTERNAL', err: (err as Error).message }, 'resendRequest failed');
      return null;
    }
    if (bytes) this.host.stats.counters.resendRequests++;
    return bytes;
  }
}
