import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EdgeError } from '../errors.js';
import { badRequest } from './errors.js';
import { playerPage } from './player-page.js';

export interface LiveInfo {
  codec: string;
  mimeType: string;
  width: number;
  height: number;
}

/** A viewer as the live streams see it (src/live/live-stream.ts Viewer). */
export interface LiveViewer {
  begin(info: LiveInfo): void;
  write(bytes: Uint8Array): void;
  backlog(): number;
  end(error: EdgeError | null): void;
}

/** The live streams (src/live/live-hub.ts): a viewer joins a device's camera channel, starting it if needed. */
export interface LiveSource {
  watch(channel: string, ident: string, camera: number, viewer: LiveViewer): Promise<{ leave(): void }>;
  /** Whether the channel exists on this server. */
  hasChannel(channel: string): boolean;
}

const LEVEL = /^[\x21-\x7e]{1,64}$/;

function params(req: FastifyRequest): { channel: string; ident: string; camera: number } {
  const p = req.params as { channel: string; ident: string; camera: string };
  if (!LEVEL.test(p.channel) || /[#+/]/.test(p.channel)) throw badRequest('channel: expected a channel id');
  if (!LEVEL.test(p.ident) || /[#+/]/.test(p.ident)) throw badRequest('ident: expected 1 to 64 printable characters without / # +');
  const camera = Number(p.camera);
  if (!/^\d{1,3}$/.test(p.camera) || camera < 1 || camera > 255) throw badRequest(`camera: expected a logical channel 1..255, got "${p.camera.slice(0, 20)}"`);
  return { channel: p.channel, ident: p.ident, camera };
}

/**
 * Live video for browsers (README "Video"): `GET /api/v1/live/{channel}/{ident}/{camera}` (read
 * scope) answers a fragmented MP4 that never ends while the stream runs (chunked; `x-edge-codec`
 * names the codec for MediaSource.isTypeSupported), or a typed error before any video: the device
 * is offline (409), no picture in time (504), too many viewers (429), a codec that cannot be played
 * (501). `GET /live/{channel}/{ident}/{camera}` is the player page (no token in it; the page sends
 * the one in its URL fragment).
 */
export function liveRoutes(app: FastifyInstance, src: LiveSource): void {
  app.get('/live/:channel/:ident/:camera', async (req, reply) => {
    const p = params(req);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(playerPage(p.channel, p.ident, p.camera));
  });
  app.get('/api/v1/live/:channel/:ident/:camera', async (req, reply) => {
    const p = params(req);
    if (!src.hasChannel(p.channel)) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no channel ${p.channel.slice(0, 64)} on this server`);
    const raw = reply.raw;
    let gone = false;
    let leave: (() => void) | null = null;
    const viewer: LiveViewer = {
      begin(info) {
        reply.hijack();
        raw.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-store', 'x-edge-codec': info.codec, 'x-edge-video-size': `${info.width}x${info.height}`, 'x-content-type-options': 'nosniff' });
      },
      write(bytes) {
        if (!gone) raw.write(bytes);
      },
      backlog: () => raw.writableLength,
      end() {
        // after the headers an error can only end the body; the reason is in the server log
        if (gone) return;
        gone = true;
        raw.end();
      },
    };
    req.raw.on('close', () => {
      gone = true;
      leave?.();
    });
    const w = await src.watch(p.channel, p.ident, p.camera, viewer);
    leave = w.leave;
    if (gone) leave();
    return reply;
  });
}
