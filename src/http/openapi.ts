/**
 * The OpenAPI 3.1 description of the HTTP API, served at /api/v1/openapi.json. Written by hand next
 * to the routes (src/http/media-routes.ts): a handful of routes, each with its parameters and errors.
 */
const error = { $ref: '#/components/schemas/Error' };
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: { 400: 'bad input', 401: 'no or unknown token', 403: 'forbidden', 404: 'no such file', 416: 'range not satisfiable', 503: 'the other processes did not answer (EDGE_PROCESSES_UNANSWERED)' }[c] ?? 'error', content: { 'application/json': { schema: error } } }]));
const chParam = { name: 'channel', in: 'path', required: true, schema: { type: 'string' } };
const identParam = { name: 'ident', in: 'path', required: true, schema: { type: 'string' } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'file id (from a list, or from a media message)' };

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'edge-channel HTTP API', version: '1', description: 'Stored device files (tacho downloads, alarm photos and clips) by link, list and metadata. Every /api route needs `Authorization: Bearer <token>` (config http.tokens); /media/{id} links are signed instead.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: { type: 'object', required: ['code', 'reason', 'request_id'], properties: { code: { type: 'string', examples: ['EDGE_HTTP_NOT_FOUND'] }, reason: { type: 'string' }, request_id: { type: 'string' } } },
      Media: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          channel_id: { type: 'string' },
          ident: { type: 'string' },
          name: { type: 'string' },
          kind: { enum: ['tacho', 'image', 'video', 'audio', 'file'] },
          bytes: { type: 'integer' },
          sha256: { type: ['string', 'null'] },
          stored_at: { type: 'number', description: 'Unix time, s' },
          protected: { type: 'boolean' },
          properties: { type: 'object' },
          meta: { type: 'object', description: 'what the server knew when it stored the file: alarm fields, command.id' },
          url: { type: 'string', description: 'signed download link' },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/media': {
      get: {
        summary: 'List stored files, newest first',
        parameters: [
          { name: 'channel', in: 'query', schema: { type: 'string' } },
          { name: 'ident', in: 'query', schema: { type: 'string' } },
          { name: 'kind', in: 'query', schema: { enum: ['tacho', 'image', 'video', 'audio', 'file'] } },
          { name: 'alarm', in: 'query', schema: { type: 'string' }, description: 'files of the alarm with this alarm.number' },
          { name: 'command', in: 'query', schema: { type: 'string' }, description: 'files the command with this id asked for' },
          { name: 'from', in: 'query', schema: { type: 'number' }, description: 'stored at or after (Unix s)' },
          { name: 'to', in: 'query', schema: { type: 'number' }, description: 'stored before (Unix s)' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        ],
        responses: { 200: { description: 'files', content: { 'application/json': { schema: { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: { $ref: '#/components/schemas/Media' } } } } } } }, ...errors(400, 401) },
      },
    },
    '/api/v1/media/{id}': {
      get: { summary: "One file's metadata", parameters: [idParam], responses: { 200: { description: 'the file', content: { 'application/json': { schema: { $ref: '#/components/schemas/Media' } } } }, ...errors(401, 404) } },
      delete: { summary: 'Delete a file (full scope); a `deleted` media event follows', parameters: [idParam], responses: { 204: { description: 'deleted' }, ...errors(401, 403, 404) } },
      patch: {
        summary: 'Set or clear `protected`, replace `properties` (full scope)',
        parameters: [idParam],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { protected: { type: 'boolean' }, properties: { type: ['object', 'null'] } }, additionalProperties: false } } } },
        responses: { 200: { description: 'the file after the change', content: { 'application/json': { schema: { $ref: '#/components/schemas/Media' } } } }, ...errors(400, 401, 403, 404) },
      },
    },
    '/api/v1/media/{id}/content': {
      get: { summary: "The file's bytes (single Range requests: 206 / 416; ETag is the sha256)", parameters: [idParam, { name: 'Range', in: 'header', schema: { type: 'string' } }], responses: { 200: { description: 'whole file' }, 206: { description: 'the range' }, 304: { description: 'not modified (If-None-Match)' }, ...errors(401, 404, 416) } },
    },
    '/api/v1/retention/{channel}/{ident}': {
      get: { summary: "A device's own retention limits and the ones in force", parameters: [{ name: 'channel', in: 'path', required: true, schema: { type: 'string' } }, { name: 'ident', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'limits' }, ...errors(400, 401, 404) } },
      put: {
        summary: "Set or clear a device's own limits (full scope); applied at once",
        parameters: [{ name: 'channel', in: 'path', required: true, schema: { type: 'string' } }, { name: 'ident', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { ttl_days: { type: ['integer', 'null'], minimum: 0 }, rotate_bytes: { type: ['integer', 'null'], minimum: 0 } }, additionalProperties: false } } } },
        responses: { 200: { description: 'limits, and how many files were deleted' }, ...errors(400, 401, 403, 404) },
      },
    },
    '/api/v1/instance': { get: { summary: 'This instance: id, version, readiness, MQTT connection, channels (of several processes: the box, and each process under instances)', responses: { 200: { description: 'instance' }, ...errors(401) } } },
    '/api/v1/channels': { get: { summary: 'Channels: protocol, ports, connections, paused reasons, counters (several processes: the box\'s, with processes.missing)', responses: { 200: { description: 'channels' }, ...errors(401, 503) } } },
    '/api/v1/devices/{channel}/{ident}': { get: { summary: 'Whether the device is connected (here, or with redis_url to another process or instance: connected_instance names it), and how many commands it holds', parameters: [{ name: 'channel', in: 'path', required: true, schema: { type: 'string' } }, { name: 'ident', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'device' }, ...errors(400, 401, 404) } } },
    '/api/v1/live/{channel}/{ident}/{camera}': { get: { summary: "Live video of a device's camera channel as one growing fragmented MP4 (starts the camera when needed; codec in x-edge-codec)", parameters: [{ name: 'channel', in: 'path', required: true, schema: { type: 'string' } }, { name: 'ident', in: 'path', required: true, schema: { type: 'string' } }, { name: 'camera', in: 'path', required: true, schema: { type: 'integer', minimum: 1, maximum: 255 } }], responses: { 200: { description: 'video/mp4, chunked, until the stream ends' }, ...errors(400, 401, 404, 409, 410, 429, 501, 504) } } },
    '/api/v1/devices/{channel}/{ident}/tacho-schedule': { get: { summary: "The device's tachograph download schedule (last and next download of its vehicle unit and reported driver cards)", parameters: [{ name: 'channel', in: 'path', required: true, schema: { type: 'string' } }, { name: 'ident', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'schedule' }, ...errors(400, 401, 404) } } },
    '/api/v1/devices/{channel}/{ident}/commands': {
      get: { summary: 'Commands held for the device (queue order, in flight first)', parameters: [chParam, identParam], responses: { 200: { description: 'commands' }, ...errors(400, 401, 404) } },
      post: {
        summary: 'Send a command (full scope): published on the command topic as an MQTT client would; its lifecycle events follow (live feed, MQTT)',
        parameters: [chParam, identParam],
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { id: { type: 'string' }, name: { type: 'string' }, properties: { type: 'object' }, ttl: { type: 'integer' }, timeout: { type: 'integer' }, meta: { type: 'object' } } } } } },
        responses: { 202: { description: '{id} (a UUID when none was given)' }, ...errors(400, 401, 403, 404) },
      },
    },
    '/api/v1/assets': { get: { summary: 'Every asset', responses: { 200: { description: 'assets' }, ...errors(401) } } },
    '/api/v1/assets/{id}': {
      get: {
        summary: 'An asset and its intervals reaching into a time range, paged',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'from', in: 'query', schema: { type: 'number' } }, { name: 'to', in: 'query', schema: { type: 'number' } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }, { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } }],
        responses: { 200: { description: 'asset and intervals' }, ...errors(400, 401, 404) },
      },
    },
    '/api/v1/events': {
      get: {
        summary: 'Live feed for the web console (Server-Sent Events): messages, connection, command, media, relay, channel, asset and instance events as published on MQTT; first `event: ready` once subscribed',
        parameters: [{ name: 'channel', in: 'query', schema: { type: 'string' } }, { name: 'ident', in: 'query', schema: { type: 'string' } }, { name: 'types', in: 'query', schema: { type: 'string' }, description: 'comma-separated: message, connection, command, media, relay, channel, asset, instance' }],
        responses: { 200: { description: 'text/event-stream; each event `data` is {channel, ident, sub, payload}' }, ...errors(400, 401) },
      },
    },
    '/api/v1/channels/{channel}/devices': { get: { summary: "A channel's devices (online now, or with a message since start), newest message first: connected (and connected_instance), latest message and its time, position; and the channel's recent disconnects with their close codes", parameters: [chParam, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 5000, default: 500 } }], responses: { 200: { description: 'devices' }, ...errors(400, 401, 404) } } },
    '/api/v1/channels/{channel}/commands': { get: { summary: "The channel's protocol and its commands with their property schemas", parameters: [chParam], responses: { 200: { description: 'commands' }, ...errors(401, 404) } } },
    '/api/v1/devices/{channel}/{ident}/commands/{id}': { delete: { summary: 'Cancel a queued or sent command (full scope): published on the cancel topic; a `canceled` event follows', parameters: [chParam, identParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 202: { description: 'cancel published' }, ...errors(400, 401, 403, 404) } } },
    '/api/v1/devices/{channel}/{ident}/capture': { get: { summary: "The device's last raw rows of the channel's traffic capture (`enabled` false when capture is off)", parameters: [chParam, identParam, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }], responses: { 200: { description: '{enabled, rows: [{time, direction, hex}]}' }, ...errors(400, 401, 404) } } },
    '/api/v1/assets/requests': {
      post: {
        summary: 'An asset management request (full scope; README "Assets": create, update, delete, assign, close), published on the management topic; the answer is an `asset` event `requests/applied` or `requests/rejected` with the `request_id`',
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['op'], properties: { op: { enum: ['create', 'update', 'delete', 'assign', 'close'] }, request_id: { type: 'string' } } } } } },
        responses: { 202: { description: '{request_id}' }, ...errors(400, 401, 403) },
      },
    },
    '/media/{id}': {
      get: {
        summary: 'Download by signed link (no token; the link is in every media message)',
        security: [],
        parameters: [idParam, { name: 'exp', in: 'query', required: true, schema: { type: 'integer' } }, { name: 'sig', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'whole file' }, 206: { description: 'the range' }, ...errors(403, 404, 416) },
      },
    },
  },
} as const;
