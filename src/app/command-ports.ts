import type { Channel } from '../channel/channel.js';
import { EdgeError } from '../errors.js';
import type { MessageSink } from '../message/message-sink.js';
import type { CommandDevicePort, CommandMqttPort } from '../commands/ports.js';

/**
 * The command service's ports over the running server: devices through the channels' seams
 * (`Channel.send` writes between frames, `Channel.encode` encodes in a worker), MQTT through the
 * message sink (the server's one client; lifecycle events and queue state are QoS 1).
 */
export function channelDevicePort(channels: readonly Channel[]): CommandDevicePort {
  const byId = new Map(channels.map((c) => [c.id, c]));
  const channel = (id: string): Channel => {
    const c = byId.get(id);
    if (!c) throw new EdgeError('EDGE_DEVICE_OFFLINE', `this server has no channel ${id}`);
    return c;
  };
  return {
    commandsOf: (id) => byId.get(id)?.proto.commands,
    async validate(id, ident, req) {
      await channel(id).encode(ident, req);
    },
    isOnline: (id, ident) => byId.get(id)?.isOnline(ident) ?? false,
    encode: (id, ident, req) => channel(id).encode(ident, req),
    async send(id, ident, bytes) {
      channel(id).send(ident, bytes);
    },
  };
}

export function sinkMqttPort(sink: MessageSink): CommandMqttPort {
  return {
    subscribe: (filter, onMessage) => sink.subscribe(filter, onMessage),
    publish: (topic, payload, opts) =>
      new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => (err ? reject(err) : resolve());
        if (opts.retain) {
          if (payload === '') sink.clear(topic, done);
          else sink.state(topic, payload, done);
        } else sink.event(topic, payload, done);
      }),
  };
}
