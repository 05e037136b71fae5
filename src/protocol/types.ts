/**
 * The contract every protocol module implements (ARCHITECTURE.md §3). A protocol is a folder
 * `protocols/<id>/` whose index.ts default-exports a `ProtocolModule`. Everything in here is pure:
 * bytes and plain data in, bytes and plain data out — no sockets, clock, logger or globals — so the
 * same code runs in the worker pool, in tests, in the CLI and in benchmarks.
 */
import type { ErrorCode, ErrorInfo } from '../errors.js';
import type { OptionSpecs } from './options.js';

export type Transport = 'tcp' | 'udp';

/** A published value. 64-bit integers that exceed 2^53 are strings; bytes are lower-case hex strings. */
export type MessageValue = string | number | boolean | null;

/** One flat flespi-style message: dotted lower-case names, units fixed by name. */
export type Message = Record<string, MessageValue>;

/**
 * Per-connection state the main thread keeps between frames and hands to every decode. Plain JSON
 * data only, and small: it is cached in each worker and re-sent only when it changes. Bulky state
 * (multi-frame reassembly, file uploads) belongs in effects, which the runtime keeps on the main thread.
 */
export interface SessionState {
  /** The device identifier once known (IMEI, serial, phone number ...). */
  ident?: string;
  [key: string]: unknown;
}

export interface DecodeContext {
  transport: Transport;
  session: Readonly<SessionState>;
  /** Server receive time of the frame, Unix milliseconds. Passed in so the decoder stays clock-free. */
  receivedAtMs: number;
  /** The channel's protocol options (already validated against the module's defaults). */
  options: Readonly<Record<string, unknown>>;
  /** True when the frame is the concatenation of parts the decoder asked to reassemble. */
  reassembled?: boolean;
  /**
   * Random hex digits the runtime draws once per connection, for protocols whose server issues a
   * secret (JT/T 808 auth codes): the decoder stays free of randomness and a re-sent request on the
   * same connection gets the same value. Absent outside the runtime (CLI decode, conformance tests).
   */
  nonce?: string;
}

/** A non-fatal finding worth logging (never one per packet on a hot path: the runtime aggregates). */
export interface DecodeWarning {
  code: ErrorCode;
  reason: string;
}

/**
 * A device reply to a server command, for the command queue to match. `replyKey` equals the
 * `replyKey` the encoder returned for the command (e.g. "ruptela:17"), which is how protocols
 * without sequence numbers are correlated: FIFO per device and reply key.
 */
export interface CommandReply {
  replyKey: string;
  executed: boolean;
  response: MessageValue;
}

/**
 * Work a decoder asks the runtime to do on the main thread for a frame, besides publishing its
 * messages and writing its replies (ARCHITECTURE.md "Decode effects"). The frame's replies are written
 * only once every durable effect of it (file chunks) is done, as for its messages' PUBACKs.
 *   - `server-frame`: bytes the server sends on its own initiative (e.g. a request that follows an
 *     alarm), written right after this frame's replies, never inside another frame's ACK sequence.
 *   - `file-chunk`: bytes of a file the device uploads in pieces (tacho DDD, photos), stored by the
 *     media store under `key` at `offset`; `final` marks the last piece (the store then announces it).
 *   - `reassemble`: one part of a message the protocol splits over several frames; the runtime keeps
 *     the parts per connection (bounded in bytes and time) and, once all `count` are there, decodes
 *     their concatenation as a frame of its own with `DecodeContext.reassembled` set. With `resend`
 *     and the part's `resendRequest`, the runtime asks the device for parts that did not come.
 *   - `credential-issue` / `credential-check`: a secret the server gives a device (JT/T 808 auth
 *     code), remembered per channel and ident by the runtime's durable credential store.
 */
export type DecodeEffect =
  | { kind: 'server-frame'; bytes: Uint8Array }
  | FileChunkEffect
  | ReassembleEffect
  | CredentialIssueEffect
  | CredentialCheckEffect
  | RelayEffect
  | { kind: 'upload'; upload: UploadOp };

/**
 * A file upload the runtime tracks on the main thread across frames and connections (alarm
 * attachments, ARCHITECTURE.md "Uploads"): which uploads a device was invited to, which files they
 * hold, which byte ranges of each arrived. Decoders stay pure: they say what a frame means, the
 * runtime keeps the state, stores the bytes and answers with frames the protocol encodes.
 *   - `expect` (main link): the server invited the device to upload under `key` (e.g. the 0x9208 alarm
 *     number); `meta` goes into the message that links the stored files. Unknown keys are rejected later.
 *   - `open` (upload link): the link uploads `key` with these files (a second `open` of the same key
 *     resumes it: ranges that arrived before stay).
 *   - `file`: what one file is (kind, size) before its bytes come.
 *   - `piece`: bytes of a file at an offset (stored by the media store before the frame's ACK).
 *   - `check`: the device says a file is sent; the runtime adds `missing` (an array of [offset, length])
 *     to `reply.properties`, has the protocol encode `reply` and writes it as the frame's reply.
 */
export type UploadOp =
  | { op: 'expect'; key: string; meta: Record<string, MessageValue> }
  | { op: 'open'; key: string; files: { name: string; size: number }[]; meta: Record<string, MessageValue> }
  | { op: 'file'; name: string; kind: MediaKind; size: number }
  | { op: 'piece'; name: string; offset: number; bytes: Uint8Array }
  | { op: 'check'; name: string; reply: CommandRequest };

/**
 * One part of a multi-frame message. `index` is 0-based, `count` the number of parts; parts are joined
 * in index order. `resend`: bytes the decoder chooses (e.g. the part's header) from which the part's
 * `resendRequest` builds a request for missing parts; the runtime keeps the one of the lowest index
 * received. The runtime asks (1) when the part it waits for last arrives and parts are missing: the
 * highest index at first, after a request the highest index it asked for; (2) when no part came for
 * `reassembly.resend_after_s`; at most `reassembly.max_resend_requests` times per message.
 */
export interface ReassembleEffect {
  kind: 'reassemble';
  key: string;
  index: number;
  count: number;
  bytes: Uint8Array;
  resend?: Uint8Array;
}

/**
 * The frame gave the device `code` (e.g. in a registration answer): the runtime stores it for the
 * frame's ident, durably (synced) before the frame's replies are written, replacing an earlier one.
 */
export interface CredentialIssueEffect {
  kind: 'credential-issue';
  code: string;
}

/**
 * The frame presents `code` (e.g. an authentication): the runtime compares it with the code stored
 * for the frame's ident and writes `accepted` or `rejected` in place of the frame's replies; with
 * `field`, every message of the frame gets `field: true|false` (the result). No stored code = rejected.
 */
export interface CredentialCheckEffect {
  kind: 'credential-check';
  code: string;
  accepted: Uint8Array[];
  rejected: Uint8Array[];
  field?: string;
  /**
   * Merged into the connection's session when the check passes (e.g. `{ authenticated: true }`),
   * so the protocol's `commandsReady` can tell that the device may now receive commands.
   */
  acceptedSession?: Partial<SessionState>;
  /**
   * Migration mode: a code that is not the one on record (or none is) is accepted anyway and
   * recorded as the device's (durably, before the accepting reply); `field` still says whether it
   * was the code on record.
   */
  acceptAny?: boolean;
}

/**
 * `relay`: the device asks an outside service (e.g. the card bridge that holds a tachograph company
 * card) something only that service can answer. The runtime publishes `request` as JSON on the
 * service's request topic (QoS 1, part of the frame's durable work) and, when `answer` is set, waits
 * `answer.timeoutMs` for the service's answer, which it encodes with the protocol command
 * `answer.command` (properties: `answer.properties` plus the answer's `payload`) and sends to the
 * device between frames (`Channel.send`). No answer in time: the device's in-flight command waiting
 * for `answer.replyKey` ends with executed false. `answer: null`: a notice, nothing comes back.
 */
export interface RelayEffect {
  kind: 'relay';
  service: string;
  request: Record<string, MessageValue>;
  /**
   * How the service's answer goes back to the device (null: a notice that expects none). `refusal`:
   * the hex payload the device gets instead when the runtime refuses to relay the request (a card
   * request with no download pending: README "Company card access"); absent: the device gets nothing.
   */
  answer: { command: string; properties: Record<string, MessageValue>; timeoutMs: number; replyKey: string; refusal?: string } | null;
}

/** What an uploaded file is: it names the stored file (`{kind}-{time}-{key}{ext}`) and its announcement. */
export type MediaKind = 'tacho' | 'image' | 'video' | 'audio' | 'file';

/**
 * A piece of a file the device uploads. `key` names the upload within the device (unique while it is
 * written); pieces land at `offset`, so a piece sent again lands on the same bytes. On the `final`
 * piece the store completes the file (sync, sha256, atomic rename) and, when `announce` is set, the
 * runtime publishes one message for the device with `meta` and the stored file's facts under that
 * prefix (`<announce>.file.id`, `.file.name`, `.size`, `.sha256`, `.path`), before the frame's ACK.
 */
export interface FileChunkEffect {
  kind: 'file-chunk';
  key: string;
  offset: number;
  bytes: Uint8Array;
  final: boolean;
  /** Read on the final piece: what the file is (default kind `file`). */
  file?: { kind: MediaKind; name?: string };
  /** Message field prefix of the completion message, e.g. `media.tacho` or `media.image.1`; absent: no message. */
  announce?: string;
  /** Decoder-chosen fields published with the completion message (e.g. the alarm the file belongs to). */
  meta?: Record<string, MessageValue>;
}

export interface DecodeResult {
  /** Messages in device order. `ident` and `timestamp` are set by the decoder; the runtime adds the envelope. */
  messages: Message[];
  /**
   * Bytes to send back, in order. The runtime writes them only after every message of this frame
   * is confirmed by the broker (or spooled); a frame that throws gets no reply.
   */
  replies: Uint8Array[];
  /** Keys to merge into the connection's session (e.g. the ident learned at identification). */
  session?: Partial<SessionState>;
  warnings: DecodeWarning[];
  commandReplies?: CommandReply[];
  effects?: DecodeEffect[];
}

/**
 * `split` return values: > 0 a complete frame of that many bytes starts at `start`;
 * SPLIT_NEED_MORE = wait for more bytes; < 0 (but not SPLIT_INVALID) skip that many bytes
 * to resynchronise; SPLIT_INVALID = the stream cannot be resynchronised (close the connection).
 * A number rather than an object, because split runs for every frame on the main thread.
 */
export const SPLIT_NEED_MORE = 0;
export const SPLIT_INVALID = -0x7fffffff;

export interface CommandPropertySpec {
  type: 'string' | 'integer' | 'boolean' | 'hex';
  required: boolean;
  description: string;
  min?: number;
  max?: number;
}

export interface CommandSpec {
  name: string;
  description: string;
  properties: Record<string, CommandPropertySpec>;
  /** `null` when the device sends no reply (the command is done once written). */
  replyKey: string | null;
}

export interface CommandRequest {
  name: string;
  properties: Record<string, unknown>;
}

export interface EncodedCommand {
  bytes: Uint8Array;
  /** What reply closes the command; null: written = done. */
  replyKey: string | null;
  /**
   * A second stage: when the device accepts (`replyKey` answered with executed true), the command is
   * not done yet but waits for this runtime reply key, e.g. `media:image` (the photo a take_photo
   * makes is stored) or `stream:playback` (the clip a playback_video streams is recorded). A refusal
   * still ends it at the first stage.
   */
  then?: string;
}

/**
 * The frame-level part of a protocol: how a byte stream is cut into frames and how a frame is
 * decoded. A module is one part (its main listener) and may declare more (`parts`).
 */
export interface FramePart {
  transports: readonly Transport[];
  /** Largest frame the part allows; the framer closes a connection buffering more without a frame. */
  maxFrameBytes: number;
  /** TCP splitter (main thread). Must not allocate, throw or keep state. */
  split(buf: Uint8Array, start: number, end: number): number;
  /** Why split returned SPLIT_INVALID (cold path, for the log and the CLI). */
  explainInvalid(buf: Uint8Array, start: number, end: number): ErrorInfo;
  /** Worker side. Throws EdgeError (code + offset) on bad input. */
  decode(frame: Uint8Array, ctx: DecodeContext): DecodeResult;
  /**
   * Optional, main thread (rare, small): the frame asking the device to send parts of a multi-frame
   * message again. `context` is a `reassemble` effect's `resend` bytes (of the lowest part received),
   * `missing` the 0-based indices of the parts not received, `count` the number of parts. Pure; null
   * when no request can be built (the message then waits for its parts or its age bound).
   */
  resendRequest?(context: Uint8Array, missing: readonly number[], count: number, session: Readonly<SessionState>): Uint8Array | null;
}

/**
 * A further listener of a protocol family, e.g. a dashcam's attachment server beside its main port:
 * its own framing and decoder, sharing the channel's ident table, message sink and media store.
 * A channel opens it when its config names a port for it (`channels[i].parts.<id>`).
 */
export interface ProtocolPart extends FramePart {
  /** Lower-case id, unique in the module; the config key and the listener's name in logs. */
  id: string;
  title: string;
  defaultPorts: { tcp?: number; udp?: number };
}

export interface ProtocolModule extends FramePart {
  /** Folder name and `protocol.id` in messages, e.g. "ruptela". */
  id: string;
  title: string;
  defaultPorts: { tcp?: number; udp?: number };
  /**
   * Every option the protocol reads (`channels[i].options`), with type, default and bounds: a
   * channel's options are validated against these before anything starts (unknown keys are errors).
   */
  options: OptionSpecs;
  /** The options' defaults, `optionDefaults(options)` (src/protocol/options.ts); the conformance suite checks they agree. */
  defaultOptions: Readonly<Record<string, unknown>>;
  /** Further listeners of the family (none for most protocols). */
  parts?: readonly ProtocolPart[];
  /**
   * The decoder emits `credential-issue` / `credential-check` effects (JT/T 808 auth codes): the
   * runtime opens its durable credential store (config `credentials`) for this protocol's channels.
   */
  usesCredentials?: boolean;
  /**
   * Optional: whether an identified connection may receive commands yet, from its session (pure).
   * Absent: as soon as it is identified. JT/T 808 terminals ignore commands until their
   * authentication was answered, so that protocol waits for it; a queued command is not spent on
   * a terminal that cannot take it.
   */
  commandsReady?(session: Readonly<SessionState>): boolean;
  commands: readonly CommandSpec[];
  /** Worker side. Throws EdgeError EDGE_COMMAND_UNKNOWN / EDGE_COMMAND_INVALID. */
  encode(command: CommandRequest, session: Readonly<SessionState>): EncodedCommand;
  /**
   * Inverse of encode for server frames (used by the conformance mirror test and the CLI):
   * bytes of a server command back to the CommandRequest. Throws EdgeError on bytes it cannot read.
   */
  parseCommand(bytes: Uint8Array): CommandRequest;
  /**
   * Optional, for simulators (replay, benches): the same frame as sent by another device, i.e.
   * with `ident` written in and checksums recomputed. Returns the frame unchanged when it
   * carries no ident.
   */
  rewriteIdent?(frame: Uint8Array, ident: string): Uint8Array;
  /**
   * Optional, for `edge-channel replay` of scripted sessions (`fixtures/sessions/*.json` naming one
   * by `"simulation"`): a simulated device that reacts to what the server sends (e.g. a dashcam that
   * uploads an alarm's files to the address 0x9208 names). The runtime gives it sockets (`io`); it
   * returns a JSON report with `ok`.
   */
  simulations?: Readonly<Record<string, Simulation>>;
  /**
   * Optional: the protocol's real-time media stream (JT/T 1078: cameras stream audio/video to a
   * server the main link names), cut on the main thread by the channel's stream listener (config
   * `stream_tcp_port`): video is too bulky and too long-lived for the decode pool.
   */
  mediaStream?: MediaStreamSpec;
  /**
   * Optional, for fuzzing: a copy of a (mutated) device frame with its length and checksum fields
   * recomputed, so mutations reach the body decoder instead of all failing the checksum.
   */
  resealFrame?(frame: Uint8Array): Uint8Array;
}

/** A TCP connection as a simulation sees it: write bytes, read the next frame the server sends. */
export interface SimSocket {
  write(bytes: Uint8Array): void;
  /** The next frame cut by `split` (a FramePart splitter), or null when closed or after `timeoutMs`. */
  nextFrame(split: FramePart['split'], timeoutMs: number): Promise<Uint8Array | null>;
  /** Waits until the written bytes left the process (before a deliberate drop). */
  drain(): Promise<void>;
  close(): void;
  readonly closed: boolean;
}

export interface SimulationIo {
  /** The server named by `--to`. */
  readonly target: { host: string; port: number };
  connect(host: string, port: number): Promise<SimSocket>;
  log(line: string): void;
  /** A file the session names (relative to the session file, or the project root), e.g. a video clip to stream. */
  readFile(path: string): Promise<Uint8Array>;
  /** Waits (a camera paces its frames in real time). */
  sleep(ms: number): Promise<void>;
}

export interface SimulationReport {
  ok: boolean;
  [key: string]: unknown;
}

export type Simulation = (params: Readonly<Record<string, unknown>>, io: SimulationIo) => Promise<SimulationReport>;

/** One media packet of a stream connection (JT/T 1078 layout), as the runtime's assembler reads it. */
export interface MediaStreamPacket {
  seq: number;
  /** The device's id in the stream (JT/T 1078: the SIM/phone field as hex digits). */
  sim: string;
  channel: number;
  payloadType: number;
  /** 0 I, 1 P, 2 B, 3 audio, 4 transparent. */
  dataType: number;
  /** 0 atomic, 1 first, 2 last, 3 middle. */
  subpackage: number;
  timestampMs: number | null;
  lastIFrameIntervalMs: number | null;
  lastFrameIntervalMs: number | null;
  body: Uint8Array;
}

/** One stream connection's cutter: bounded in memory; garbage is skipped and reported, never thrown. */
export interface MediaStreamCutter {
  push(chunk: Uint8Array): { packets: MediaStreamPacket[]; errors: Error[] };
  /** The connection closed: what is left is an incomplete packet. */
  end(): { packets: MediaStreamPacket[]; errors: Error[] };
  readonly buffered: number;
}

export interface MediaStreamSpec {
  cutter(): MediaStreamCutter;
  /** The device ident a stream's `sim` belongs to (the main link's ident). */
  identOf(sim: string): string;
}
