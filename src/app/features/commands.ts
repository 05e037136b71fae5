import { CommandService } from '../../commands/command-service.js';
import type { CommandStore } from '../../commands/command-store.js';
import { FileCommandStore } from '../../commands/file-command-store.js';
import { RedisCommandStore } from '../../cluster/redis-command-store.js';
import type { StoredMedia } from '../../media/media-store.js';
import type { MessageValue } from '../../protocol/types.js';
import { channelDevicePort } from '../command-ports.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface CommandsFeature extends Feature {
  readonly service: CommandService;
}

/** What a stored file says as the result of the command that asked for it (`processed` event's `result`). */
export function storedFileResult(stored: StoredMedia, meta: Readonly<Record<string, MessageValue>>): Record<string, MessageValue> {
  return { 'file.id': stored.key, 'file.kind': stored.kind, 'file.name': stored.name, 'file.size': stored.bytes, 'file.sha256': stored.sha256, 'file.path': stored.path, ...meta };
}

/**
 * Device commands (README "Device commands"): requests over MQTT, a durable queue per device (a
 * file store, or Redis shared by the instances when redis_url is set), delivery once the device may
 * receive commands, replies matched. A stored file completes the command waiting for a file of its
 * kind (reply key `media:<kind>`, e.g. request_tachograph_file); a failed upload ends it.
 */
export function commandsFeature(rt: Runtime): CommandsFeature {
  const { config, log } = rt;
  const store: CommandStore = config.redis_url
    ? new RedisCommandStore({ url: config.redis_url, prefix: config.redis_prefix, log: log.child({ component: 'commands' }) })
    : new FileCommandStore({
        dir: config.commands.dir,
        fsync: config.commands.fsync,
        instanceId: config.instance_id,
        onCorrupt: (info) => log.warn({ code: info.code, ranges: info.ranges }, `${info.code}: ${info.reason}`),
      });
  const service = new CommandService({ device: channelDevicePort(rt.channels), mqtt: rt.sink, topics: rt.topics, store, config: config.commands, log: log.child({ component: 'commands' }) });
  let tick: NodeJS.Timeout | null = null;
  return {
    name: 'commands',
    service,
    hooks: {
      // JT/T 808: only once the authentication was answered (ProtocolModule.commandsReady)
      commandsReady: (ch, ident) => service.deviceOnline(ch, ident),
      offline: (ch, ident) => service.deviceOffline(ch, ident),
      commandReply: (ch, ident, reply) => service.reply(ch, ident, reply),
      mediaStored: (ch, ident, stored, meta) => void service.complete(ch, ident, `media:${stored.kind}`, { executed: true, response: stored.name, result: storedFileResult(stored, meta) }),
      mediaCommand: (ch, ident, kind) => service.waiting(ch, ident, `media:${kind}`),
      mediaFailed: (ch, ident, key, err) => void service.complete(ch, ident, (k) => k.startsWith('media:'), { executed: false, code: err.code, reason: `the file "${key}" could not be stored: ${err.code}: ${err.message}` }),
    },
    state: { name: 'commands', republish: () => service.republishQueue() },
    async start() {
      // queued commands load before the channels open; the subscription completes once connected
      await service.start();
      // TTL expiry and reply timeouts (the service has no timers of its own)
      tick = setInterval(() => service.tick(), 1000);
      tick.unref();
    },
    async stop(timeoutMs) {
      if (tick) clearInterval(tick);
      await service.stop(timeoutMs);
      await store.close();
    },
  };
}
