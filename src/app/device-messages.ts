import { EnvelopeWriter } from '../message/envelope.js';
import { channelIdValue } from '../message/naming.js';
import type { MessageValue } from '../protocol/types.js';
import type { Runtime } from './runtime.js';

/**
 * Messages and media log events that features (tacho files, recorded clips) publish for a device
 * outside any frame: the envelope the workers add to decoded messages (one writer per channel), the
 * sink's reliable path, and the media event's shape, in one place.
 */
export class DeviceMessages {
  private readonly envelopes = new Map<string, EnvelopeWriter>();

  constructor(private readonly rt: Runtime) {}

  /**
   * A device message (QoS 1, through the spool like any message); `done` is its confirmation. A
   * numeric `timestamp` in `msg` is the device time (enrichers follow it), else now. `fields`: a JSON
   * object text added as is (a command's raw `meta` stays byte for byte).
   */
  publish(channelId: string, ident: string, msg: Readonly<Record<string, MessageValue>>, done: (err?: Error | null) => void, fields?: string): void {
    let env = this.envelopes.get(channelId);
    if (!env) this.envelopes.set(channelId, (env = new EnvelopeWriter(channelId, this.rt.channels.get(channelId)?.proto.id ?? '')));
    const now = Date.now();
    const deviceTime = typeof msg.timestamp === 'number' ? msg.timestamp : undefined;
    const payload = env.payload({ ident, ...msg, timestamp: deviceTime ?? now / 1000 }, ident, env.frameSuffix(now, ''));
    this.rt.sink.message(channelId, ident, payload, done, 0, 0, fields, deviceTime);
  }

  /** A `media` log event of the device (`{root}/log/gw/channels/{channel}/devices/{ident}/media`). */
  mediaEvent(channelId: string, ident: string, event: string, fields: Record<string, unknown>, timestampS = Date.now() / 1000): void {
    const t = this.rt.topics;
    this.rt.sink.log(t.mediaEvent(channelId, ident), JSON.stringify({ event, timestamp: timestampS, 'channel.id': channelIdValue(channelId), ident, ...fields }));
  }
}
