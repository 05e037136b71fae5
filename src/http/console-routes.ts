import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The web console's files (README "Web console"): plain HTML, CSS and ES modules from `src/console/`,
 * no build step, nothing fetched from outside the box. They ship as they are in the npm package
 * (package.json "files") and the image; from `dist/src/http/` the folder is `../../../src/console`.
 * Read once when the server starts (a few tens of KiB) and served from memory with an ETag.
 * No token is needed for the files: they hold no data; every request they make carries one.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const CONSOLE_DIR = fileURLToPath(new URL('../../../src/console/', import.meta.url));

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export function consoleRoutes(app: FastifyInstance, dir = CONSOLE_DIR): void {
  const files = new Map<string, Asset>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // a package without the console (an old install): the API still works, `/` says why
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` });
  }
  const serve = (name: string) => async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const f = files.get(name);
    if (!f) return reply.code(404).type('text/plain').send(`the web console is not installed (no ${name} in ${dir})\n`);
    reply.header('etag', f.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    if (name === 'index.html') reply.header('content-security-policy', "default-src 'self'; img-src 'self' blob: data: http: https:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'");
    return reply.type(f.type).send(f.body);
  };
  app.get('/', serve('index.html'));
  for (const name of files.keys()) if (name !== 'index.html') app.get(`/console/${name}`, serve(name));
}
