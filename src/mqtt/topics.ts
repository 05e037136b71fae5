/**
 * The only place that knows the topic grammar (documented in README.md "MQTT topics").
 *
 *   {root}/message/gw/channels/{channel}/{ident}                         parsed messages (QoS 1, not retained)
 *   {root}/state/gw/channels/{channel}/connections_count                 retained counter
 *   {root}/state/gw/channels/{channel}/devices/{ident}/connected         retained true/false
 *   {root}/state/gw/channels/{channel}/{property}                        other retained channel state (e.g. drops)
 *   {root}/log/gw/channels/{channel}/connections/{conn}/{event}          accepted | identified | closed | error
 *   {root}/log/gw/channels/{channel}/{event}                             channel-level log (drops, decode_errors)
 *   {root}/state/gw/reliability/{property}                               retained reliability state (breaker, spool)
 *   {root}/state/gw/instances/{instance}/online                          retained true, or false (last will / clean stop)
 *   {root}/state/gw/channels/{channel}/instance                          retained id of the instance serving the channel
 */
export interface Topics {
  message(channel: string, ident: string): string;
  channelState(channel: string, property: string): string;
  deviceState(channel: string, ident: string, property: string): string;
  connectionLog(channel: string, conn: string, event: string): string;
  channelLog(channel: string, event: string): string;
  /** Retained state of the reliable publisher: `breaker` and `spool` (src/reliability/). */
  reliabilityState(property: string): string;
  /** Subscription filter for one property of every device of a channel (`.../devices/+/{property}`). */
  deviceStateFilter(channel: string, property: string): string;
  /** Retained state of one running instance (config instance_id): `online`. */
  instanceState(instance: string, property: string): string;
  /** True for `{root}/message/...` topics: the only ones the spool takes. */
  isMessage(topic: string): boolean;
}

/**
 * An ident becomes a topic level: MQTT wildcards, separators and non-printable characters are
 * replaced with "_" so a hostile or buggy device cannot address other topics.
 */
export function topicLevel(s: string): string {
  return /^[\x21-\x7e]+$/.test(s) && !/[#+/]/.test(s) ? s : s.replace(/[#+/]|[^\x21-\x7e]/g, '_') || '_';
}

export function makeTopics(root: string): Topics {
  return {
    message: (c, ident) => `${root}/message/gw/channels/${c}/${topicLevel(ident)}`,
    channelState: (c, p) => `${root}/state/gw/channels/${c}/${p}`,
    deviceState: (c, ident, p) => `${root}/state/gw/channels/${c}/devices/${topicLevel(ident)}/${p}`,
    connectionLog: (c, conn, e) => `${root}/log/gw/channels/${c}/connections/${conn}/${e}`,
    channelLog: (c, e) => `${root}/log/gw/channels/${c}/${e}`,
    reliabilityState: (p) => `${root}/state/gw/reliability/${p}`,
    deviceStateFilter: (c, p) => `${root}/state/gw/channels/${c}/devices/+/${p}`,
    instanceState: (i, p) => `${root}/state/gw/instances/${topicLevel(i)}/${p}`,
    isMessage: (t) => t.startsWith(`${root}/message/`),
  };
}
