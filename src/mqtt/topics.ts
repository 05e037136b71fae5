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
 *   {root}/command/gw/channels/{channel}/devices/{ident}                 command requests (clients publish, src/commands/)
 *   {root}/command/gw/channels/{channel}/devices/{ident}/cancel          command cancels
 *   {root}/log/gw/channels/{channel}/devices/{ident}/commands/{status}   command lifecycle events
 *   {root}/state/gw/channels/{channel}/devices/{ident}/commands-queue/{id}  retained pending command
 *   {root}/log/gw/channels/{channel}/devices/{ident}/media               a device's file was stored (media store)
 *   {root}/relay/gw/channels/{channel}/devices/{ident}/{service}/request a device's question for an outside service (card bridge)
 *   {root}/relay/gw/channels/{channel}/devices/{ident}/{service}/answer  the service's answer (the service publishes)
 *   {root}/log/gw/channels/{channel}/devices/{ident}/relay               a relay request the server refused (company card access)
 *   {root}/state/gw/instances/{instance}/online                          retained true, or false (last will / clean stop)
 *   {root}/state/gw/channels/{channel}/instance                          retained id of the instance serving the channel
 *   {root}/command/gw/assets                                             asset management requests (clients publish, src/assets/)
 *   {root}/log/gw/assets/requests/{result}                               applied | rejected (with a reason)
 *   {root}/state/gw/assets/{id}/active                                   retained active interval of an asset (empty: none)
 *   {root}/log/gw/assets/{id}/intervals/{event}                          created | updated | closed
 */
import { topicLevel } from '../util/topic-level.js';

export { topicLevel };

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
  /** Log event of one running instance (e.g. `resync`: what a resynchronisation republished). */
  instanceLog(instance: string, event: string): string;
  /** Where a client asks every instance to republish the retained state it owns (README "Retained state"). */
  resyncRequest(): string;
  /** True for `{root}/message/...` topics: the only ones the spool takes. */
  isMessage(topic: string): boolean;
  /** Where clients publish a command request for a device, and its cancel topic. */
  commandRequest(channel: string, ident: string): string;
  commandCancel(channel: string, ident: string): string;
  /** Subscription filters covering every channel's and device's command requests and cancels. */
  commandRequestFilter(): string;
  commandCancelFilter(): string;
  /** Channel, ident and kind of a command request/cancel topic; null for any other topic. */
  parseCommandTopic(topic: string): CommandTopic | null;
  /** Lifecycle event of a device command: queued | sent | processed | expired | canceled | rejected. */
  commandEvent(channel: string, ident: string, status: string): string;
  /** Log event of a device's file stored by the media store. */
  mediaEvent(channel: string, ident: string): string;
  /** Retained pending entry of one command (an empty retained payload clears it). */
  commandQueueState(channel: string, ident: string, id: string): string;
  /** Where clients publish asset management requests, and where their results go (applied | rejected). */
  assetManagement(): string;
  assetRequestLog(result: string): string;
  /** Retained active interval of an asset (an empty retained payload when none is active). */
  assetActive(id: string): string;
  /** Interval lifecycle event of an asset: created | updated | closed. */
  assetIntervalEvent(id: string, event: string): string;
  /** Where a device's `relay` request for an outside service (e.g. `tacho-card`) is published. */
  relayRequest(channel: string, ident: string, service: string): string;
  /** Log event of a device's relay request that was refused (company card access). */
  relayEvent(channel: string, ident: string): string;
  /** Where the service publishes its answer to a device's request. */
  relayAnswer(channel: string, ident: string, service: string): string;
  /** Subscription filters for every device's requests to, and answers from, one service. */
  relayRequestFilter(service: string): string;
  relayAnswerFilter(service: string): string;
  /** Channel, ident, service and kind of a relay topic; null for any other topic. */
  parseRelayTopic(topic: string): RelayTopic | null;
  /** Channel, ident and state name of a device state topic (`deviceState`); null for any other topic. */
  parseDeviceStateTopic(topic: string): DeviceStateTopic | null;
  /** What the web console's live feed subscribes to while a console is open: every message and every log event. */
  liveFilters(): string[];
  /** A topic of `liveFilters` as a console event; null for any other topic. */
  parseLiveTopic(topic: string): LiveTopic | null;
}

/** A message or log topic as the web console shows it (`sub`: the command status, the connection event, the channel log's name). */
export interface LiveTopic {
  type: 'message' | 'connection' | 'command' | 'media' | 'relay' | 'channel' | 'asset' | 'instance';
  channel: string | null;
  ident: string | null;
  sub: string | null;
}

export interface DeviceStateTopic {
  channel: string;
  ident: string;
  /** The state's name: `connected`, `connections_count`, ... (one level; queue entries are not device state). */
  name: string;
}

export interface RelayTopic {
  channel: string;
  ident: string;
  service: string;
  kind: 'request' | 'answer';
}

export interface CommandTopic {
  channel: string;
  ident: string;
  kind: 'request' | 'cancel';
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
    instanceLog: (i, e) => `${root}/log/gw/instances/${topicLevel(i)}/${e}`,
    resyncRequest: () => `${root}/command/gw/resync`,
    isMessage: (t) => t.startsWith(`${root}/message/`),
    commandRequest: (c, ident) => `${root}/command/gw/channels/${c}/devices/${topicLevel(ident)}`,
    commandCancel: (c, ident) => `${root}/command/gw/channels/${c}/devices/${topicLevel(ident)}/cancel`,
    commandRequestFilter: () => `${root}/command/gw/channels/+/devices/+`,
    commandCancelFilter: () => `${root}/command/gw/channels/+/devices/+/cancel`,
    parseCommandTopic: (t) => {
      const prefix = `${root}/command/gw/channels/`;
      if (!t.startsWith(prefix)) return null;
      const levels = t.slice(prefix.length).split('/');
      if (levels[1] !== 'devices' || !levels[0] || !levels[2]) return null;
      if (levels.length === 3) return { channel: levels[0], ident: levels[2], kind: 'request' };
      if (levels.length === 4 && levels[3] === 'cancel') return { channel: levels[0], ident: levels[2], kind: 'cancel' };
      return null;
    },
    commandEvent: (c, ident, status) => `${root}/log/gw/channels/${c}/devices/${topicLevel(ident)}/commands/${status}`,
    mediaEvent: (c, ident) => `${root}/log/gw/channels/${c}/devices/${topicLevel(ident)}/media`,
    commandQueueState: (c, ident, id) => `${root}/state/gw/channels/${c}/devices/${topicLevel(ident)}/commands-queue/${topicLevel(id)}`,
    relayRequest: (c, ident, service) => `${root}/relay/gw/channels/${c}/devices/${topicLevel(ident)}/${topicLevel(service)}/request`,
    relayEvent: (c, ident) => `${root}/log/gw/channels/${c}/devices/${topicLevel(ident)}/relay`,
    relayAnswer: (c, ident, service) => `${root}/relay/gw/channels/${c}/devices/${topicLevel(ident)}/${topicLevel(service)}/answer`,
    relayRequestFilter: (service) => `${root}/relay/gw/channels/+/devices/+/${topicLevel(service)}/request`,
    relayAnswerFilter: (service) => `${root}/relay/gw/channels/+/devices/+/${topicLevel(service)}/answer`,
    parseRelayTopic: (t) => {
      const prefix = `${root}/relay/gw/channels/`;
      if (!t.startsWith(prefix)) return null;
      const l = t.slice(prefix.length).split('/');
      if (l.length !== 5 || l[1] !== 'devices' || (l[4] !== 'answer' && l[4] !== 'request') || !l[0] || !l[2] || !l[3]) return null;
      return { channel: l[0], ident: l[2], service: l[3], kind: l[4] };
    },
    parseDeviceStateTopic: (t) => {
      const prefix = `${root}/state/gw/channels/`;
      if (!t.startsWith(prefix)) return null;
      const l = t.slice(prefix.length).split('/');
      if (l.length !== 4 || l[1] !== 'devices' || !l[0] || !l[2] || !l[3]) return null;
      return { channel: l[0], ident: l[2], name: l[3] };
    },
    liveFilters: () => [`${root}/message/gw/channels/+/+`, `${root}/log/gw/#`],
    parseLiveTopic: (t) => parseLive(root, t),
    assetManagement: () => `${root}/command/gw/assets`,
    assetRequestLog: (r) => `${root}/log/gw/assets/requests/${r}`,
    assetActive: (id) => `${root}/state/gw/assets/${topicLevel(id)}/active`,
    assetIntervalEvent: (id, e) => `${root}/log/gw/assets/${topicLevel(id)}/intervals/${e}`,
  };
}

function parseLive(root: string, t: string): LiveTopic | null {
  const msg = `${root}/message/gw/channels/`;
  if (t.startsWith(msg)) {
    const l = t.slice(msg.length).split('/');
    return l.length === 2 ? { type: 'message', channel: l[0]!, ident: l[1]!, sub: null } : null;
  }
  const log = `${root}/log/gw/`;
  if (!t.startsWith(log)) return null;
  const l = t.slice(log.length).split('/');
  if (l[0] === 'assets') return { type: 'asset', channel: null, ident: null, sub: l.slice(1).join('/') };
  if (l[0] === 'instances') return { type: 'instance', channel: null, ident: null, sub: l[2] ?? null };
  if (l[0] !== 'channels' || !l[1]) return null;
  const channel = l[1];
  // the ident of a connection event is in its payload, not its topic
  if (l[2] === 'connections') return { type: 'connection', channel, ident: null, sub: l[4] ?? l[3] ?? null };
  if (l[2] === 'devices' && l[3]) {
    if (l[4] === 'commands') return { type: 'command', channel, ident: l[3], sub: l[5] ?? null };
    if (l[4] === 'media' || l[4] === 'relay') return { type: l[4], channel, ident: l[3], sub: null };
    return null;
  }
  return { type: 'channel', channel, ident: null, sub: l[2] ?? null };
}
