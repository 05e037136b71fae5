import { CLOSE_CODES } from '../../net/close-codes.js';
import type { FileChunkEffect } from '../../protocol/types.js';
import type { DeviceLink } from '../device-link.js';
import type { EffectHandler, FrameSlot, PipelineHost, PipelineOps } from '../pipeline-types.js';
import type { MediaFiles } from './media-files.js';

/**
 * A piece of a file the device sends in its frames (tachograph downloads, camera files): synced
 * before the frame's ACK; the final piece completes the file, and its announcement (when the
 * protocol asks for one) counts before the ACK too.
 */
export function fileChunkEffect(host: PipelineHost, files: MediaFiles, ops: PipelineOps): EffectHandler<FileChunkEffect> {
  return {
    kind: 'file-chunk',
    durable: true,
    apply(link: DeviceLink, slot: FrameSlot, e: FileChunkEffect) {
      const ident = link.ident ?? '_unidentified';
      if (!files.store) {
        ops.fail(link, slot, { code: 'EDGE_MEDIA_WRITE_FAILED', reason: 'the frame carries a file piece but no media store is configured' }, CLOSE_CODES.INTERNAL_ERROR);
        return false;
      }
      slot.remaining++;
      host.stats.counters.fileChunks++;
      // the final piece: the file keeps its facts and the command that asked for it (searchable over the HTTP API)
      const file = e.final && e.file ? { ...e.file, meta: { ...(e.meta ?? {}), ...files.commandOf(ident, e.file.kind) } } : e.file;
      files.write(ident, e.key, e.offset, e.bytes, e.final, file, (err, stored) => {
        if (err) {
          slot.confirm(err);
          return;
        }
        if (stored) files.stored(link, ident, stored, e.meta ?? {}, e.announce ? { prefix: e.announce, slot } : null);
        slot.confirm(null);
      });
      return null;
    },
  };
}
