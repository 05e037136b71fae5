/**
 * Server → device commands (ref §5). Server frames have no IMEI:
 *
 * ```
 *  0      2     3                2+len   4+len
 *  | len  | cmd | payload        | CRC16 |      len = 1 + payload length, CRC-16/KERMIT over cmd+payload
 * ```
 *
 * The protocol has no sequence numbers: a reply is matched by command pair (ref §5.3) —
 * 102→2, 103→3, 104→4, 108→7, 117→17 — FIFO per device. 105 and 106 get no reply (done once written).
 * Configuration (102) and firmware control (104) lines are CR-LF terminated on the wire; encode
 * appends CR-LF when missing and parseCommand strips one, so the two stay inverse.
 */
import { EdgeError } from '../../src/errors.js';
import { fromHex, toHex } from '../../src/codec/hex.js';
import type { CommandRequest, CommandSpec, EncodedCommand, SessionState } from '../../src/protocol/types.js';
import { MAX_LEN, MIN_SERVER_LEN, SERVER_CMD } from './constants.js';
import { checkFrame, wrapFrame } from './frame.js';
import { apduAnswerFrame, ATR_MAX, ATR_MIN, readStart, startFrame, TACHO_SOURCE_BITS, TACHO_SUB_START, type TachoSource } from './tacho-frames.js';
import { CARD_ANSWER_COMMAND, TACHO_REPLY_KEY } from './tacho.js';

const U32_MAX = 0xffffffff;
const CRLF = '\r\n';

export const commands: readonly CommandSpec[] = [
  {
    name: 'configuration',
    description: 'Send one configuration line (cmd 102, e.g. "#cfg_start@"); CR-LF is appended when missing. The device answers cmd 2.',
    properties: { line: { type: 'string', required: true, description: 'ASCII configuration line' } },
    replyKey: 'ruptela:2',
  },
  {
    name: 'get_version',
    description: 'Request bootloader, firmware and hardware versions (cmd 103). The device answers cmd 3.',
    properties: {},
    replyKey: 'ruptela:3',
  },
  {
    name: 'firmware',
    description: 'Send a firmware-update control line (cmd 104, e.g. "|FU_STRT*"); CR-LF is appended when missing. The device answers cmd 4.',
    properties: { text: { type: 'string', required: true, description: 'ASCII firmware control line' } },
    replyKey: 'ruptela:4',
  },
  {
    name: 'set_connection',
    description: 'Point the device at another server (cmd 105), applied on its next connection. The device sends no reply.',
    properties: {
      host: { type: 'string', required: true, description: 'host name or IP address' },
      port: { type: 'integer', required: true, description: 'TCP/UDP port', min: 1, max: 65535 },
      protocol: { type: 'string', required: true, description: '"TCP" or "UDP"' },
    },
    replyKey: null,
  },
  {
    name: 'set_odometer',
    description: 'Set the device odometer (cmd 106, u32 raw value; the unit is device-defined [U]). The device sends no reply.',
    properties: { value: { type: 'integer', required: true, description: 'odometer value', min: 0, max: U32_MAX } },
    replyKey: null,
  },
  {
    name: 'text',
    description: 'Send an SMS-style text command over GPRS (cmd 108, e.g. "getio"). The device answers cmd 7 with text.',
    properties: { text: { type: 'string', required: true, description: 'ASCII command text, SMS password included if the device needs one' } },
    replyKey: 'ruptela:7',
  },
  {
    name: 'custom',
    description: 'Any SMS-style text (cmd 108, answered by cmd 7), or a raw server frame body (cmd byte + payload, hex; length and CRC are added) for operators who know their device; reply_cmd names the device command that answers it (none: done once written).',
    properties: {
      text: { type: 'string', required: false, description: 'ASCII text sent as cmd 108 (give text or data)' },
      data: { type: 'hex', required: false, description: 'cmd byte + payload, hex, 1..1019 bytes' },
      reply_cmd: { type: 'integer', required: false, description: 'device command id that answers the raw frame (e.g. 7)', min: 0, max: 255 },
    },
    replyKey: 'ruptela:7',
  },
  {
    name: 'set_io',
    description: 'Set an IO value (cmd 117), e.g. 65 virtual odometer, 175 idle time. The device answers cmd 17 (0 = success).',
    properties: {
      id: { type: 'integer', required: true, description: 'IO id', min: 0, max: U32_MAX },
      value: { type: 'integer', required: true, description: 'new value', min: 0, max: U32_MAX },
    },
    replyKey: 'ruptela:17',
  },
  {
    name: 'request_tachograph_file',
    description:
      'Remote tachograph download (cmd 110 sub 2): the device authenticates with the company card through the card bridge (cmd 10 relayed), ' +
      'reads the tachograph and uploads the DDD file (cmd 12, 11). Ends processed when the file is stored (README "Tachograph download"); ' +
      'give it a timeout long enough for the download (minutes).',
    properties: {
      source: { type: 'string', required: true, description: '"driver_1", "driver_2" or "vehicle_unit"' },
      atr: { type: 'hex', required: true, description: 'ATR of the company card (from the card bridge)', min: ATR_MIN, max: ATR_MAX },
      mask: { type: 'integer', required: true, description: 'further what-to-read bits (3 events and faults, 4 detailed speed, 5 technical data; bits 0-2 are the source)', min: 0, max: 255 },
      from: { type: 'integer', required: true, description: 'period start, Unix seconds', min: 0, max: U32_MAX },
      to: { type: 'integer', required: true, description: 'period end, Unix seconds', min: 0, max: U32_MAX },
    },
    replyKey: TACHO_REPLY_KEY,
  },
  {
    name: CARD_ANSWER_COMMAND,
    description: 'A company-card answer (response APDU) to the device (cmd 110); sent by the card relay, by hand only for tests. No reply.',
    properties: {
      payload: { type: 'hex', required: true, description: 'response APDU: data + SW1 SW2', min: 2, max: MAX_LEN - 4 },
      sub_id: { type: 'integer', required: false, description: 'subId of the frame (default 3; channel option tacho_apdu_reply_sub_id)', min: 0, max: 255 },
    },
    replyKey: null,
  },
];

const SPECS: ReadonlyMap<string, CommandSpec> = new Map(commands.map((c) => [c.name, c]));

function invalid(command: string, reason: string): EdgeError {
  return new EdgeError('EDGE_COMMAND_INVALID', `${command}: ${reason}`);
}

/** Checks presence, types, ranges and unknown keys against the spec; returns the properties. */
function validate(spec: CommandSpec, props: unknown): Record<string, unknown> {
  if (props === null || typeof props !== 'object' || Array.isArray(props)) throw invalid(spec.name, 'properties must be an object');
  const p = props as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!(key in spec.properties)) throw invalid(spec.name, `unknown property "${key}"`);
  }
  for (const [key, ps] of Object.entries(spec.properties)) {
    const v = p[key];
    if (v === undefined) {
      if (ps.required) throw invalid(spec.name, `property "${key}" is required`);
      continue;
    }
    if (ps.type === 'string') {
      if (typeof v !== 'string' || v.length === 0) throw invalid(spec.name, `property "${key}" must be a non-empty string`);
      if (!/^[\x20-\x7e\t\r\n]*$/.test(v)) throw invalid(spec.name, `property "${key}" must be printable ASCII`);
    } else if (ps.type === 'hex') {
      if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(v)) throw invalid(spec.name, `property "${key}" must be a string of hex byte pairs`);
      if ((ps.min !== undefined && v.length / 2 < ps.min) || (ps.max !== undefined && v.length / 2 > ps.max)) {
        throw invalid(spec.name, `property "${key}" must be ${ps.min ?? 0}..${ps.max ?? '∞'} bytes`);
      }
    } else if (ps.type === 'integer') {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(spec.name, `property "${key}" must be an integer`);
      if ((ps.min !== undefined && v < ps.min) || (ps.max !== undefined && v > ps.max)) {
        throw invalid(spec.name, `property "${key}" must be within ${ps.min ?? '-∞'}..${ps.max ?? '∞'}`);
      }
    }
  }
  return p;
}

function asciiBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function frameOf(name: string, cmd: number, payload: Uint8Array): Uint8Array {
  if (payload.length + 1 > MAX_LEN) throw invalid(name, `payload of ${payload.length} bytes exceeds the ${MAX_LEN - 1}-byte maximum`);
  const body = new Uint8Array(payload.length + 1);
  body[0] = cmd;
  body.set(payload, 1);
  return wrapFrame(body);
}

function u32Pair(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, a);
  v.setUint32(4, b);
  return out;
}

const withCrlf = (s: string): string => (s.endsWith(CRLF) ? s : s + CRLF);

export function encode(command: CommandRequest, _session: Readonly<SessionState>): EncodedCommand {
  const spec = SPECS.get(command.name);
  if (spec === undefined) {
    throw new EdgeError('EDGE_COMMAND_UNKNOWN', `ruptela has no command "${command.name}"; known: ${commands.map((c) => c.name).join(', ')}`);
  }
  const p = validate(spec, command.properties);
  let bytes: Uint8Array;
  switch (spec.name) {
    case 'configuration':
      bytes = frameOf(spec.name, SERVER_CMD.configuration, asciiBytes(withCrlf(p.line as string)));
      break;
    case 'get_version':
      bytes = frameOf(spec.name, SERVER_CMD.version, new Uint8Array(0));
      break;
    case 'firmware':
      bytes = frameOf(spec.name, SERVER_CMD.firmware, asciiBytes(withCrlf(p.text as string)));
      break;
    case 'set_connection': {
      const host = p.host as string;
      const protocol = p.protocol as string;
      if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(host)) throw invalid(spec.name, 'property "host" must be printable ASCII without commas or spaces');
      if (protocol !== 'TCP' && protocol !== 'UDP') throw invalid(spec.name, 'property "protocol" must be "TCP" or "UDP"');
      bytes = frameOf(spec.name, SERVER_CMD.setConnection, asciiBytes(`${host},${p.port as number},${protocol}`));
      break;
    }
    case 'set_odometer': {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, p.value as number);
      bytes = frameOf(spec.name, SERVER_CMD.setOdometer, b);
      break;
    }
    case 'text':
      bytes = frameOf(spec.name, SERVER_CMD.text, asciiBytes(p.text as string));
      break;
    case 'set_io':
      bytes = frameOf(spec.name, SERVER_CMD.setIo, u32Pair(p.id as number, p.value as number));
      break;
    case 'custom': {
      if ((p.text === undefined) === (p.data === undefined)) throw invalid(spec.name, 'give exactly one of "text" or "data"');
      if (p.text !== undefined) {
        if (p.reply_cmd !== undefined) throw invalid(spec.name, '"reply_cmd" goes with "data"; text (cmd 108) is answered by cmd 7');
        return { bytes: frameOf(spec.name, SERVER_CMD.text, asciiBytes(p.text as string)), replyKey: 'ruptela:7' };
      }
      const raw = p.data as string;
      if (!/^([0-9a-f]{2})+$/i.test(raw) || raw.length / 2 > MAX_LEN - 1) throw invalid(spec.name, `property "data" must be 1..${MAX_LEN - 1} bytes of hex`);
      const body = fromHex(raw.toLowerCase());
      return { bytes: wrapFrame(body), replyKey: p.reply_cmd === undefined ? null : `ruptela:${p.reply_cmd as number}` };
    }
    case 'request_tachograph_file': {
      const source = p.source as string;
      if (!Object.hasOwn(TACHO_SOURCE_BITS, source)) throw invalid(spec.name, 'property "source" must be "driver_1", "driver_2" or "vehicle_unit"');
      const mask = p.mask as number;
      if ((mask & 0x07 & ~TACHO_SOURCE_BITS[source as TachoSource]) !== 0) throw invalid(spec.name, 'property "mask" must not select another source (bits 0-2 are set by "source")');
      if ((p.from as number) > (p.to as number)) throw invalid(spec.name, 'property "from" must not be after "to"');
      bytes = startFrame({ source: source as TachoSource, atr: fromHex(p.atr as string), mask: mask & ~0x07, from: p.from as number, to: p.to as number });
      break;
    }
    case CARD_ANSWER_COMMAND: {
      const subId = (p.sub_id as number | undefined) ?? 3;
      if (subId === TACHO_SUB_START) throw invalid(spec.name, 'property "sub_id" 2 is the start of a read, not a card answer');
      bytes = apduAnswerFrame(subId, fromHex(p.payload as string));
      break;
    }
    default:
      throw new EdgeError('EDGE_COMMAND_UNKNOWN', `ruptela command "${spec.name}" has no encoder`);
  }
  return { bytes, replyKey: spec.replyKey };
}

function payloadText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function expectLength(cmd: number, payload: Uint8Array, n: number): void {
  if (payload.length !== n) throw new EdgeError('EDGE_DECODE_INVALID', `cmd ${cmd} payload must be ${n} bytes, got ${payload.length}`, 3);
}

/** Inverse of encode: a server frame back to its CommandRequest (length and CRC are verified). */
export function parseCommand(bytes: Uint8Array): CommandRequest {
  const len = checkFrame(bytes, MIN_SERVER_LEN);
  const cmd = bytes[2]!;
  const payload = bytes.subarray(3, 2 + len);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const stripCrlf = (s: string): string => (s.endsWith(CRLF) ? s.slice(0, -CRLF.length) : s);
  switch (cmd) {
    case SERVER_CMD.configuration:
      return { name: 'configuration', properties: { line: stripCrlf(payloadText(payload)) } };
    case SERVER_CMD.version:
      expectLength(cmd, payload, 0);
      return { name: 'get_version', properties: {} };
    case SERVER_CMD.firmware:
      return { name: 'firmware', properties: { text: stripCrlf(payloadText(payload)) } };
    case SERVER_CMD.setConnection: {
      const m = /^([^,]+),(\d{1,5}),(TCP|UDP)$/.exec(payloadText(payload));
      if (m === null) throw new EdgeError('EDGE_DECODE_INVALID', 'cmd 105 payload is not "host,port,TCP|UDP"', 3);
      return { name: 'set_connection', properties: { host: m[1]!, port: Number(m[2]), protocol: m[3]! } };
    }
    case SERVER_CMD.setOdometer:
      expectLength(cmd, payload, 4);
      return { name: 'set_odometer', properties: { value: view.getUint32(0) } };
    case SERVER_CMD.text:
      return { name: 'text', properties: { text: payloadText(payload) } };
    case SERVER_CMD.setIo:
      expectLength(cmd, payload, 8);
      return { name: 'set_io', properties: { id: view.getUint32(0), value: view.getUint32(4) } };
    case SERVER_CMD.tacho: {
      if (payload.length < 1) throw new EdgeError('EDGE_DECODE_INVALID', 'cmd 110 without a subId', 3);
      if (payload[0] === TACHO_SUB_START) {
        const st = readStart(payload);
        return { name: 'request_tachograph_file', properties: { source: st.source, atr: toHex(st.atr), mask: st.mask, from: st.from, to: st.to } };
      }
      if (payload.length < 5) throw new EdgeError('EDGE_DECODE_INVALID', 'cmd 110 card answer shorter than subId + reserved + SW1 SW2', 3);
      return { name: CARD_ANSWER_COMMAND, properties: { payload: toHex(payload.subarray(3)), sub_id: payload[0]! } };
    }
    default:
      // any other server frame: the raw `custom` form gives these bytes back
      return { name: 'custom', properties: { data: toHex(bytes.subarray(2, 2 + len)) } };
  }
}
