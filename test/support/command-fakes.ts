/**
 * Fakes for the command service tests: a device port that encodes with the real Ruptela module and
 * records what it writes, an MQTT port that records publishes and injects messages, a clock that
 * tests move by hand, and a service wired to them with a store in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ruptela from '../../protocols/ruptela/index.js';
import { makeTopics, type Topics } from '../../src/mqtt/topics.js';
import type { CommandRequest, CommandSpec, EncodedCommand } from '../../src/protocol/types.js';
import { CommandService } from '../../src/commands/command-service.js';
import { COMMANDS_DEFAULTS, type CommandsConfig } from '../../src/config/commands-defaults.js';
import { FileCommandStore } from '../../src/commands/file-command-store.js';
import { topicMatches } from '../../src/mqtt/inbound-router.js';
import type { CommandDevicePort, CommandMqttPort } from '../../src/commands/ports.js';

export class FakeClock {
  constructor(public ms = 1_767_225_600_000) {}
  now = (): number => this.ms;
  advance(s: number): void {
    this.ms += s * 1000;
  }
}

export interface Written {
  channelId: string;
  ident: string;
  hex: string;
  /** The command the bytes encode (parsed back with the protocol's parseCommand). */
  name: string;
}

export class FakeDevice implements CommandDevicePort {
  readonly specs = new Map<string, readonly CommandSpec[]>([['1', ruptela.commands]]);
  readonly online = new Set<string>();
  readonly written: Written[] = [];
  /** Set to make send() fail as when the connection closes under the write (the device goes offline). */
  failSends = false;

  commandsOf(channelId: string): readonly CommandSpec[] | undefined {
    return this.specs.get(channelId);
  }
  async validate(_channelId: string, _ident: string, req: CommandRequest): Promise<void> {
    ruptela.encode(req, {});
  }
  isOnline(channelId: string, ident: string): boolean {
    return this.online.has(`${channelId}/${ident}`);
  }
  async encode(_channelId: string, _ident: string, req: CommandRequest): Promise<EncodedCommand> {
    return ruptela.encode(req, {});
  }
  async send(channelId: string, ident: string, bytes: Uint8Array): Promise<void> {
    if (this.failSends) this.online.delete(`${channelId}/${ident}`);
    if (!this.isOnline(channelId, ident)) throw new Error('device not connected');
    this.written.push({ channelId, ident, hex: Buffer.from(bytes).toString('hex'), name: ruptela.parseCommand(bytes).name });
  }
}

export interface Published {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Records every publish (a cleared state is a retained empty payload) and confirms it on the next microtask, as a broker's PUBACK comes later. */
export class FakeMqtt implements CommandMqttPort {
  readonly published: Published[] = [];
  private readonly subs: { filter: string; fn: (topic: string, payload: Buffer) => void }[] = [];
  async subscribe(filter: string, fn: (topic: string, payload: Buffer) => void): Promise<void> {
    this.subs.push({ filter, fn });
  }
  onPublish: ((p: Published) => void) | null = null;
  state(topic: string, payload: string, done?: (err?: Error) => void): void {
    this.record({ topic, payload, retain: true }, done);
  }
  clear(topic: string, done?: (err?: Error) => void): void {
    this.record({ topic, payload: '', retain: true }, done);
  }
  event(topic: string, payload: string, done?: (err?: Error) => void): void {
    this.record({ topic, payload, retain: false }, done);
  }
  private record(p: Published, done?: (err?: Error) => void): void {
    this.published.push(p);
    try {
      this.onPublish?.(p);
    } catch (e) {
      queueMicrotask(() => done?.(e instanceof Error ? e : new Error(String(e))));
      return;
    }
    queueMicrotask(() => done?.());
  }
  inject(topic: string, payload: string | Buffer): void {
    const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
    for (const s of this.subs) if (topicMatches(s.filter, topic)) s.fn(topic, b);
  }
}

export interface Event {
  status: string;
  payload: string;
  body: Record<string, unknown>;
}

export interface Rig {
  svc: CommandService;
  device: FakeDevice;
  mqtt: FakeMqtt;
  clock: FakeClock;
  store: FileCommandStore;
  topics: Topics;
  dir: string;
  config: CommandsConfig;
  /** Publishes a request (object or raw text) for channel 1 / IMEI and waits until it is handled. */
  request(body: unknown, ident?: string, channel?: string): Promise<void>;
  cancel(id: string, ident?: string): Promise<void>;
  /** Lifecycle events published so far (optionally of one command id), in order. */
  events(id?: string): Event[];
  /** Retained queue entries currently set (topic → payload), after replaying every retained publish. */
  retained(): Map<string, string>;
  settle(): Promise<void>;
  /** Closes the service and store; `keepDir` leaves the store directory for a reopen. */
  close(keepDir?: boolean): Promise<void>;
}

export const IMEI = '13226005504143';

export async function startRig(opts: { config?: Partial<CommandsConfig>; dir?: string; clock?: FakeClock; device?: FakeDevice; onCorrupt?: () => void; mqtt?: FakeMqtt } = {}): Promise<Rig> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'edge-commands-'));
  const clock = opts.clock ?? new FakeClock();
  const device = opts.device ?? new FakeDevice();
  const mqtt = opts.mqtt ?? new FakeMqtt();
  const config = { ...COMMANDS_DEFAULTS, dir, fsync: false, ...opts.config };
  const store = new FileCommandStore({ dir, fsync: config.fsync, now: clock.now, ...(opts.onCorrupt ? { onCorrupt: opts.onCorrupt } : {}) });
  const topics = makeTopics('edge');
  let n = 0;
  const svc = new CommandService({ device, mqtt, topics, store, config, now: clock.now, newId: () => `auto-${++n}` });
  await svc.start();
  await svc.settled();
  const rig: Rig = {
    svc,
    device,
    mqtt,
    clock,
    store,
    topics,
    dir,
    config,
    async request(body, ident = IMEI, channel = '1') {
      mqtt.inject(topics.commandRequest(channel, ident), typeof body === 'string' ? body : JSON.stringify(body));
      await svc.settled();
    },
    async cancel(id, ident = IMEI) {
      mqtt.inject(topics.commandCancel('1', ident), JSON.stringify({ id }));
      await svc.settled();
    },
    events(id) {
      return mqtt.published
        .filter((p) => p.topic.includes('/commands/'))
        .map((p) => ({ status: p.topic.slice(p.topic.lastIndexOf('/') + 1), payload: p.payload, body: JSON.parse(p.payload) as Record<string, unknown> }))
        .filter((e) => id === undefined || e.body.id === id);
    },
    retained() {
      const m = new Map<string, string>();
      for (const p of mqtt.published) {
        if (!p.retain) continue;
        if (p.payload === '') m.delete(p.topic);
        else m.set(p.topic, p.payload);
      }
      return m;
    },
    settle: () => svc.settled(),
    async close(keepDir = false) {
      await svc.stop();
      await store.close();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
