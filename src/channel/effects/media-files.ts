import type { EdgeError } from '../../errors.js';
import type { MediaStore, StoredMedia, FileDescription } from '../../media/media-store.js';
import { mediaId } from '../../media/media-catalog.js';
import type { MessageValue } from '../../protocol/types.js';
import type { DeviceLink } from '../device-link.js';
import type { FrameSlot, PipelineDeps, PipelineHost } from '../pipeline-types.js';
import { commandEventFields, commandFieldsText, storedFileFields, type RuntimeMessages } from './runtime-messages.js';

/**
 * The one path from a device's file bytes to the media store and from a stored file to what is said
 * about it. Both effects that carry files (`file-chunk`: tacho downloads, camera files; `upload`: JT/T
 * 808 alarm attachments) write and announce through here, so a stored file always gets the same
 * `stored` media event, the same hook call (which completes the command that asked for it) and, when
 * the protocol asks for one, the same announcement message.
 */
export class MediaFiles {
  constructor(
    private readonly host: PipelineHost,
    private readonly deps: PipelineDeps,
    private readonly messages: RuntimeMessages,
  ) {}

  get store(): MediaStore | null {
    return this.deps.media;
  }

  /** `{"command.id": …}` of the command waiting for a file of this kind from the device, or nothing. */
  commandOf(ident: string, kind: string): Record<string, MessageValue> {
    const cmd = this.deps.hooks.mediaCommand?.(this.host.id, ident, kind) ?? null;
    return cmd ? { 'command.id': cmd.id } : {};
  }

  /** Signed download links, when the server has an HTTP listener. */
  get links(): { url(id: string): string } | null {
    return this.deps.links ?? null;
  }

  /**
   * Writes one piece (`final`: and completes the file). A failure is reported to the `mediaFailed`
   * hook (it ends the command waiting for the file) before `done` sees it. The caller has checked
   * that a media store exists.
   */
  write(ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean, file: FileDescription | undefined, done: (err: EdgeError | null, stored: StoredMedia | null) => void): void {
    this.deps.media!.write(this.host.id, ident, key, offset, bytes, final, file, (err, stored) => {
      if (err) this.deps.hooks.mediaFailed?.(this.host.id, ident, key, err);
      done(err, stored);
    });
  }

  /** A write failed without the store saying why (completion returned no file): the same hook as a store error. */
  failed(ident: string, key: string, err: EdgeError): void {
    this.deps.hooks.mediaFailed?.(this.host.id, ident, key, err);
  }

  /**
   * A file is complete: its `stored` media event, then the `mediaStored` hook. With `announce` (a
   * message-name prefix and the frame), the file also gets a message for the device, one of the
   * frame's durable effects, so a device never deletes a file whose arrival was not announced; the
   * command waiting for a file of its kind is asked first, so the file carries the command that
   * produced it.
   */
  stored(link: DeviceLink, ident: string, stored: StoredMedia, meta: Readonly<Record<string, MessageValue>>, announce: { prefix: string; slot: FrameSlot } | null): void {
    const host = this.host;
    const prefix = announce?.prefix ?? 'media';
    const links = this.deps.links;
    const facts = storedFileFields(prefix, stored, links ? links.url(mediaId(host.id, ident, stored.name)) : undefined);
    const cmd = announce ? (this.deps.hooks.mediaCommand?.(host.id, ident, stored.kind) ?? null) : null;
    if (announce) {
      const slot = announce.slot;
      slot.remaining++;
      const cmdFields = cmd ? commandFieldsText(cmd) : undefined;
      this.messages.publish(ident, { ident, timestamp: slot.receivedAtMs / 1000, ...meta, ...facts }, slot.receivedAtMs, link.peer, slot.confirm, link, cmdFields);
    }
    const cmdEvent = cmd ? commandEventFields(cmd) : {};
    this.messages.mediaEvent(ident, 'stored', stored.storedAtMs / 1000, { conn: link.id, kind: stored.kind, ...meta, ...facts, ...cmdEvent });
    this.deps.hooks.mediaStored?.(host.id, ident, stored, meta);
  }
}
