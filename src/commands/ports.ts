/**
 * The seams between the command service (this folder) and the runtime. The runtime implements
 * `CommandDevicePort` and `CommandMqttPort`; the command service implements `CommandEvents`.
 */
import type { MqttPort } from '../message/mqtt-port.js';
import type { CommandReply, CommandRequest, CommandSpec, EncodedCommand } from '../protocol/types.js';

/** What the runtime offers the command service. */
export interface CommandDevicePort {
  /** The protocol's declared commands for a channel; undefined when the server has no such channel. */
  commandsOf(channelId: string): readonly CommandSpec[] | undefined;
  /**
   * Checks a request the way the channel's encoder would, with the device's session when it is
   * connected and `{ ident }` otherwise (the runtime encodes in a worker and drops the bytes; a
   * protocol whose frames carry the device id, like JT/T 808, needs the ident). Rejects with
   * EdgeError EDGE_COMMAND_UNKNOWN / EDGE_COMMAND_INVALID. Why it exists: a property schema cannot
   * say everything an encoder checks (Ruptela `set_connection.protocol` must be "TCP" or "UDP"),
   * and such a request must be rejected at once, not queued and then fail at delivery.
   */
  validate(channelId: string, ident: string, req: CommandRequest): Promise<void>;
  /** True while the device is connected and identified on that channel. */
  isOnline(channelId: string, ident: string): boolean;
  /** Encodes with the device's session (throws EdgeError EDGE_COMMAND_UNKNOWN / EDGE_COMMAND_INVALID). */
  encode(channelId: string, ident: string, req: CommandRequest): Promise<EncodedCommand>;
  /** Writes bytes to the device between its frames, never inside an ordered ACK sequence. Resolves once
   *  handed to the socket; rejects when the device is not connected (or its connection closes first). */
  send(channelId: string, ident: string, bytes: Uint8Array): Promise<void>;
}

/** Inbound and outbound MQTT: the port every feature uses (src/message/mqtt-port.ts). */
export type CommandMqttPort = MqttPort;

/** What the runtime calls on the command service. */
export interface CommandEvents {
  /** After the device's identification frame was handled (queued commands go out now). */
  deviceOnline(channelId: string, ident: string): void;
  deviceOffline(channelId: string, ident: string): void;
  /** A decoded device reply; returns the command it closed, so the runtime can add `command.id` and
   *  `command.name` to that frame's messages; null when no command matches. */
  reply(channelId: string, ident: string, reply: CommandReply): { id: string; name: string } | null;
}
