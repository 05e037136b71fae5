import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { EventHub, type LiveEvent, type LiveSource } from '../http/event-hub.js';
import type { ConsoleSources } from '../http/console-api-routes.js';
import { channelIdValue } from '../message/naming.js';
import type { Runtime } from './runtime.js';
import { presenceOf, type HoldersPort } from './device-presence.js';
import { fromEveryProcess, mergeDeviceLists, type OwnAnswers } from './box-view.js';

/** Bytes read from the end of a capture file for its last rows: enough for ~100 rows of a 1 KiB frame. */
const CAPTURE_TAIL_BYTES = 256 * 1024;

/**
 * What the web console's routes read and do, wired to the runtime (README "Web console"):
 *   - the live feed subscribes to the broker (`Topics.liveFilters`: messages and log events) through
 *     the server's own client, so the embedded and an external broker work alike and the console sees
 *     what any MQTT client sees; QoS 0, subscribed on the first console and unsubscribed after the
 *     last (nothing is delivered to the server while nobody looks);
 *   - commands and asset requests are published on their request topics, as an operator's client
 *     would, so they take the one path every request takes (validation, queue, events).
 */
export function consoleSources(rt: Runtime, own: OwnAnswers, holders: HoldersPort | null = null): ConsoleSources {
  const { sink, topics } = rt;
  let emit: ((e: LiveEvent) => void) | null = null;
  const onMessage = (topic: string, payload: Buffer): void => {
    const t = topics.parseLiveTopic(topic);
    if (t && emit) emit({ ...t, payload: payload.toString() });
  };
  const source: LiveSource = {
    async start(e) {
      emit = e;
      await Promise.all(topics.liveFilters().map((f) => sink.subscribe(f, onMessage, 0)));
    },
    async stop() {
      emit = null;
      await Promise.all(topics.liveFilters().map((f) => sink.unsubscribe(f, onMessage)));
    },
  };
  return {
    hub: new EventHub(source),
    async devices(ch, limit) {
      const c = rt.channels.get(ch);
      if (!c) return null;
      // of several processes, every process's devices (processes/cluster-query.ts), else this one's
      const { values, processes } = await fromEveryProcess(rt, own, 'devices', { channel: c.id, limit });
      const list = mergeDeviceLists(values, limit);
      const rows = list.rows;
      // a device is connected here, at another process or instance, or nowhere (device-presence.ts)
      const presence = await presenceOf({ instanceId: rt.config.instance_id, isLocal: (i) => c.isOnline(i), holders }, c.id, rows.map((r) => r.ident));
      // parsed per request, for the page's rows only: the hot path keeps the text it had anyway
      const items = rows.map((r, k) => {
        const m = r.last ? (JSON.parse(r.last) as Record<string, unknown>) : null;
        const lat = m?.['position.latitude'];
        const lon = m?.['position.longitude'];
        return {
          ident: r.ident,
          ...presence[k]!,
          latest_message_at: m?.['server.timestamp'] ?? null,
          position: typeof lat === 'number' && typeof lon === 'number' ? { latitude: lat, longitude: lon, speed: m?.['position.speed'] ?? null, direction: m?.['position.direction'] ?? null } : null,
          latest_message: m,
        };
      });
      return { 'channel.id': channelIdValue(c.id), total: list.idents.length, items, recent_closes: c.recentCloses.slice(-50).reverse(), ...(processes ? { processes } : {}) };
    },
    commandList(ch) {
      const c = rt.channels.get(ch);
      return c ? { protocol: c.proto.id, commands: c.proto.commands } : null;
    },
    sendCommand(ch, ident, request) {
      const c = rt.channels.get(ch);
      if (!c) return false;
      sink.event(topics.commandRequest(c.id, ident), JSON.stringify(request));
      return true;
    },
    cancelCommand(ch, ident, id) {
      const c = rt.channels.get(ch);
      if (!c) return false;
      sink.event(topics.commandCancel(c.id, ident), JSON.stringify({ id }));
      return true;
    },
    assetRequest(request) {
      sink.event(topics.assetManagement(), JSON.stringify(request));
    },
    async capture(ch, ident, limit) {
      const c = rt.channels.get(ch);
      if (!c) return null;
      const cap = c.cfg.capture;
      if (!cap.enabled) return { enabled: false, rows: [] };
      return { enabled: true, rows: await tail(join(cap.dir, `channel-${c.id}.tsv`), ident, limit) };
    },
  };
}

/** The last `limit` rows of a capture file for one device (README "Traffic capture": time, conn, peer, part, ident, direction, hex). */
async function tail(file: string, ident: string, limit: number): Promise<{ time: string; direction: string; hex: string }[]> {
  let text: string;
  try {
    const f = await open(file, 'r');
    try {
      const { size } = await f.stat();
      const start = Math.max(0, size - CAPTURE_TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await f.read(buf, 0, buf.length, start);
      text = buf.toString();
    } finally {
      await f.close();
    }
  } catch {
    return []; // no file yet: nothing captured
  }
  const rows: { time: string; direction: string; hex: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length === 7 && f[4] === ident) rows.push({ time: f[0]!, direction: f[5]!, hex: f[6]! });
  }
  return rows.slice(-limit);
}
