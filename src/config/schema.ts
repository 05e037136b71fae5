/**
 * The configuration, declared once. This schema is the single source of the TypeScript types
 * (`Static`), the defaults (`default`, filled by TypeBox's Value.Default), the validation (Value.Errors,
 * worded by validate.ts), the JSON Schema file editors use (`config.schema.json`, written by
 * `npm run config-schema`) and the environment overrides (env.ts). README.md "Configuration" is
 * checked against it by a test.
 *
 * Adding a key is one edit here: give it a type with its bounds, a `default` (or wrap it in
 * Type.Optional), a `description`, and where useful:
 *   - `'x-expected'`: the expected form in error messages, when the type alone does not say it;
 *   - `'x-env': true`: settable per deployment as EDGE_<PATH> (e.g. mqtt.url → EDGE_MQTT_URL);
 *   - `'x-secret': true`: also accepted as `<key>_file` (a file holding the value; env EDGE_<PATH>_FILE);
 *   - `'x-live': true`: applied by a reload without a restart (app.ts applies it; every other
 *     changed key is reported as needing a restart).
 * Then list it in the README block (the test says so if you forget). Checks across keys (ports used
 * twice, ip lists, probe bounds) live in validate.ts.
 */
import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { HOST_FORM, isValidHost } from './host.js';
import { COMMANDS_DEFAULTS as CD } from './commands-defaults.js';

FormatRegistry.Set('host', isValidHost);

const int = (minimum: number, maximum: number, dflt: number, description: string, extra: Record<string, unknown> = {}) =>
  Type.Integer({ minimum, maximum, default: dflt, description, ...extra });

const port = (description: string) =>
  Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], { default: null, description, 'x-expected': 'an integer 0..65535' });

const host = (dflt: string, description: string) => Type.String({ format: 'host', default: dflt, description, 'x-expected': HOST_FORM });

/** Object with unknown keys rejected (a typo must not silently fall back to a default). */
const obj = <P extends Record<string, TSchema>>(properties: P, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

/** A secret string key and its `<key>_file` form (a path to a file holding the value; resolved by env.ts). */
const secretFile = (key: string) => Type.Optional(Type.String({ description: `a file holding ${key} (read at start and reload; one trailing newline is ignored); instead of ${key}` }));

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const TOPIC_LEVEL = '^[A-Za-z0-9_.-]+$';

export const TlsSchema = obj({
  ca: Type.Optional(Type.String({ description: 'CA certificate file (PEM)' })),
  cert: Type.Optional(Type.String({ description: 'client certificate file (PEM)' })),
  key: Type.Optional(Type.String({ description: 'client key file (PEM)' })),
  reject_unauthorized: Type.Boolean({ default: true, description: 'reject a broker certificate the CA does not vouch for' }),
}, { description: 'TLS for mqtts:// (optional)' });

export const MqttSchema = obj(
  {
    url: Type.String({
      pattern: '^$|^(mqtts?|tcp|ssl|wss?)://.+',
      default: '',
      description: 'external broker, e.g. mqtt://127.0.0.1:1883 or mqtts://…; "" = the embedded broker',
      'x-expected': 'a broker URL such as mqtt://127.0.0.1:1883 (or empty for the embedded broker)',
      'x-env': true,
    }),
    username: Type.Optional(Type.String({ description: 'broker user name', 'x-env': true })),
    password: Type.Optional(Type.String({ description: 'broker password', 'x-env': true, 'x-secret': true })),
    password_file: secretFile('password'),
    client_id: Type.String({ minLength: 1, default: 'edge-channel', description: 'MQTT client id prefix: the client id is {client_id}-{instance_id} (stable across restarts, distinct per replica)', 'x-env': true }),
    tls: Type.Optional(TlsSchema),
    topic_root: Type.String({
      pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
      default: 'edge',
      description: 'first topic level(s) of everything published',
      'x-expected': 'topic levels without wildcards, e.g. "edge"',
      'x-env': true,
    }),
    embedded: obj(
      {
        host: host('127.0.0.1', 'listen address of the embedded broker'),
        port: int(0, 65535, 1883, 'port of the embedded broker; 0 = ephemeral'),
      },
      { default: {}, description: 'the embedded broker, used when url is empty' },
    ),
    max_inflight: int(1, 65535, 1000, 'QoS 1 publishes awaiting PUBACK at once, at most (the adaptive window\'s ceiling)'),
    adaptive_inflight: Type.Boolean({ default: false, description: 'true = the window adapts to the PUBACK latency: a live device waits about half as long during an after-load storm, for about 7 % less throughput at saturation (bench/README.md, "Fifth pass"); false = always max_inflight' }),
    express_inflight: int(0, 65535, 64, 'messages of quiet connections (a live device during an after-load storm) awaiting PUBACK at once on a second MQTT connection (client id + "-x", no will), so they do not queue behind the main window; 0 = one connection only'),
    max_queued: int(1, 10_000_000, 20000, 'publishes queued behind the window before device sockets pause'),
    resync_interval_s: int(0, 604_800, 0, 'republish all retained state this instance owns every N s (it is also republished on every reconnection and on request); 0 = off'),
  },
  { default: {}, description: 'the MQTT broker every message is published to' },
);

export const PoolSchema = obj(
  {
    threads: int(0, 256, 0, 'decode worker threads; 0 = the cores but one, which the main thread keeps (with processes above 1: cores ÷ processes each, minus one), at least 1', { 'x-env': true }),
    // 64, not 256: a live frame waits for the tasks already in the workers; bench/README.md "After the feature merges"
    max_batch_frames: int(1, 65536, 64, 'frames per worker task (batched per event-loop tick)'),
    // 8 KB: a live frame waits for at most one such task; against 16 KB its after-load p99 fell in six of six pairs and records/s held or rose (bench/README.md "Seventh pass")
    max_batch_bytes: int(1024, 64 * 1024 * 1024, 8192, 'bytes of frames per worker task, at most (one connection\'s frames stay together): smaller tasks, shorter waits for a live frame behind a storm'),
    max_pending_frames: int(1, 10_000_000, 20000, 'frames waiting for a worker before device sockets pause'),
    hold_above_queued: int(1, 10_000_000, 1000, 'while this many messages or more wait for the broker, frames wait here undecoded (bytes, the most urgent decoded first) instead of as messages: less memory and shorter garbage-collection pauses in a storm'),
    // 2, not 0: at 0.5–6 k frames/s every frame was nearly its own task; 2 ms cut the channel's CPU per record 15–25 % (bench/README.md "Latency by stage, CPU by rate")
    batch_wait_ms: int(0, 50, 2, 'ms a frame may wait for others to share its worker task (fewer worker wake-ups and writes at low rates); 0 = send at once, lowest latency'),
  },
  { default: {}, description: 'the decode worker pool' },
);

export const SpoolSchema = obj(
  {
    enabled: Type.Boolean({ default: true, description: 'false = bare QoS 1 publisher: frames simply wait for the broker' }),
    dir: Type.String({ minLength: 1, default: './data/spool', description: 'spool directory, relative to the working directory', 'x-expected': 'a directory path', 'x-env': true }),
    max_bytes: int(64 * 1024, Number.MAX_SAFE_INTEGER, 1024 * 1024 * 1024, 'at this size frames are not acknowledged and sockets pause'),
    segment_bytes: int(4096, 1024 * 1024 * 1024, 16 * 1024 * 1024, 'segment file size; a segment is deleted once all its records are confirmed'),
    fsync: Type.Boolean({ default: true, description: 'fdatasync each group commit before acknowledging' }),
    publish_timeout_ms: int(100, 3_600_000, 10_000, 'a publish without PUBACK this long opens the breaker and is spooled'),
    probe_min_ms: int(10, 3_600_000, 500, 'half-open probe backoff (exponential with jitter) from this …'),
    probe_max_ms: int(10, 3_600_000, 30_000, '… up to this'),
    drain_rate: int(0, 10_000_000, 0, 'cap of spooled records published per second while draining; 0 = no cap (the drain adapts)'),
    drain_inflight: int(1, 65535, 500, 'largest adaptive drain window (at most half of mqtt.max_inflight is used)'),
  },
  { default: {}, description: 'the durable local spool behind the broker (see "Never losing data")' },
);

export const ChannelSchema = obj(
  {
    id: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: TOPIC_LEVEL })], {
      description: 'channel id: an integer or [A-Za-z0-9_.-]; becomes a topic level',
      'x-expected': 'a channel id (integer or letters, digits, "_", "-", ".")',
    }),
    name: Type.Optional(Type.String({ description: 'display name; default: the protocol id' })),
    protocol: Type.String({ pattern: '^[a-z0-9_-]+$', description: 'a folder under protocols/', 'x-expected': 'a protocol id such as "ruptela"' }),
    host: host('0.0.0.0', 'an IP address or host name to listen on; "::" listens dual-stack'),
    tcp_port: port('TCP port; 0 = ephemeral; null = no TCP listener'),
    udp_port: port('UDP port; 0 = ephemeral; null = no UDP listener'),
    max_connections: int(1, 10_000_000, 10000, 'beyond it new TCP connections are closed (close code 21)'),
    idle_timeout_s: int(1, 86400, 600, 'close a TCP connection silent this long (close code 17)'),
    frame_timeout_s: int(1, 86400, 30, 'a started frame must be complete within this (close code 23)'),
    max_outbound_bytes: int(1024, 1024 * 1024 * 1024, 256 * 1024, 'replies queued for a peer that does not read: pause at this, close at 2x (close code 22)'),
    udp_receive_buffer_bytes: int(0, 1024 * 1024 * 1024, 0, 'SO_RCVBUF of the UDP socket; 0 = the OS default'),
    max_frame_bytes: int(0, 64 * 1024 * 1024, 0, "lower the protocol's frame limit; 0 = the protocol's"),
    options: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: "options the protocol declares (unknown keys are errors; see the protocol's README)", 'x-expected': 'an object' }),
    attachment_tcp_port: port('the alarm attachment server (JT/T 808 video): same as parts.attachments.tcp_port; 0 = ephemeral; null = none'),
    attachment_advertise_host: Type.Union([Type.String({ format: 'host' }), Type.Null()], { default: null, description: 'same as parts.attachments.advertise_host: the address put in 0x9208; null = the address the device reached', 'x-expected': HOST_FORM }),
    stream_tcp_port: port('the JT/T 1078 stream server (JT/T 808 video): cameras stream live video and recorded clips here when a start_videostream / playback_video names this server; 0 = ephemeral; null = none'),
    stream_advertise_host: Type.Union([Type.String({ format: 'host' }), Type.Null()], { default: null, description: 'the address put in 0x9101/0x9201 for the stream server; null = the address the device reached (set it behind NAT)', 'x-expected': HOST_FORM }),
    parts: Type.Record(
      Type.String({ pattern: '^[a-z0-9_-]+$' }),
      // optional: defaults are not filled inside a record's values (validate.ts turns a missing one into null)
      obj({
        tcp_port: Type.Optional(port('TCP port of the part')),
        udp_port: Type.Optional(port('UDP port of the part')),
        advertise_host: Type.Optional(Type.String({ format: 'host', description: 'address devices are told to connect to for this part (JT/T 808 0x9208); default: the address the device reached', 'x-expected': HOST_FORM })),
      }),
      { default: {}, description: "the protocol family's further listeners, e.g. { attachments: { tcp_port: 7100 } } (the JT/T 808 alarm attachment server)", 'x-expected': 'an object of part ids to { tcp_port, udp_port, advertise_host }' },
    ),
    ip_whitelist: Type.Array(Type.String(), { default: [], description: 'IPs and CIDR networks, IPv4 and IPv6; empty = allow all', 'x-live': true }),
    ip_blacklist: Type.Array(Type.String(), { default: [], description: 'wins over the whitelist', 'x-live': true }),
    proxy_protocol: Type.Boolean({ default: false, description: 'TCP connections start with a PROXY protocol v1 or v2 header (HAProxy send-proxy[-v2], NGINX proxy_protocol, cloud NLBs): its source address is what guards, peer and logs use (see "Deployment")' }),
    trusted_proxies: Type.Array(Type.String(), { default: [], description: 'with proxy_protocol: IPs/CIDRs of the load balancers allowed to send the header; other sources are closed (close code 24); required then', 'x-live': true }),
    proxy_header_timeout_s: int(1, 300, 5, 'with proxy_protocol: the header must be complete within this (close code 24)'),
    max_udp_packets_per_minute: int(0, 1_000_000_000, 0, 'channel-wide, 0 = unlimited', { 'x-live': true }),
    max_udp_packets_per_minute_per_ip: int(0, 1_000_000_000, 0, 'per source IP, 0 = unlimited', { 'x-live': true }),
    reassembly: obj(
      {
        max_bytes: int(1024, 1024 * 1024 * 1024, 4 * 1024 * 1024, 'unfinished multi-frame messages held per connection; beyond it the message is dropped'),
        max_age_s: int(1, 86400, 300, 'a multi-frame message not complete this long after its first part is dropped'),
        resend_after_s: int(0, 86400, 20, 'ask the device again for missing parts when none came for this long; 0 = only when the last part arrives'),
        max_resend_requests: int(0, 1000, 3, 'requests for missing parts per message (protocols that can ask, e.g. JT/T 808 0x8800/0x8003); 0 = never ask'),
      },
      { default: {}, description: 'messages a protocol splits over several frames (decode effect "reassemble")' },
    ),
    media_retention: obj(
      {
        ttl_days: Type.Union([Type.Integer({ minimum: 0, maximum: 36500 }), Type.Null()], { default: null, description: "this channel's file age limit, days (0 = kept); null = media.retention.ttl_days", 'x-expected': 'an integer 0..36500 or null' }),
        rotate_bytes: Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], { default: null, description: "this channel's per-device size cap, bytes (0 = none); null = media.retention.rotate_bytes", 'x-expected': 'an integer of bytes or null' }),
      },
      { default: {}, description: 'retention of the files of this channel\'s devices, over media.retention' },
    ),
    tacho: obj(
      {
        schedule: Type.Union([Type.Boolean(), Type.Null()], { default: null, description: "scheduled downloads for this channel's devices; null = tacho.schedule.enabled" }),
        driver_card_days: Type.Union([Type.Integer({ minimum: 1, maximum: 28 }), Type.Null()], { default: null, description: 'null = tacho.schedule.driver_card_days', 'x-expected': 'an integer 1..28 or null' }),
        vehicle_unit_days: Type.Union([Type.Integer({ minimum: 1, maximum: 90 }), Type.Null()], { default: null, description: 'null = tacho.schedule.vehicle_unit_days', 'x-expected': 'an integer 1..90 or null' }),
        card_allow: Type.Array(Type.String(), { default: [], description: 'devices (idents; "*" = all) of this channel whose company-card requests are relayed with no download pending, besides tacho.card_allow' }),
        devices: Type.Record(
          Type.String(),
          obj({
            schedule: Type.Optional(Type.Boolean({ description: "this device's schedule on or off" })),
            driver_card_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 28 })),
            vehicle_unit_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })),
          }),
          { default: {}, description: 'per device (ident) over the channel: { schedule, driver_card_days, vehicle_unit_days }', 'x-expected': 'an object of idents to { schedule, driver_card_days, vehicle_unit_days }' },
        ),
      },
      { default: {}, description: "this channel's tachograph downloads, over the top-level tacho section" },
    ),
    capture: obj(
      {
        enabled: Type.Boolean({ default: false, description: 'write raw device traffic to {dir}/channel-{id}.tsv (see "Traffic capture")' }),
        idents: Type.Array(Type.String(), { default: [], description: 'capture only these devices (quote IMEIs); empty = every connection' }),
        dir: Type.String({ minLength: 1, default: './data/capture', description: 'capture directory, relative to the working directory', 'x-expected': 'a directory path' }),
        max_bytes: int(1024 * 1024, Number.MAX_SAFE_INTEGER, 16 * 1024 * 1024, 'the file and its one rotated .1 file together stay within this'),
      },
      { default: {}, description: 'raw traffic capture for support, decode/replay-ready TSV', 'x-live': true },
    ),
  },
  { description: 'one protocol per channel; needs tcp_port and/or udp_port' },
);

export const MediaSchema = obj(
  {
    dir: Type.String({ minLength: 1, default: './data/media', description: '{dir}/{channel}/{ident}/{kind}-{UTC time}-{key}{ext}; "{key}.part" until the last piece', 'x-expected': 'a directory path', 'x-env': true }),
    fsync: Type.Boolean({ default: true, description: 'fdatasync each piece before its frame is acknowledged, and the folder after a file completes' }),
    part_max_age_s: int(0, 365 * 86400, 86400, 'an unfinished upload (.part) nobody wrote to this long is deleted (swept at start and hourly); 0 = never'),
    max_file_bytes: int(1024, Number.MAX_SAFE_INTEGER, 256 * 1024 * 1024, 'largest uploaded file; a piece past it fails (EDGE_MEDIA_TOO_LARGE) and is not acknowledged'),
    retention: obj(
      {
        ttl_days: int(0, 36500, 0, 'stored files older than this are deleted by the retention sweep (protected files stay); 0 = kept'),
        rotate_bytes: int(0, Number.MAX_SAFE_INTEGER, 0, "a device's stored files over this many bytes in all: its oldest unprotected files are deleted first; 0 = no cap"),
        sweep_s: int(60, 7 * 86400, 3600, 'how often the retention sweep runs (also at start; a device is also checked right after it stored a file)'),
      },
      { default: {}, description: 'deletion of stored files by age and by size per device; channels[i].media_retention and the HTTP API (per device) override it; every deletion is a media log event "deleted"' },
    ),
    uploads: obj(
      {
        max_files: int(1, 255, 16, 'files one upload (an alarm) may announce; more: EDGE_UPLOAD_REFUSED'),
        max_bytes: int(1024, Number.MAX_SAFE_INTEGER, 1024 * 1024 * 1024, 'bytes one upload may announce in all its files; more: EDGE_UPLOAD_REFUSED'),
        max_pending: int(1, 10_000_000, 100_000, 'uploads remembered per channel (invited or in progress); the oldest beyond it is dropped and reported'),
        max_ranges: int(16, 1_000_000, 65_536, 'separate byte ranges one file may arrive in (bounds the state a peer can make)'),
        timeout_s: int(10, 7 * 86400, 3600, 'an invited upload must be complete within this; else it is published with what arrived (EDGE_UPLOAD_INCOMPLETE)'),
        idle_timeout_s: int(5, 86400, 300, 'an upload that started and then gets no data for this long ends the same way'),
      },
      { default: {}, description: 'uploads tracked across frames and connections (JT/T 808 alarm attachments)' },
    ),
  },
  { default: {}, description: 'files devices upload in pieces (decode effects "file-chunk": tacho files, photos, video)' },
);

export const VideoSchema = obj(
  {
    idle_s: int(1, 3600, 30, 'a live stream nobody watches any more is stopped (0x9102) after this long'),
    max_live_s: int(10, 7 * 86400, 3600, 'a live stream is stopped after this long even with viewers (a forgotten browser tab keeps no camera streaming forever)'),
    start_timeout_s: int(1, 300, 20, 'a live request waits this long for the camera\'s first picture; then the viewer gets EDGE_STREAM_TIMEOUT'),
    max_viewers: int(1, 10_000, 50, 'viewers of one live stream'),
    viewer_buffer_bytes: int(64 * 1024, 1024 * 1024 * 1024, 8 * 1024 * 1024, 'video queued for a viewer that does not read; past it the viewer is dropped (EDGE_VIEWER_TOO_SLOW), never the stream'),
    gop_cache_bytes: int(0, 1024 * 1024 * 1024, 4 * 1024 * 1024, 'the current GOP kept per live stream so a new viewer starts at once from its keyframe; 0 = wait for the next keyframe'),
    max_stream_connections: int(1, 1_000_000, 256, 'camera connections on one channel\'s stream port'),
    stream_idle_timeout_s: int(1, 3600, 30, 'a camera connection that sends nothing this long is closed'),
    max_clip_bytes: int(1024 * 1024, Number.MAX_SAFE_INTEGER, 512 * 1024 * 1024, 'a recorded clip (playback_video) larger than this fails (EDGE_STREAM_INCOMPLETE)'),
    clip_tolerance_ms: int(0, 600_000, 2000, 'a recording counts as complete when its last frame reaches the requested end within this'),
    ffmpeg: Type.String({ minLength: 1, default: 'ffmpeg', description: 'the ffmpeg binary that converts H.265 (not playable in most browsers) to H.264; detected at start, missing = H.265 streams fail with EDGE_TRANSCODER_UNAVAILABLE' }),
  },
  { default: {}, description: 'JT/T 1078 video: live streams to browsers and recorded clips (see "Video")' },
);

export const TachoSchema = obj(
  {
    dir: Type.String({ minLength: 1, default: './data/tacho', description: "the download schedule's state: when each vehicle unit and driver card was last downloaded", 'x-expected': 'a directory path', 'x-env': true }),
    fsync: Type.Boolean({ default: true, description: 'sync the schedule state file on every change' }),
    read_files: Type.Boolean({ default: true, description: 'read every stored tachograph file: its document as {file}.json next to it and a tacho.download message (see "Messages of a download")' }),
    activity_messages: Type.Boolean({ default: false, description: 'also one message per activity interval of a read file, timestamped at its begin' }),
    roots: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'files of the European root keys to verify signatures with (Gen1 ERCA public key, 144 bytes; Gen2 ERCA root certificate); none = tacho.signature.verified false, "no root keys configured"' }),
    strict: Type.Boolean({ default: false, description: 'reject files the lenient reading accepts with a warning (unknown EFs, non-standard Gen2 record types)' }),
    card_allow: Type.Array(Type.String(), { default: [], description: 'devices (idents; "*" = all) whose company-card requests are relayed with no download pending (device-initiated downloads); others are refused (see "Company card access")' }),
    schedule: obj(
      {
        enabled: Type.Boolean({ default: false, description: 'request downloads when due (channels[i].tacho.schedule and .devices override)' }),
        driver_card_days: int(1, 28, 28, 'a driver card the device reports in a slot is downloaded when its last download is this old (legal maximum 28)'),
        vehicle_unit_days: int(1, 90, 90, "an online device's vehicle unit is downloaded when its last download is this old (legal maximum 90)"),
        atr: Type.String({ pattern: '^$|^([0-9a-fA-F]{2}){2,33}$', default: '', description: "the company card's ATR (hex), which request_tachograph_file needs; required when a schedule is on", 'x-expected': 'the ATR as 4 to 66 hex digits' }),
        timeout_s: int(30, 86400, 600, "the scheduled command's reply timeout (at most commands.max_timeout_s)"),
        retry_s: int(60, 30 * 86400, 3600, 'after a scheduled download ended without a file, wait this long before asking again'),
        check_s: int(1, 86400, 60, 'how often online devices are checked against the clock (also when one comes online or reports another card)'),
      },
      { default: {}, description: 'scheduled downloads (EU 165/2014: driver cards every 28 days, vehicle units every 90)' },
    ),
  },
  { default: {}, description: 'tachograph files: reading them, scheduled downloads, company card access (see "Tachograph download")' },
);

export const CredentialsSchema = obj(
  {
    dir: Type.String({ minLength: 1, default: './data/credentials', description: '{dir}/channel-{id}.log: codes the server issued to devices (JT/T 808 auth codes)', 'x-expected': 'a directory path', 'x-env': true }),
    fsync: Type.Boolean({ default: true, description: 'fdatasync an issued code before the reply that carries it is written' }),
  },
  { default: {}, description: 'device credentials the server issues and checks (decode effects "credential-issue"/"credential-check")' },
);

export const CommandsSchema = obj(
  {
    dir: Type.String({ minLength: 1, default: CD.dir, description: 'the durable command store', 'x-expected': 'a directory path', 'x-env': true }),
    fsync: Type.Boolean({ default: CD.fsync, description: 'fdatasync every store write before it counts' }),
    default_ttl_s: int(1, 365 * 86400, CD.default_ttl_s, 'ttl of a request that gives none, seconds'),
    max_ttl_s: int(1, 365 * 86400, CD.max_ttl_s, 'largest ttl allowed, seconds'),
    default_timeout_s: int(1, 86400, CD.default_timeout_s, 'wait for the reply of a request that gives no timeout, seconds'),
    max_timeout_s: int(1, 86400, CD.max_timeout_s, 'largest timeout allowed, seconds'),
    max_attempts: int(1, 1000, CD.max_attempts, 'writes of one command (reconnects in between) before executed: false'),
    max_queued_per_device: int(1, 1_000_000, CD.max_queued_per_device, 'commands held per device; beyond it requests are rejected'),
    max_meta_bytes: int(2, 1024 * 1024, CD.max_meta_bytes, 'meta: UTF-8 bytes of its JSON text as sent'),
    max_meta_depth: int(1, 256, CD.max_meta_depth, 'meta: nesting depth (the object itself is 1)'),
    share_group: Type.String({
      pattern: '^$|^[A-Za-z0-9_.-]+$',
      default: CD.share_group,
      description: 'with redis_url: take command requests through the shared subscription $share/{group}/... so one instance gets each (Mosquitto, EMQX, HiveMQ, VerneMQ; not the embedded broker); empty = every instance gets each and Redis admits it once',
      'x-expected': 'a group name of letters, digits, "_", "-", "." or empty',
    }),
  },
  { default: {}, description: 'device commands over MQTT (see "Device commands")' },
);

export const AssetSchema = obj(
  {
    // flespi's asset ids are numbers: an integer is accepted as well and published as a number
    id: Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })], {
      description: 'asset id (an integer, or 1-64 letters, digits, "_", "-", "."); a topic level ({root}/state/gw/assets/{id}/active)',
      'x-expected': 'an integer, or 1-64 letters, digits, "_", "-", "."',
    }),
    name: Type.String({ maxLength: 256, description: 'shown in messages as asset.<type>.name' }),
    type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: 'driver | trailer | vehicle | a custom lower-case word (asset.<type>.*)', 'x-expected': 'a lower-case word such as driver' }),
    match: Type.Optional(
      obj(
        {
          parameter: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$', description: 'message parameter, e.g. tacho.fms.driver.id.1 or ibutton.code' }),
          value: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Number(), Type.Boolean()], { description: 'the value that identifies this asset (compared as text)' }),
        },
        { description: 'automatic assignment: a device whose message carries parameter = value gets the asset' },
      ),
    ),
  },
  { description: 'one asset' },
);

export const AssetSettingsSchema = obj(
  {
    dir: Type.String({ minLength: 1, default: './data/assets', description: 'the durable asset store (one file per asset); not used with redis_url (timelines in Redis)', 'x-expected': 'a directory path', 'x-env': true }),
    fsync: Type.Boolean({ default: true, description: 'fdatasync every store write before it counts (and before the frame that caused it is acknowledged)' }),
    absence_grace_s: int(0, 7 * 86400, 60, 'an automatic interval closes when its value is absent this long (device time), at the first message without it; 0 = at once'),
    max_late_s: int(60, 10 * 365 * 86400, 30 * 86400, 'records older than this (device time vs server time) do not move intervals: a wrong device clock must not write years into a timeline'),
    max_future_s: int(0, 86400, 300, 'records this far ahead of server time do not move intervals'),
    max_intervals: int(10, 1_000_000, 1000, 'closed intervals kept per asset; older ones are dropped'),
    max_meta_bytes: int(2, 65536, 8192, 'meta of a manual interval: UTF-8 bytes of its JSON text'),
    redis_prefix: Type.String({
      default: '',
      description: 'with redis_url: key prefix of the shared timelines (instances with the same prefix share them); empty = {redis_prefix}{<mqtt.topic_root>}:assets:',
      'x-expected': 'a Redis key prefix or empty',
      'x-env': true,
    }),
  },
  { default: {}, description: 'asset timelines (see "Assets")' },
);

export const HttpSchema = obj(
  {
    host: host('127.0.0.1', 'interface to bind; 127.0.0.1 keeps it private to the machine'),
    port: port('port of /healthz, /readyz, /metrics and the API; null = no listener; 0 = ephemeral'),
    tokens: Type.Optional(
      Type.String({
        description: 'the API\'s bearer tokens, whitespace-separated "read:<token>" / "full:<token>" (16..512 URL-safe characters each); absent = no API, health and metrics only',
        'x-env': true,
        'x-secret': true,
      }),
    ),
    tokens_file: secretFile('tokens'),
    public_url: Type.String({ default: '', description: 'base of the signed media links in media messages (e.g. https://edge.example.com:8443); "" = http://{host}:{port} of this listener' }),
    link_key: Type.Optional(Type.String({ description: 'HMAC key (16 characters or more) of the signed media links (changing it revokes every link); absent = one generated once and kept in media.dir/.link-key', 'x-env': true, 'x-secret': true })),
    link_key_file: secretFile('link_key'),
    link_ttl_s: int(0, 10 * 365 * 86400, 0, 'lifetime of a signed media link, s; 0 = links do not expire'),
    max_properties_bytes: int(2, 65536, 4096, 'largest user properties object a stored file may carry (JSON bytes)'),
  },
  { default: {}, description: 'the optional HTTP listener: health checks, Prometheus metrics and, with tokens, the HTTP API (off by default)' },
);

export const ConfigSchema = obj(
  {
    // no default here: it is the host name, filled by validate.ts (generated docs must not depend on the machine)
    instance_id: Type.Optional(
      Type.String({
        pattern: '^$|^[A-Za-z0-9_.-]+$',
        description: 'who this process is: MQTT client id suffix, spool lock owner, {root}/state/gw/instances/{instance_id}; "" or absent = the host name',
        'x-expected': 'an instance id of letters, digits, "_", "-", "." (it becomes a topic level and the MQTT client id)',
        'x-env': true,
      }),
    ),
    log_level: Type.Union(
      LOG_LEVELS.map((l) => Type.Literal(l)),
      { default: 'info', description: 'fatal | error | warn | info | debug | trace | silent', 'x-env': true, 'x-live': true },
    ),
    mqtt: MqttSchema,
    pool: PoolSchema,
    spool: SpoolSchema,
    media: MediaSchema,
    tacho: TachoSchema,
    video: VideoSchema,
    commands: CommandsSchema,
    credentials: CredentialsSchema,
    assets: Type.Array(AssetSchema, {
      default: [],
      description: 'drivers, trailers, vehicles… linked to devices over time (see "Assets"); more can be created over MQTT',
      examples: [{ id: 'drv-17', name: 'Anna Berg', type: 'driver', match: { parameter: 'tacho.fms.driver.id.1', value: '1234567890123456' } }],
    }),
    asset_settings: AssetSettingsSchema,
    channels: Type.Array(ChannelSchema, {
      minItems: 1,
      default: [{ id: 1, protocol: 'ruptela', tcp_port: 5046 }],
      description: 'one protocol per channel, many channels per process',
      'x-expected': 'a non-empty list of channels',
    }),
    redis_url: Type.String({
      pattern: '^$|^rediss?://.+',
      default: '',
      description: 'e.g. redis://127.0.0.1:6379: several instances as one channel (shared UDP limits, command queue, device ownership, asset timelines, connection counts; see "Deployment")',
      'x-expected': 'a redis:// URL or empty',
      'x-env': true,
      'x-secret': true,
    }),
    redis_url_file: secretFile('redis_url'),
    redis_prefix: Type.String({ pattern: '^[A-Za-z0-9_.:{}-]+$', default: 'edge-channel:', description: 'prefix of every Redis key the instances share (one deployment, one prefix)', 'x-expected': 'letters, digits and _ . : { } -' }),
    device_lease_s: int(2, 3600, 30, 'with redis_url: lease of the Redis key saying which instance holds a device; renewed every third of it; a crashed instance\'s devices are free after it, and its connections leave the channel\'s connections_count'),
    // one process per core of the box (src/processes/): each a full runtime on the same ports, sharing through Redis
    processes: Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], {
      default: 1,
      description: 'processes serving the channels on this box, each a full runtime on the same ports (README "Every core of one box"); "auto" = one per core; above 1 needs redis_url and an external broker (mqtt.url)',
      'x-expected': 'an integer 1..256 or "auto"',
      'x-env': true,
    }),
    processes_balance: Type.Union([Type.Literal('auto'), Type.Literal('reuseport'), Type.Literal('primary')], {
      default: 'auto',
      description: 'with processes above 1: reuseport = each process binds the ports itself and the kernel spreads TCP connections and UDP sources (Node 22.12+ on Linux); primary = the cluster primary accepts TCP connections and hands them out round-robin, UDP is served by process 0 only; auto = reuseport where Node and the OS have it',
    }),
    stats_interval_s: int(1, 86400, 60, 'aggregated drops / counters / warnings are published this often'),
    shutdown_timeout_s: int(0, 3600, 10, 'graceful stop: time allowed to finish in-flight frames'),
    http: HttpSchema,
  },
  { title: 'edge-channel configuration' },
);

/** The file's shape after defaults; validate.ts turns it into EdgeConfig (ids as strings, names filled). */
export type RawConfig = Static<typeof ConfigSchema>;

export type TlsConfig = Static<typeof TlsSchema>;
export type MqttConfig = Omit<Static<typeof MqttSchema>, 'password_file'>;
export type PoolConfig = Static<typeof PoolSchema>;
export type SpoolConfig = Static<typeof SpoolSchema>;
export type HttpConfig = Omit<Static<typeof HttpSchema>, 'tokens_file' | 'link_key_file'>;
export type MediaConfig = Static<typeof MediaSchema>;
export type TachoConfig = Static<typeof TachoSchema>;
export type VideoConfig = Static<typeof VideoSchema>;
export type CommandsConfig = Static<typeof CommandsSchema>;
export type AssetConfig = Static<typeof AssetSchema>;
export type AssetSettingsConfig = Static<typeof AssetSettingsSchema>;
export type ChannelConfig = Omit<Static<typeof ChannelSchema>, 'id' | 'name' | 'parts'> & {
  id: string;
  name: string;
  parts: Record<string, { tcp_port: number | null; udp_port: number | null; advertise_host?: string | null }>;
};
/** An asset of the config file with its id as text (an integer id keeps its digits; payloads publish it as a number). */
export type DeclaredAssetConfig = Omit<AssetConfig, 'id'> & { id: string };
export type EdgeConfig = Omit<RawConfig, 'mqtt' | 'channels' | 'redis_url_file' | 'instance_id' | 'assets' | 'http'> & { mqtt: MqttConfig; http: HttpConfig; channels: ChannelConfig[]; instance_id: string; assets: DeclaredAssetConfig[] };
