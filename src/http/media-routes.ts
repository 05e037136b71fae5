import { createReadStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EdgeError } from '../errors.js';
import { replaceFile } from '../storage/durable-file.js';
import type { MediaCatalog, MediaEntry, MediaQuery } from '../media/media-catalog.js';
import type { MediaLinks } from '../media/media-links.js';
import { sidecarPath, type MediaSidecar } from '../media/media-store.js';
import type { MediaKind } from '../protocol/types.js';
import { badRequest } from './errors.js';
import { parseRange } from './range.js';
import type { Scope } from './tokens.js';

export interface MediaRoutesOptions {
  catalog: MediaCatalog;
  links: MediaLinks;
  /** Largest `properties` object a file may carry, bytes of JSON. */
  maxPropertiesBytes: number;
  /** A file was deleted over the API (the owner publishes the `deleted` media event). */
  deleted(entry: MediaEntry, reason: string): void;
  /** The scope of the request's token (null: none presented or unknown; the auth hook answered 401 already). */
  scopeOf(req: FastifyRequest): Scope | null;
}

const KINDS = new Set(['tacho', 'image', 'video', 'audio', 'file']);
const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.mp4': 'video/mp4',
  '.h264': 'video/h264',
  '.264': 'video/h264',
  '.h265': 'video/h265',
  '.265': 'video/h265',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.bin': 'application/octet-stream',
  '.ddd': 'application/octet-stream',
  '.txt': 'text/plain',
};

/** The API view of an entry: no server path, and the file's signed link. */
function view(e: MediaEntry, links: MediaLinks): Record<string, unknown> {
  const { path: _path, ...rest } = e;
  return { ...rest, url: links.url(e.id) };
}

/** The media routes (README "HTTP API"): list, metadata, content with Range, signed links, delete, protect, properties. */
export function mediaRoutes(app: FastifyInstance, o: MediaRoutesOptions): void {
  app.get('/api/v1/media', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const query: MediaQuery = {};
    if (q.channel !== undefined) query.channel = text(q.channel, 'channel');
    if (q.ident !== undefined) query.ident = text(q.ident, 'ident');
    if (q.kind !== undefined) {
      if (!KINDS.has(q.kind)) throw badRequest(`kind: expected one of tacho, image, video, audio, file, got "${q.kind.slice(0, 40)}"`);
      query.kind = q.kind as MediaKind;
    }
    if (q.alarm !== undefined) query.alarm = text(q.alarm, 'alarm');
    if (q.command !== undefined) query.command = text(q.command, 'command');
    if (q.from !== undefined) query.from = time(q.from, 'from');
    if (q.to !== undefined) query.to = time(q.to, 'to');
    if (query.from !== undefined && query.to !== undefined && query.to <= query.from) throw badRequest('to: expected a time after from');
    const limit = q.limit === undefined ? 100 : int(q.limit, 'limit', 1, 1000);
    const offset = q.offset === undefined ? 0 : int(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const all = await o.catalog.list(query);
    return { total: all.length, items: all.slice(offset, offset + limit).map((e) => view(e, o.links)) };
  });

  app.get('/api/v1/media/:id', async (req) => view(await o.catalog.get((req.params as { id: string }).id), o.links));

  app.delete('/api/v1/media/:id', async (req, reply) => {
    full(o, req);
    const e = await o.catalog.get((req.params as { id: string }).id);
    await unlink(e.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new EdgeError('EDGE_HTTP_NOT_FOUND', `the file ${e.name} is already gone`);
      throw err;
    });
    await unlink(sidecarPath(e.path)).catch(() => undefined);
    o.deleted(e, 'api');
    return reply.code(204).send();
  });

  app.patch('/api/v1/media/:id', async (req) => {
    full(o, req);
    const e = await o.catalog.get((req.params as { id: string }).id);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('expected a JSON object with "protected" and/or "properties"');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (k !== 'protected' && k !== 'properties') throw badRequest(`${k}: not a field that can be set (protected, properties)`);
    if (b.protected !== undefined && typeof b.protected !== 'boolean') throw badRequest('protected: expected true or false');
    if (b.properties !== undefined && b.properties !== null && (typeof b.properties !== 'object' || Array.isArray(b.properties))) throw badRequest('properties: expected a JSON object or null');
    if (b.properties && JSON.stringify(b.properties).length > o.maxPropertiesBytes) throw badRequest(`properties: larger than ${o.maxPropertiesBytes} bytes of JSON`);
    const side: MediaSidecar = { key: '', kind: e.kind, bytes: e.bytes, sha256: e.sha256 ?? '', stored_at_ms: Math.round(e.stored_at * 1000), protected: e.protected, properties: e.properties };
    try {
      Object.assign(side, JSON.parse(await readFile(sidecarPath(e.path), 'utf8')) as MediaSidecar);
    } catch {
      // no sidecar yet: made from the entry
    }
    if (typeof b.protected === 'boolean') side.protected = b.protected;
    if (b.properties !== undefined) side.properties = (b.properties ?? {}) as Record<string, unknown>;
    await replaceFile(sidecarPath(e.path), JSON.stringify(side), true);
    return view(await o.catalog.get(e.id), o.links);
  });

  const content = async (req: FastifyRequest, reply: FastifyReply) => sendFile(req, reply, await o.catalog.get((req.params as { id: string }).id));
  app.route({ method: ['GET', 'HEAD'], url: '/api/v1/media/:id/content', handler: content });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/media/:id',
    handler: async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const q = req.query as Record<string, string | undefined>;
      o.links.verify(id, q.exp, q.sig);
      return sendFile(req, reply, await o.catalog.get(id));
    },
  });
}

/** The file with Content-Type, Content-Length, ETag (its sha256), Last-Modified; a single Range gets 206 or 416. */
function sendFile(req: FastifyRequest, reply: FastifyReply, e: MediaEntry): FastifyReply {
  const etag = e.sha256 ? `"${e.sha256}"` : null;
  reply.header('content-type', TYPES[extname(e.name).toLowerCase()] ?? 'application/octet-stream');
  reply.header('accept-ranges', 'bytes');
  reply.header('last-modified', new Date(e.stored_at * 1000).toUTCString());
  reply.header('content-disposition', `inline; filename="${e.name}"`);
  if (etag) reply.header('etag', etag);
  if (etag && req.headers['if-none-match'] === etag) return reply.code(304).send();
  const r = parseRange(req.headers.range, e.bytes);
  if (r.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${e.bytes}`);
    throw new EdgeError('EDGE_HTTP_RANGE', `range "${String(req.headers.range).slice(0, 60)}" is outside the file's ${e.bytes} bytes`);
  }
  const [start, end] = r.kind === 'slice' ? [r.start, r.end] : [0, e.bytes - 1];
  const length = e.bytes === 0 ? 0 : end - start + 1;
  reply.header('content-length', length);
  if (r.kind === 'slice') reply.code(206).header('content-range', `bytes ${start}-${end}/${e.bytes}`);
  if (req.method === 'HEAD' || length === 0) return reply.send();
  return reply.send(createReadStream(e.path, { start, end }));
}

function full(o: MediaRoutesOptions, req: FastifyRequest): void {
  if (o.scopeOf(req) !== 'full') throw new EdgeError('EDGE_HTTP_FORBIDDEN', 'this token has the read scope; changing files needs a full token');
}

function text(v: string, name: string): string {
  if (v === '' || v.length > 256) throw badRequest(`${name}: expected 1 to 256 characters`);
  return v;
}

function time(v: string, name: string): number {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0 || n > 32503680000) throw badRequest(`${name}: expected a Unix time in seconds, got "${v.slice(0, 40)}"`);
  return n;
}

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw badRequest(`${name}: expected an integer ${min}..${max}, got "${v.slice(0, 40)}"`);
  return n;
}
