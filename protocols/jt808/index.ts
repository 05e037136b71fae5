/**
 * JT/T 808 (2013 and 2019 headers) with the JT/T 1078 video alarm items and the Subiao
 * (T/JSATL12) active-safety items; the message set of dashcams and mobile DVRs (Howen, Jimi,
 * Streamax, MettaX and many more). TCP; see README.md for the support matrix and options.
 */
import type { ProtocolModule } from '../../src/protocol/types.js';
import type { OptionSpecs } from '../../src/protocol/options.js';
import { DEFAULT_OPTIONS, MAX_FRAME_BYTES } from './constants.js';
import { decode } from './decoder.js';
import { commands, encode, parseCommand } from './encoder.js';
import { resealFrame, rewriteIdent } from './simulate.js';
import { explainInvalid, split } from './splitter.js';
import { resendRequest } from './resend.js';

/** Declared options: checked against channels[i].options before the server starts. */
const options: OptionSpecs = {
  timezone_offset_minutes: { type: 'integer', description: 'time zone of the BCD device time, minutes east of UTC (the standard: Beijing time, +480)', default: DEFAULT_OPTIONS.timezone_offset_minutes, min: -720, max: 840 },
  device_profile: { type: 'string', description: 'active_safety decodes the Subiao items 0x64–0x67 and 0x70; standard keeps them raw (other vendors reuse those ids)', default: DEFAULT_OPTIONS.device_profile, enum: ['standard', 'active_safety'] },
  lenient_check: { type: 'boolean', description: 'accept a wrong XOR check byte with a warning (for replaying hand-edited vectors)', default: DEFAULT_OPTIONS.lenient_check },
  auth_code: { type: 'string', description: 'issued: random auth code stored per terminal, 0x0102 checked against it; derived: hash of the ident, every 0x0102 acknowledged (replaying recorded sessions)', default: DEFAULT_OPTIONS.auth_code, enum: ['issued', 'derived'] },
};

const jt808: ProtocolModule = {
  id: 'jt808',
  title: 'JT/T 808-2013/2019 with JT/T 1078 video alarms and Subiao ADAS/DSM (dashcams, MDVRs)',
  transports: ['tcp'],
  defaultPorts: { tcp: 5015 },
  maxFrameBytes: MAX_FRAME_BYTES,
  options,
  defaultOptions: DEFAULT_OPTIONS,
  usesCredentials: true,
  split,
  explainInvalid,
  decode,
  resendRequest,
  commands,
  encode,
  parseCommand,
  rewriteIdent,
  resealFrame,
};

export default jt808;
