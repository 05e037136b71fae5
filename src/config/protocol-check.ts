import { EdgeError } from '../errors.js';
import { checkOptions } from '../protocol/options.js';
import type { ProtocolModule } from '../protocol/types.js';
import type { EdgeConfig } from './schema.js';

/**
 * The part of validation that needs the protocol modules (loaded asynchronously, so it runs after
 * the synchronous schema check and before anything starts): the protocol exists, supports the
 * transports the channel listens on, has the parts the channel gives ports to, and the channel's
 * `options` match what it declares. Every config error is found here or earlier, before the MQTT
 * connection and before any port is bound, so it exits 2 like the schema's (README "Command line").
 */
export function checkChannelProtocols(config: EdgeConfig, protocols: ReadonlyMap<string, ProtocolModule>): ProtocolModule[] {
  return config.channels.map((c, i) => {
    const p = `channels[${i}]`;
    const proto = protocols.get(c.protocol);
    if (!proto) throw new EdgeError('EDGE_PROTOCOL_UNKNOWN', `${p}.protocol: unknown protocol "${c.protocol}"; registered: ${[...protocols.keys()].join(', ') || 'none'}`);
    if (c.tcp_port !== null && !proto.transports.includes('tcp')) throw new EdgeError('EDGE_CONFIG_INVALID', `${p}.tcp_port: protocol ${proto.id} has no TCP transport (use udp_port)`);
    if (c.udp_port !== null && !proto.transports.includes('udp')) throw new EdgeError('EDGE_CONFIG_INVALID', `${p}.udp_port: protocol ${proto.id} has no UDP transport (use tcp_port)`);
    for (const part of Object.keys(c.parts ?? {})) {
      if (!proto.parts?.some((x) => x.id === part)) {
        const key = part === 'attachments' && c.attachment_tcp_port !== undefined ? 'attachment_tcp_port' : `parts.${part}`;
        throw new EdgeError('EDGE_CONFIG_INVALID', `${p}.${key} (channel id ${c.id}): protocol ${proto.id} has no part "${part}" (it has: ${(proto.parts ?? []).map((x) => x.id).join(', ') || 'none'})`);
      }
    }
    checkOptions(proto.options, c.options, `${p}.options`, proto.id);
    return proto;
  });
}
