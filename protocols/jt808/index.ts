/**
 * JT/T 808 (2013 and 2019 headers) with the JT/T 1078 video alarm items and the Subiao
 * (T/JSATL12) active-safety items; the message set of dashcams and mobile DVRs (Howen, Jimi,
 * Streamax, MettaX and many more). TCP; see README.md for the support matrix and options.
 */
import type { ProtocolModule } from '../../src/protocol/types.js';
import type { OptionSpecs } from '../../src/protocol/options.js';
import { DEFAULT_OPTIONS, MAX_FRAME_BYTES } from './constants.js';
import { decode, jt808CommandsReady } from './decoder.js';
import { commands, encode, parseCommand } from './encoder.js';
import { resealFrame, rewriteIdent } from './simulate.js';
import { explainInvalid, split } from './splitter.js';
import { resendRequest } from './resend.js';
import { attachmentsPart } from './attachments/index.js';
import { dashcamSimulation } from './attachments/dashcam-sim.js';
import { StreamCutter } from './stream/stream-splitter.js';
import { cameraSimulation } from './stream/camera-session.js';
import { identFromPhone } from './frame.js';

/** Declared options: checked against channels[i].options before the server starts. */
const options: OptionSpecs = {
  timezone_offset_minutes: { type: 'integer', description: 'time zone of the BCD device time, minutes east of UTC (the standard: Beijing time, +480)', default: DEFAULT_OPTIONS.timezone_offset_minutes, min: -720, max: 840 },
  device_profile: { type: 'string', description: 'active_safety decodes the Subiao items 0x64–0x67 and 0x70; standard keeps them raw (other vendors reuse those ids)', default: DEFAULT_OPTIONS.device_profile, enum: ['standard', 'active_safety'] },
  active_safety: { type: 'boolean', description: 'true = device_profile active_safety: decode the Subiao items and invite the device to upload alarm attachments (0x9208, needs parts.attachments)', default: DEFAULT_OPTIONS.active_safety },
  alarm_identification_bytes: { type: 'integer', description: 'Subiao alarm identification width (regional variant): 16 Jiangsu, 32 Hunan, 38 Heilongjiang, 39 Sichuan, 40 Guangdong', default: DEFAULT_OPTIONS.alarm_identification_bytes, min: 16, max: 40 },
  lenient_check: { type: 'boolean', description: 'accept a wrong XOR check byte with a warning (for replaying hand-edited vectors)', default: DEFAULT_OPTIONS.lenient_check },
  auth_code: { type: 'string', description: 'issued: random auth code stored per terminal, 0x0102 checked against it; derived: hash of the ident, every 0x0102 acknowledged (replaying recorded sessions); accept: migration mode, a code this server never issued is accepted and recorded as the terminal\'s (auth.code.valid says whether it was the code on record)', default: DEFAULT_OPTIONS.auth_code, enum: ['issued', 'derived', 'accept'] },
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
  commandsReady: jt808CommandsReady,
  split,
  explainInvalid,
  decode,
  resendRequest,
  commands,
  encode,
  parseCommand,
  parts: [attachmentsPart],
  simulations: { dashcam: dashcamSimulation, camera: cameraSimulation },
  // JT/T 1078 real-time media: packets cut on the main thread by the channel's stream listener
  mediaStream: { cutter: () => new StreamCutter(), identOf: (sim) => identFromPhone(sim) },
  rewriteIdent,
  resealFrame,
};

export default jt808;
