import type { EffectHandlers, PipelineDeps, PipelineHost, PipelineOps } from '../pipeline-types.js';
import { credentialCheckEffect, credentialIssueEffect } from './credentials.js';
import { fileChunkEffect } from './file-chunk.js';
import { MediaFiles } from './media-files.js';
import { ReassembleEffects } from './reassemble.js';
import { relayEffect } from './relay.js';
import { RuntimeMessages } from './runtime-messages.js';
import { serverFrameEffect } from './server-frame.js';
import { refusedUploadEffect, UploadEffects } from './upload.js';

/** A channel's effect handlers, and the two that also have timers (reassembly and upload sweeps). */
export interface ChannelEffects {
  handlers: EffectHandlers;
  reassembly: ReassembleEffects;
  /** Null when the channel tracks no uploads. */
  uploads: UploadEffects | null;
}

/**
 * One handler per decode effect kind (ARCHITECTURE.md "Effects"). A new kind of effect is a new
 * member of the DecodeEffect union, a file here, and a line below; the compiler refuses a missing one.
 */
export function channelEffects(host: PipelineHost, deps: PipelineDeps, ops: PipelineOps): ChannelEffects {
  const messages = new RuntimeMessages(host, deps.sink);
  const files = new MediaFiles(host, deps, messages);
  const reassembly = new ReassembleEffects(host, ops, deps.reassembly);
  const tracker = deps.uploads;
  const uploads = tracker ? new UploadEffects(host, { pool: deps.pool, tracker, files, messages, ops }) : null;
  const handlers: EffectHandlers = {
    'server-frame': serverFrameEffect(host),
    'file-chunk': fileChunkEffect(host, files, ops),
    upload: uploads ?? refusedUploadEffect(ops),
    relay: relayEffect(host, deps, ops),
    reassemble: reassembly,
    'credential-issue': credentialIssueEffect(host, deps, ops),
    'credential-check': credentialCheckEffect(host, deps, ops),
  };
  return { handlers, reassembly, uploads };
}
