import type { MessageSink } from '../message/message-sink.js';
import type { CommandDevicePort, CommandMqttPort } from '../commands/ports.js';
import type { ChannelDirectory } from './runtime.js';

/**
 * The device and MQTT ports of the features that talk to devices (commands, relay) over the running
 * server: devices through the channels' seams (`Channel.send` writes between frames, `Channel.encode`
 * encodes in a worker), MQTT through the message sink (the server's one client; lifecycle events
 * and queue state are QoS 1).
 */
export function channelDevicePort(channels: ChannelDirectory): CommandDevicePort {
  return {
    commandsOf: (id) => channels.get(id)?.proto.commands,
    async validate(id, ident, req) {
      await channels.require(id).encode(ident, req);
    },
    isOnline: (id, ident) => channels.get(id)?.isOnline(ident) ?? false,
    encode: (id, ident, req) => channels.require(id).encode(ident, req),
    async send(id, ident, bytes) {
      channels.require(id).send(ident, bytes);
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
