import type { DecodeEffect } from '../../protocol/types.js';
import type { EffectHandler, PipelineHost } from '../pipeline-types.js';

type ServerFrameEffect = Extract<DecodeEffect, { kind: 'server-frame' }>;

/** A frame the server sends on its own (a request, a command): written right after the frame's replies. */
export function serverFrameEffect(host: PipelineHost): EffectHandler<ServerFrameEffect> {
  return {
    kind: 'server-frame',
    durable: false,
    apply(_link, slot, e) {
      (slot.after ??= []).push(e.bytes);
      host.stats.counters.serverFrames++;
      return null;
    },
  };
}
