/**
 * `edge-channel command`: publishes one device command over MQTT and prints its lifecycle events
 * (README "Device commands") until it ends, so a device can be driven without writing MQTT code.
 * Argument parsing stays local and simple (`--name value` or `--name=value`).
 */
import { randomUUID } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { EdgeError } from '../errors.js';
import { makeTopics } from '../mqtt/topics.js';

export const COMMAND_HELP = `edge-channel command --broker URL --channel ID --ident IDENT --name NAME [options]

Publishes a command request to {root}/command/gw/channels/{channel}/devices/{ident} and prints
every lifecycle event of it (one JSON line each, as published by the server) until it ends.

Options:
  --broker URL        MQTT broker the server uses, e.g. mqtt://127.0.0.1:1883; required
  --channel ID        channel id; required
  --ident IDENT       device ident (Ruptela: IMEI); required
  --name NAME         command name (Ruptela: configuration, get_version, firmware, set_connection,
                      set_odometer, text, set_io); required
  --properties JSON   command properties, a JSON object (e.g. '{"id":175,"value":100}')
  --meta JSON         any JSON object; returned byte for byte on every event
  --ttl S             seconds the command may wait for its device (server default if absent)
  --timeout S         seconds to wait for the device's reply once sent (server default if absent)
  --id ID             command id (default: a random UUID)
  --wait S            seconds to wait for the command to end (default 60)
  --root ROOT         topic root (mqtt.topic_root, default edge)
  --username U, --password P   broker credentials
  --help              this text

Exit status: 0 processed with executed true; 1 processed with executed false, expired, canceled,
or not ended within --wait (the command stays queued); 2 rejected, or a usage/broker error.`;

const FLAGS = new Set(['broker', 'channel', 'ident', 'name', 'properties', 'meta', 'ttl', 'timeout', 'id', 'wait', 'root', 'username', 'password']);

function parse(argv: string[]): Map<string, string> | 'help' {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    const m = /^--([a-z]+)(?:=(.*))?$/s.exec(a);
    if (!m || !FLAGS.has(m[1]!)) throw new EdgeError('EDGE_CLI_USAGE', `unknown argument ${a} (see edge-channel command --help)`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new EdgeError('EDGE_CLI_USAGE', `--${m[1]} needs a value`);
    out.set(m[1]!, v);
  }
  return out;
}

function required(args: Map<string, string>, name: string): string {
  const v = args.get(name);
  if (v === undefined || v === '') throw new EdgeError('EDGE_CLI_USAGE', `command needs --${name} (see --help)`);
  return v;
}

/** The JSON text as given (so meta reaches the server byte for byte), after checking it is an object. */
function jsonObject(args: Map<string, string>, name: string): string | undefined {
  const v = args.get(name);
  if (v === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new EdgeError('EDGE_CLI_USAGE', `--${name} is not JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new EdgeError('EDGE_CLI_USAGE', `--${name} must be a JSON object`);
  return v;
}

function seconds(args: Map<string, string>, name: string): number | undefined {
  const v = args.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new EdgeError('EDGE_CLI_USAGE', `--${name} expects a positive number of seconds, got "${v}"`);
  return n;
}

/** The request payload: top-level fields by JSON.stringify, properties and meta as the raw text given. */
export function buildRequest(f: { id: string; name: string; properties?: string; ttl?: number; timeout?: number; meta?: string }): string {
  const parts = [`"id":${JSON.stringify(f.id)}`, `"name":${JSON.stringify(f.name)}`];
  if (f.properties !== undefined) parts.push(`"properties":${f.properties}`);
  if (f.ttl !== undefined) parts.push(`"ttl":${f.ttl}`);
  if (f.timeout !== undefined) parts.push(`"timeout":${f.timeout}`);
  if (f.meta !== undefined) parts.push(`"meta":${f.meta}`);
  return `{${parts.join(',')}}`;
}

export async function commandCommand(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    process.stdout.write(COMMAND_HELP + '\n');
    return 0;
  }
  const broker = required(args, 'broker');
  const channel = required(args, 'channel');
  const ident = required(args, 'ident');
  const name = required(args, 'name');
  if (!/^[A-Za-z0-9_.-]+$/.test(channel)) throw new EdgeError('EDGE_CLI_USAGE', `--channel expects an id of A-Z a-z 0-9 _ . -, got "${channel}"`);
  const properties = jsonObject(args, 'properties');
  const meta = jsonObject(args, 'meta');
  const ttl = seconds(args, 'ttl');
  const timeout = seconds(args, 'timeout');
  const waitS = seconds(args, 'wait') ?? 60;
  const id = args.get('id') ?? randomUUID();
  const topics = makeTopics(args.get('root') ?? 'edge');

  let client: MqttClient;
  try {
    client = await connectAsync(broker, {
      clientId: `edge-command-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(args.has('username') ? { username: args.get('username')! } : {}),
      ...(args.has('password') ? { password: args.get('password')! } : {}),
    });
  } catch (e) {
    throw new EdgeError('EDGE_MQTT_UNREACHABLE', `cannot connect to ${broker}: ${(e as Error).message}`);
  }
  try {
    const ended = new Promise<number>((resolve) => {
      client.on('message', (topic, payload) => {
        let ev: { id?: unknown; executed?: unknown };
        try {
          ev = JSON.parse(payload.toString('utf8')) as typeof ev;
        } catch {
          return;
        }
        if (ev.id !== id) return;
        process.stdout.write(payload.toString('utf8') + '\n');
        const status = topic.slice(topic.lastIndexOf('/') + 1);
        if (status === 'processed') resolve(ev.executed === true ? 0 : 1);
        else if (status === 'expired' || status === 'canceled') resolve(1);
        else if (status === 'rejected') resolve(2);
      });
      setTimeout(() => {
        process.stderr.write(`edge-channel: command ${id} did not end within ${waitS} s; it stays queued on the server (cancel: publish {"id":"${id}"} to ${topics.commandCancel(channel, ident)})\n`);
        resolve(1);
      }, waitS * 1000).unref();
    });
    // subscribe first: no event of this command can be missed
    await client.subscribeAsync(topics.commandEvent(channel, ident, '+'), { qos: 1 });
    await client.publishAsync(topics.commandRequest(channel, ident), buildRequest({ id, name, properties, ttl, timeout, meta }), { qos: 1 });
    return await ended;
  } finally {
    await client.endAsync();
  }
}
