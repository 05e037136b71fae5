import type { CommandDevicePort } from '../commands/ports.js';
import type { ChannelDirectory } from './runtime.js';

/**
 * The device port of the features that talk to devices (commands, relay) over the running server:
 * the channels' seams (`Channel.send` writes between frames, `Channel.encode` encodes in a worker).
 * Their MQTT port is the message sink itself (src/message/mqtt-port.ts).
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
