/**
 * Server → device commands: GPRS commands in Codec 12 (ref §5.1) and, addressed by IMEI, Codec 14
 * (ref §5.3). The data field is
 *
 * ```
 *  0x0C | 01 | 05 | u32 size | command text (size bytes) | 01                 Codec 12
 *  0x0E | 01 | 05 | u32 size | IMEI field (8) | command text | 01            Codec 14 (size counts the IMEI)
 * ```
 *
 * wrapped in the TCP frame (frame.ts). There is no command id: the response is the next Codec 12
 * (or 14) type-0x06 frame on the socket, so one command is in flight per device (reply keys
 * `teltonika:12`, `teltonika:14`). `custom` sends any text the user types, or raw bytes given as
 * hex (`data`): what Traccar guesses from "is the text hex?" is an explicit property here.
 */
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError } from '../../src/errors.js';
import type { CommandRequest, CommandSpec, EncodedCommand, SessionState } from '../../src/protocol/types.js';
import { CODEC, GPRS_TYPE, MAX_DATA_LEN, TCP_HEADER_BYTES } from './constants.js';
import { checkTcpFrame, wrapTcpFrame } from './frame.js';

export const REPLY_12 = 'teltonika:12';
export const REPLY_14 = 'teltonika:14';

/** Fixed-text commands: name → the device's SMS/GPRS command (vendor "SMS/GPRS command list"). */
const FIXED: Readonly<Record<string, { text: string; description: string }>> = {
  get_info: { text: 'getinfo', description: 'Device runtime information (getinfo): RTC, resets, GPS, SIM state.' },
  get_version: { text: 'getver', description: 'Firmware, hardware, IMEI and uptime (getver).' },
  get_status: { text: 'getstatus', description: 'Modem, GPRS and data link status (getstatus).' },
  get_gps: { text: 'getgps', description: 'Current GNSS data (getgps).' },
  get_io: { text: 'getio', description: 'Digital inputs/outputs and analog inputs (getio).' },
  reset: { text: 'cpureset', description: 'Restart the device (cpureset); it may close the link before answering.' },
};

/** Longest command text: the data field must fit the frame limit (the device's own limit is smaller [U]). */
const MAX_TEXT = MAX_DATA_LEN - 16;

export const commands: readonly CommandSpec[] = [
  {
    name: 'custom',
    description: 'Send any GPRS command (Codec 12, e.g. "setdigout 11" or "camreq:1,1"): `text` as typed, or `data` as raw bytes in hex. The device answers with a Codec 12 response.',
    properties: {
      text: { type: 'string', required: false, description: 'the command text, sent verbatim (1-byte characters)' },
      data: { type: 'hex', required: false, description: 'raw command bytes instead of text, for operators who know their device' },
    },
    replyKey: REPLY_12,
  },
  {
    name: 'custom_imei',
    description: 'Send a GPRS command addressed by IMEI (Codec 14, FMB firmware 03.25.04+): the device runs it only if the IMEI is its own, else answers a nACK (executed false).',
    properties: { text: { type: 'string', required: true, description: 'the command text, sent verbatim' } },
    replyKey: REPLY_14,
  },
  {
    name: 'set_digital_outputs',
    description: 'Set digital outputs (setdigout), one character per output: 1 on, 0 off, ? unchanged.',
    properties: { outputs: { type: 'string', required: true, description: 'e.g. "10" = DOUT1 on, DOUT2 off' } },
    replyKey: REPLY_12,
  },
  ...Object.entries(FIXED).map(([name, f]) => ({ name, description: `${f.description} Codec 12.`, properties: {}, replyKey: REPLY_12 })),
];

const TEXT_COMMAND = new Map(Object.entries(FIXED).map(([name, f]) => [f.text, name]));

function text1(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) throw new EdgeError('EDGE_COMMAND_INVALID', `${what}: 1..${MAX_TEXT} characters required`);
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 0xff) throw new EdgeError('EDGE_COMMAND_INVALID', `${what}: character U+${c.toString(16)} cannot be sent as one byte`);
    out[i] = c;
  }
  return out;
}

function gprsFrame(codec: number, body: Uint8Array): Uint8Array {
  const data = new Uint8Array(body.length + 8);
  const v = new DataView(data.buffer);
  data[0] = codec;
  data[1] = 1;
  data[2] = GPRS_TYPE.command;
  v.setUint32(3, body.length);
  data.set(body, 7);
  data[data.length - 1] = 1;
  return wrapTcpFrame(data);
}

/** The IMEI field of Codec 14: the decimal IMEI written as hex digits, left-padded to 16 digits. */
function imeiBytes(session: Readonly<SessionState>): Uint8Array {
  const ident = session.ident;
  if (typeof ident !== 'string' || !/^\d{1,16}$/.test(ident)) throw new EdgeError('EDGE_COMMAND_INVALID', 'custom_imei needs the device\'s decimal IMEI (at most 16 digits) as its ident');
  return fromHex(ident.padStart(16, '0'));
}

export function encode(command: CommandRequest, session: Readonly<SessionState>): EncodedCommand {
  const p = command.properties;
  switch (command.name) {
    case 'custom': {
      if ((p.text === undefined) === (p.data === undefined)) throw new EdgeError('EDGE_COMMAND_INVALID', 'custom: give exactly one of text or data');
      let body: Uint8Array;
      if (p.data !== undefined) {
        if (typeof p.data !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(p.data) || p.data.length / 2 > MAX_TEXT) throw new EdgeError('EDGE_COMMAND_INVALID', `custom: data must be 1..${MAX_TEXT} bytes of hex`);
        body = fromHex(p.data.toLowerCase());
      } else body = text1(p.text, 'custom: text');
      return { bytes: gprsFrame(CODEC.c12, body), replyKey: REPLY_12 };
    }
    case 'custom_imei': {
      const text = text1(p.text, 'custom_imei: text');
      const body = new Uint8Array(8 + text.length);
      body.set(imeiBytes(session), 0);
      body.set(text, 8);
      return { bytes: gprsFrame(CODEC.c14, body), replyKey: REPLY_14 };
    }
    case 'set_digital_outputs': {
      if (typeof p.outputs !== 'string' || !/^[01?]{1,8}$/.test(p.outputs)) throw new EdgeError('EDGE_COMMAND_INVALID', 'set_digital_outputs: outputs must be 1..8 of 0, 1, ?');
      return { bytes: gprsFrame(CODEC.c12, text1(`setdigout ${p.outputs}`, 'outputs')), replyKey: REPLY_12 };
    }
    default: {
      const f = FIXED[command.name];
      if (f === undefined || !Object.hasOwn(FIXED, command.name)) throw new EdgeError('EDGE_COMMAND_UNKNOWN', `teltonika has no command "${command.name}"`);
      return { bytes: gprsFrame(CODEC.c12, text1(f.text, command.name)), replyKey: REPLY_12 };
    }
  }
}

/** Inverse of encode: a Codec 12/14 command frame back to the command that gives these bytes. */
export function parseCommand(bytes: Uint8Array): CommandRequest {
  const len = checkTcpFrame(bytes, false, []);
  const d = bytes.subarray(TCP_HEADER_BYTES, TCP_HEADER_BYTES + len);
  const size = new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(3);
  if (len < 8 || d[1] !== 1 || d[2] !== GPRS_TYPE.command || size !== len - 8 || d[len - 1] !== 1) {
    throw new EdgeError('EDGE_DECODE_INVALID', 'not a one-command Codec 12/14 frame of type 0x05', TCP_HEADER_BYTES);
  }
  const body = d.subarray(7, 7 + size);
  if (body.length === 0) throw new EdgeError('EDGE_DECODE_INVALID', 'empty command', TCP_HEADER_BYTES + 3);
  const printable = body.length > 0 && body.every((c) => c >= 0x20 && c <= 0x7e);
  const text = printable ? String.fromCharCode(...body) : '';
  if (d[0] === CODEC.c14) {
    const cmd = body.subarray(8);
    if (body.length < 9 || !cmd.every((c) => c >= 0x20 && c <= 0x7e)) throw new EdgeError('EDGE_DECODE_INVALID', 'Codec 14 command without printable text', TCP_HEADER_BYTES + 7);
    return { name: 'custom_imei', properties: { text: String.fromCharCode(...cmd) } };
  }
  if (d[0] !== CODEC.c12) throw new EdgeError('EDGE_DECODE_INVALID', `codec 0x${d[0]!.toString(16)} is not a command codec`, TCP_HEADER_BYTES);
  if (!printable) return { name: 'custom', properties: { data: toHex(body) } };
  const fixed = TEXT_COMMAND.get(text);
  if (fixed !== undefined) return { name: fixed, properties: {} };
  const dout = /^setdigout ([01?]{1,8})$/.exec(text);
  if (dout !== null) return { name: 'set_digital_outputs', properties: { outputs: dout[1]! } };
  return { name: 'custom', properties: { text } };
}
