/**
 * One table of stable error codes. Every code here is listed in README.md under "Error codes"
 * (src/errors.test.ts keeps the two equal). Codes are part of the public interface: they appear
 * in log topics, CLI output and exit paths, so never rename one; add a new code instead.
 */
export const ERROR_CODES = {
  // framing (main thread)
  EDGE_FRAME_LENGTH: 'The frame length field holds a value the protocol cannot have; the stream cannot be resynchronised.',
  EDGE_FRAME_TOO_LARGE: 'More bytes are buffered than the protocol maximum frame size without a complete frame.',
  EDGE_FRAME_GARBAGE: 'Too many bytes were skipped while looking for a frame start.',
  // decoding (worker)
  EDGE_DECODE_CHECKSUM: 'The frame checksum (CRC/XOR) does not match its content.',
  EDGE_DECODE_TRUNCATED: 'The frame ends before a field it announces.',
  EDGE_DECODE_INVALID: 'A field holds a value the protocol does not allow.',
  EDGE_DECODE_TRAILING: 'Bytes are left over after the last field the frame announces.',
  EDGE_DECODE_PARTIAL: 'A split record group is incomplete inside its frame; the parts present are published as one message (warning).',
  EDGE_DECODE_UNSUPPORTED: 'The frame is valid but this protocol part is not decoded yet; it is logged, not acknowledged.',
  EDGE_DECODE_INTERNAL: 'The decoder failed unexpectedly (a bug): the frame is not acknowledged.',
  // commands (encoder)
  EDGE_COMMAND_UNKNOWN: 'The protocol has no command of that name.',
  EDGE_COMMAND_INVALID: 'A command property is missing or has the wrong form.',
  // device commands over MQTT (src/commands/): codes carried by rejected and processed events
  EDGE_COMMAND_MALFORMED: 'A command request or cancel payload is not a UTF-8 JSON object, or a top-level field has the wrong form.',
  EDGE_COMMAND_CHANNEL_UNKNOWN: 'A command was addressed to a channel this server does not run, or to an ident that cannot be a device ident.',
  EDGE_COMMAND_QUEUE_FULL: 'The device already holds commands.max_queued_per_device commands; the request was rejected.',
  EDGE_COMMAND_DUPLICATE: 'A command request repeated the id of a command still held or ended within the last 10 minutes; it was not queued again (`first_status` says where the first one stands).',
  EDGE_COMMAND_NOT_FOUND: 'A cancel named a command id that is not queued or sent for that device.',
  EDGE_COMMAND_TIMEOUT: 'The device did not answer a sent command within its timeout; the command ended with executed false.',
  EDGE_COMMAND_ATTEMPTS: 'The command was written commands.max_attempts times without a reply (the connection closed each time); it ended with executed false.',
  EDGE_COMMAND_FAILED: 'The device answered that it did not execute the command.',
  EDGE_COMMAND_STORE_FAILED: 'The durable command store could not write or sync; the request was rejected (or the change is kept in memory only).',
  EDGE_COMMAND_STORE_CORRUPT: 'Command store recovery found bytes that are not a valid record (torn tail after a crash, or damage); they were dropped.',
  // credentials the server issues to devices (src/credentials/)
  EDGE_CREDENTIAL_STORE_FAILED: 'The credential store could not open, write or sync (or none is configured); the frame that issued or checked a device credential was not acknowledged.',
  EDGE_CREDENTIAL_STORE_CORRUPT: 'Credential store recovery found bytes that are not a valid record (torn tail after a crash, or damage); they were dropped (those devices register again).',
  EDGE_ASSET_STORE_FAILED: 'The asset store could not read, write or sync; the change is refused (a frame is not acknowledged, a request is rejected).',
  EDGE_ASSET_CHANNEL_UNKNOWN: 'An asset management request assigned an asset to a channel this server does not run; nothing was applied.',
  EDGE_ASSET_REQUEST_INVALID: 'An asset management request was rejected (malformed, unknown asset, overlapping or inverted interval); nothing of it was applied.',
  // configuration and start-up
  EDGE_CONFIG_FILE: 'The configuration file cannot be read or parsed.',
  EDGE_CONFIG_INVALID: 'A configuration key is missing or has the wrong form.',
  EDGE_PROTOCOL_UNKNOWN: 'No protocol with that id is registered.',
  EDGE_PORT_IN_USE: 'A listener or the embedded broker could not bind its port.',
  EDGE_MQTT_UNREACHABLE: 'The MQTT broker cannot be reached.',
  // several processes on one box (config processes, src/processes/)
  EDGE_PROCESS_EXITED: 'A process of `processes` exited without being asked to (a crash, a kill); the primary starts it again after a wait that doubles with each exit (0.5 s up to 30 s), and its devices reconnect to the other processes meanwhile.',
  EDGE_METRICS_UNAVAILABLE: 'With `processes` above 1, `/metrics` (served by process 0) could not collect every process\'s figures from the primary in time; it answers 500 rather than one process\'s figures as the box\'s.',
  EDGE_PROCESSES_UNANSWERED: 'With `processes` above 1, process 0 could not ask the other processes through the primary (no IPC channel, or the primary did not answer); the API answers 503 rather than one process\'s view as the box\'s.',
  EDGE_PROCESS_CRASH_LOOP: 'A process of `processes` died 5 times within a minute, or could not start at all (exit status 2: its own log line says why); the primary stopped every process and exited with status 1 (2 for a start failure).',
  // runtime
  EDGE_CONNECTION_LIMIT: 'The channel reached max_connections; the new connection was closed.',
  EDGE_IDLE_TIMEOUT: 'The connection sent nothing for idle_timeout_s and was closed.',
  EDGE_OUTBOUND_OVERFLOW: 'The peer does not read: its unsent replies exceeded twice max_outbound_bytes and the connection was closed.',
  EDGE_FRAME_TIMEOUT: 'A frame that had started was not complete within frame_timeout_s; the connection was closed.',
  EDGE_IDENT_CHURN: 'One connection changed its ident more than 100 times; the connection was closed.',
  EDGE_PROXY_HEADER: 'A channel with proxy_protocol got a connection from an address outside trusted_proxies, or whose PROXY header was missing, malformed or not complete within proxy_header_timeout_s; it was closed before any frame was read.',
  EDGE_MEDIA_WRITE_FAILED: 'A file piece a device uploaded could not be stored (no media store, disk error); its frame was not acknowledged.',
  EDGE_UPLOAD_REFUSED: 'An upload frame was refused (unknown alarm number, too many files or bytes, a chunk outside its file, a file not in the list); it was not acknowledged and the connection closed.',
  EDGE_UPLOAD_INCOMPLETE: 'An upload ended (timeout, dropped) before every file arrived; its message lists what was stored and the reason (warning).',
  EDGE_MEDIA_TOO_LARGE: 'An uploaded file would grow past media.max_file_bytes; the piece was not stored and its frame was not acknowledged.',
  EDGE_HTTP_BAD_REQUEST: 'An HTTP API request had bad input (an unknown filter, a malformed time or number, a body that is not the expected JSON, properties too large); 400 with the reason.',
  EDGE_HTTP_UNAUTHORIZED: 'An HTTP API request came without a bearer token, or with one that is not in http.tokens; 401.',
  EDGE_HTTP_FORBIDDEN: 'A signed media link was not valid or had expired, or a read-scope token asked for a change; 403.',
  EDGE_HTTP_NOT_FOUND: 'An HTTP API route or a stored file id does not exist (an id can only name a file in the media folder); 404.',
  EDGE_HTTP_RANGE: 'A Range request starts past the end of the file; 416 with Content-Range: bytes */size.',
  EDGE_HTTP_INTERNAL: 'The HTTP API failed on the server side (a disk error reading or changing a file); 500 with the cause.',
  EDGE_RELAY_TIMEOUT: 'An outside service (e.g. the tacho card bridge) did not answer a device\'s relay request in time; the command waiting for it ended with executed false.',
  EDGE_RELAY_REFUSED: 'A device asked an outside service for something it may not have now (a company-card request with no tachograph download pending and the device not on tacho.card_allow); not relayed, logged, and the device got the protocol\'s refusal.',
  EDGE_RELAY_FAILED: 'A relay answer could not be used (not JSON, no hex payload, an error reported by the service, or not encodable or sendable to the device); the command waiting for it ended with executed false.',
  EDGE_REASSEMBLY_DROPPED: 'A message split over several frames was dropped unfinished (too large, too old, or an invalid part number) (warning).',
  EDGE_DEVICE_OFFLINE: 'No connection of the channel serves that device ident right now.',
  EDGE_PUBLISH_FAILED: 'A message could not be published; its frame was not acknowledged.',
  // reliability (circuit breaker and spool)
  EDGE_PUBLISH_TIMEOUT: 'No PUBACK arrived within spool.publish_timeout_ms; the message goes to the spool and the circuit breaker opens.',
  EDGE_BREAKER_OPEN: 'The circuit breaker around the MQTT broker opened: messages are written to the local spool until a probe succeeds.',
  EDGE_SPOOL_WRITE_FAILED: 'The spool cannot write or sync to disk (disk full, read-only, not a directory); frames needing the spool are not acknowledged.',
  EDGE_SPOOL_FULL: 'The spool reached spool.max_bytes; frames are not acknowledged and device sockets pause until the broker drains it.',
  EDGE_SPOOL_CORRUPT: 'Spool recovery found bytes that are not a valid record (torn tail after a crash, or damage); they were cut off or skipped.',
  EDGE_SPOOL_LOCKED: 'Another live process holds the spool directory lock; this process runs without a spool.',
  EDGE_CAPTURE_WRITE_FAILED: 'Traffic capture rows could not be written (disk full, read-only, not a directory); they are counted and lost, device traffic goes on.',
  EDGE_CLI_USAGE: 'The command line is malformed.',
  // tachograph download files (src/tacho/ddd/): the offset is the absolute byte offset in the file
  EDGE_DDD_TRUNCATED: 'A tachograph download file (.ddd) ends inside a structure it announces (a TLV object, a transfer, a record list).',
  EDGE_DDD_INVALID: 'A tachograph download file (.ddd) holds a value its format does not allow (unknown file kind or transfer, a length or pointer out of range, a broken activity ring).',
  // JT/T 1078 media streams (protocols/jt808/stream/, src/video/, src/media/transcoder.ts)
  EDGE_STREAM_FRAME_DROPPED: 'A JT/T 1078 media frame was dropped instead of being passed on (a lost or late sub-package, a frame over the size limit, too many streams, video waiting for the next I-frame); counted with the reason (warning).',
  EDGE_STREAM_ENDED: "A live stream ended (stopped for idleness or its maximum duration, the camera hung up, or the server stopped); its viewers' responses end with it.",
  EDGE_STREAM_LIMIT: 'A live stream already has video.max_viewers viewers; the new viewer is refused.',
  EDGE_STREAM_TIMEOUT: 'A live request got no picture from the camera within video.start_timeout_s (the camera did not connect to the stream port, or sent no keyframe).',
  EDGE_STREAM_UNSUPPORTED: 'The camera streams a video codec that is not played (only H.264, and H.265 through ffmpeg), or the channel has no stream server for a live request.',
  EDGE_STREAM_INCOMPLETE: 'A recorded clip (playback_video to this server) did not arrive whole: the camera stopped before the requested end, sent no playable frame, or the clip passed video.max_clip_bytes; nothing is stored as complete and the command ends executed false.',
  EDGE_VIEWER_TOO_SLOW: 'A live viewer did not take its video (more than video.viewer_buffer_bytes queued); that viewer is dropped, the stream and other viewers go on.',
  EDGE_TRANSCODER_UNAVAILABLE: 'ffmpeg was not found or does not run; streams that need transcoding for a browser (H.265 video, G.711/G.726 audio) cannot be converted.',
  EDGE_TRANSCODER_FAILED: 'The ffmpeg transcoder process exited or was killed, or its input backlog passed its bound; the stream it served stops.',
  // video remuxing (src/video/fmp4/)
  EDGE_VIDEO_AVC_INVALID: 'An H.264 access unit cannot be remuxed to MP4: no Annex B start code, a NAL unit with its forbidden bit set, a parameter set (SPS/PPS) that does not parse or that MP4 cannot carry, or a clip with no frame after its first SPS, PPS and keyframe.',
  EDGE_VIDEO_CLIP_CHANGE: 'A recorded clip changes its H.264 parameter sets (resolution) midway; one MP4 file holds one, so the clip must be split at the frame the reason names.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Plain-data form of an error: what crosses the worker boundary and what logs carry. */
export interface ErrorInfo {
  code: ErrorCode;
  reason: string;
  /** Byte offset inside the frame where decoding failed, when known. */
  offset?: number;
}

/**
 * A typed error with a stable code. Structured clone drops custom fields of Error subclasses,
 * so anything that crosses a worker boundary is sent as `toInfo()` and rebuilt with `fromInfo`.
 */
export class EdgeError extends Error {
  readonly code: ErrorCode;
  readonly offset: number | undefined;

  constructor(code: ErrorCode, reason: string, offset?: number) {
    super(offset === undefined ? `${code}: ${reason}` : `${code} at byte ${offset}: ${reason}`);
    this.name = 'EdgeError';
    this.code = code;
    this.offset = offset;
  }

  get reason(): string {
    const prefix = this.offset === undefined ? `${this.code}: ` : `${this.code} at byte ${this.offset}: `;
    return this.message.slice(prefix.length);
  }

  toInfo(): ErrorInfo {
    return this.offset === undefined ? { code: this.code, reason: this.reason } : { code: this.code, reason: this.reason, offset: this.offset };
  }

  static fromInfo(info: ErrorInfo): EdgeError {
    return new EdgeError(info.code, info.reason, info.offset);
  }
}

/** Any thrown value as ErrorInfo: typed errors keep their code, anything else is a decoder bug. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof EdgeError) return e.toInfo();
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { code: 'EDGE_DECODE_INTERNAL', reason };
}
