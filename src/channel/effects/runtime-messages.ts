import type { StoredMedia } from '../../media/media-store.js';
import { EnvelopeWriter, withFields } from '../../message/envelope.js';
import type { MessageSink } from '../../message/message-sink.js';
import { channelIdValue } from '../../message/naming.js';
import type { Message, MessageValue } from '../../protocol/types.js';
import type { DeviceLink } from '../device-link.js';
import type { PipelineHost } from '../pipeline-types.js';

/** The facts of a stored file under a message-name prefix: `media.tacho` → `media.tacho.file.id`, ...; with its signed download link when there is one. */
export function storedFileFields(prefix: string, stored: StoredMedia, url?: string): Record<string, MessageValue> {
  const f: Record<string, MessageValue> = {
    [`${prefix}.file.id`]: stored.key,
    [`${prefix}.file.name`]: stored.name,
    [`${prefix}.size`]: stored.bytes,
    [`${prefix}.sha256`]: stored.sha256,
    [`${prefix}.path`]: stored.path,
  };
  if (url !== undefined) f[`${prefix}.file.url`] = url;
  return f;
}

/** The command a file answers, as message fields (a JSON object text: its raw `meta` byte for byte). */
export function commandFieldsText(cmd: { id: string; meta: string | null }): string {
  return `{"command.id":${JSON.stringify(cmd.id)},"command.meta":${cmd.meta ?? 'null'}}`;
}

/** The same for a log event (an object: the meta parsed). */
export function commandEventFields(cmd: { id: string; meta: string | null }): Record<string, unknown> {
  return { 'command.id': cmd.id, 'command.meta': cmd.meta === null ? null : (JSON.parse(cmd.meta) as unknown) };
}

/**
 * Messages the runtime itself builds on the main thread (a stored file's announcement, an alarm's
 * linking message), with the same envelope the workers add to decoded ones, and the media log events
 * that go with them. Rare (once per file), so plain objects and JSON are fine here.
 */
export class RuntimeMessages {
  private envelope: EnvelopeWriter | null = null;

  constructor(
    private readonly host: PipelineHost,
    private readonly sink: MessageSink,
  ) {}

  /**
   * Publishes `msg` for the device (QoS 1, through the spool like any message); `done` is its
   * confirmation. `fields`: a JSON object text added as is (raw command `meta` stays byte for byte).
   */
  publish(ident: string, msg: Message, receivedAtMs: number, peer: string, done: (err?: Error | null) => void, link: DeviceLink | null, fields?: string): void {
    const host = this.host;
    this.envelope ??= new EnvelopeWriter(host.id, host.proto.id);
    const base = this.envelope.payload(msg, ident, this.envelope.frameSuffix(receivedAtMs, peer));
    const payload = fields ? withFields(base, fields) : base;
    host.stats.counters.messages++;
    if (link) link.messages++;
    this.sink.message(host.id, ident, payload, done, link?.num ?? 0, link?.attained ?? 0);
  }

  /** A `media` log event of the device (`{root}/log/gw/channels/{channel}/devices/{ident}/media`). */
  mediaEvent(ident: string, event: string, timestampS: number, fields: Record<string, unknown>): void {
    const sink = this.sink;
    sink.log(sink.topics.mediaEvent(this.host.id, ident), JSON.stringify({ event, timestamp: timestampS, 'channel.id': channelIdValue(this.host.id), ident, ...fields }));
  }
}
