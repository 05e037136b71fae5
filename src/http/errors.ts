import type { FastifyReply, FastifyRequest } from 'fastify';
import { EdgeError, type ErrorCode } from '../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  EDGE_HTTP_BAD_REQUEST: 400,
  EDGE_HTTP_UNAUTHORIZED: 401,
  EDGE_HTTP_FORBIDDEN: 403,
  EDGE_HTTP_NOT_FOUND: 404,
  EDGE_HTTP_RANGE: 416,
  EDGE_HTTP_INTERNAL: 500,
  // live video (src/http/live-routes.ts)
  EDGE_DEVICE_OFFLINE: 409,
  EDGE_COMMAND_INVALID: 409,
  EDGE_STREAM_LIMIT: 429,
  EDGE_STREAM_ENDED: 410,
  EDGE_STREAM_UNSUPPORTED: 501,
  EDGE_TRANSCODER_UNAVAILABLE: 501,
  EDGE_STREAM_TIMEOUT: 504,
  // several processes (src/processes/cluster-query.ts)
  EDGE_PROCESSES_UNANSWERED: 503,
};

/** The API's error body: the code, the reason, and the request id to find it in the log. */
export function sendError(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  // anything that is not one of ours is the server's fault (a disk error): 500, with what it said
  const err = e instanceof EdgeError ? e : new EdgeError('EDGE_HTTP_INTERNAL', e instanceof Error ? e.message : String(e));
  const status = STATUS[err.code] ?? 500;
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="edge-channel"');
  return reply.code(status).type('application/json').send({ code: err.code, reason: err.reason, request_id: req.id });
}

export function badRequest(reason: string): EdgeError {
  return new EdgeError('EDGE_HTTP_BAD_REQUEST', reason);
}
