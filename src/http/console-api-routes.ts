import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EdgeError } from '../errors.js';
import type { CommandSpec } from '../protocol/types.js';
import { badRequest } from './errors.js';
import type { EventHub, LiveType } from './event-hub.js';
import type { Scope } from './tokens.js';

/** What the console's routes read and do; each one the runtime's own path (README "Web console"). */
export interface ConsoleSources {
  hub: EventHub;
  /** A channel's devices (online now, or with a message since start), newest message first; null: no such channel. */
  devices(channel: string, limit: number): Promise<{ total: number; items: Record<string, unknown>[]; recent_closes: readonly Record<string, unknown>[] } | null>;
  /** The channel's protocol and its commands with their property schemas; null: no such channel. */
  commandList(channel: string): { protocol: string; commands: readonly CommandSpec[] } | null;
  /** Publishes a command request on the command topic, as an operator's MQTT client would; false: no such channel. */
  sendCommand(channel: string, ident: string, request: Record<string, unknown>): boolean;
  /** Publishes a cancel on the command's cancel topic; false: no such channel. */
  cancelCommand(channel: string, ident: string, id: string): boolean;
  /** Publishes an asset management request (README "Assets"); the answer is a `asset` event with its `request_id`. */
  assetRequest(request: Record<string, unknown>): void;
  /** The last rows of the channel's traffic capture for a device; `enabled` false when capture is off; null: no such channel. */
  capture(channel: string, ident: string, limit: number): Promise<{ enabled: boolean; rows: { time: string; direction: string; hex: string }[] } | null>;
}

const TYPES: ReadonlySet<string> = new Set<LiveType>(['message', 'connection', 'command', 'media', 'relay', 'channel', 'asset', 'instance']);
const LEVEL = /^[\x21-\x7e]{1,64}$/;
const COMMAND_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The routes behind the web console that the read API did not have: the live feed (SSE), a
 * channel's device list and command list, sending and cancelling commands, asset management, and
 * the tail of a traffic capture. Changes need the full scope.
 */
export function consoleApiRoutes(app: FastifyInstance, s: ConsoleSources, scopeOf: (req: FastifyRequest) => Scope | null): void {
  const full = (req: FastifyRequest) => {
    if (scopeOf(req) !== 'full') throw new EdgeError('EDGE_HTTP_FORBIDDEN', 'this token has the read scope; sending commands and changing assets needs a full token');
  };
  const device = (req: FastifyRequest) => {
    const p = req.params as { channel: string; ident: string };
    if (!LEVEL.test(p.ident) || /[#+/]/.test(p.ident)) throw badRequest('ident: expected 1 to 64 printable characters without / # +');
    return p;
  };
  const noChannel = (ch: string) => new EdgeError('EDGE_HTTP_NOT_FOUND', `no channel ${ch.slice(0, 64)} on this server`);

  app.get('/api/v1/events', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const types = q.types ? q.types.split(',') : null;
    const bad = types?.find((t) => !TYPES.has(t));
    if (bad !== undefined) throw badRequest(`types: unknown type "${bad.slice(0, 40)}" (known: ${[...TYPES].join(', ')})`);
    const raw = reply.raw;
    const sink = {
      write: (chunk: string) => void raw.write(chunk),
      get pending() {
        return raw.writableLength;
      },
    };
    if (s.hub.size >= 64) throw new EdgeError('EDGE_HTTP_BAD_REQUEST', 'too many live feeds open on this server (64); close a console');
    // the stream's head first: the hub's timer may write the first batch while the source starts
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    raw.write(': edge-channel live feed\nretry: 2000\n\n');
    let closed = false;
    let remove: (() => void) | null = null;
    raw.on('close', () => {
      closed = true;
      remove?.();
    });
    remove = await s.hub.add({ channel: q.channel || null, ident: q.ident || null, types: types ? (new Set(types) as Set<LiveType>) : null }, sink);
    if (!remove) raw.end('event: error\ndata: {"code":"EDGE_HTTP_BAD_REQUEST","reason":"too many live feeds open"}\n\n');
    else if (closed) remove();
    // subscribed: what is published from now on reaches this client (a page waits for this before it sends a command)
    else raw.write('event: ready\ndata: {}\n\n');
    // the stream ends when the client goes, or with the server
  });

  app.get('/api/v1/channels/:channel/devices', async (req) => {
    const ch = (req.params as { channel: string }).channel;
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 500 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw badRequest('limit: expected an integer 1..5000');
    const d = await s.devices(ch, limit);
    if (!d) throw noChannel(ch);
    return d;
  });

  app.get('/api/v1/channels/:channel/commands', async (req) => {
    const ch = (req.params as { channel: string }).channel;
    const l = s.commandList(ch);
    if (!l) throw noChannel(ch);
    return { protocol: l.protocol, items: l.commands };
  });

  app.post('/api/v1/devices/:channel/:ident/commands', async (req, reply) => {
    full(req);
    const { channel, ident } = device(req);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body: expected a JSON object {name, properties?, meta?, ttl?, timeout?, id?}');
    const r = { ...(body as Record<string, unknown>) };
    if (typeof r.name !== 'string') throw badRequest('name: expected the name of one of the protocol\'s commands');
    const list = s.commandList(channel);
    if (!list) throw noChannel(channel);
    if (!list.commands.some((c) => c.name === r.name)) throw badRequest(`name: ${list.protocol} has no command "${String(r.name).slice(0, 64)}"`);
    if (r.id === undefined) r.id = randomUUID();
    else if (typeof r.id !== 'string' || !COMMAND_ID.test(r.id)) throw badRequest('id: expected 1 to 128 of A-Z a-z 0-9 _ . : -');
    // the rest (properties against the schema, ttl, timeout, meta size) is checked by the command
    // service as for any request; a refusal is its `rejected` event on the live feed
    s.sendCommand(channel, ident, r);
    return reply.code(202).send({ id: r.id, 'channel.id': channel, ident });
  });

  app.delete('/api/v1/devices/:channel/:ident/commands/:id', async (req, reply) => {
    full(req);
    const { channel, ident } = device(req);
    const id = (req.params as { id: string }).id;
    if (!COMMAND_ID.test(id)) throw badRequest('id: expected 1 to 128 of A-Z a-z 0-9 _ . : -');
    if (!s.cancelCommand(channel, ident, id)) throw noChannel(channel);
    return reply.code(202).send({ id });
  });

  app.post('/api/v1/assets/requests', async (req, reply) => {
    full(req);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body: expected an asset management request (README "Assets")');
    const r = { ...(body as Record<string, unknown>) };
    if (r.request_id === undefined) r.request_id = randomUUID();
    s.assetRequest(r);
    return reply.code(202).send({ request_id: r.request_id });
  });

  app.get('/api/v1/devices/:channel/:ident/capture', async (req) => {
    const { channel, ident } = device(req);
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit: expected an integer 1..1000');
    const c = await s.capture(channel, ident, limit);
    if (!c) throw noChannel(channel);
    return c;
  });
}
