/**
 * JT/T 808 (2013 and 2019 headers) with the JT/T 1078 video alarm items and the Subiao
 * (T/JSATL12) active-safety items; the message set of dashcams and mobile DVRs (Howen, Jimi,
 * Streamax, MettaX and many more). TCP; see README.md for the support matrix and options.
 */
import type { ProtocolModule } from '../../src/protocol/types.js';
import { DEFAULT_OPTIONS, MAX_FRAME_BYTES } from './constants.js';
import { decode } from './decoder.js';
import { commands, encode, parseCommand } from './encoder.js';
import { resealFrame, rewriteIdent } from './simulate.js';
import { explainInvalid, split } from './splitter.js';

const jt808: ProtocolModule = {
  id: 'jt808',
  title: 'JT/T 808-2013/2019 with JT/T 1078 video alarms and Subiao ADAS/DSM (dashcams, MDVRs)',
  transports: ['tcp'],
  defaultPorts: { tcp: 5015 },
  maxFrameBytes: MAX_FRAME_BYTES,
  defaultOptions: DEFAULT_OPTIONS,
  split,
  explainInvalid,
  decode,
  commands,
  encode,
  parseCommand,
  rewriteIdent,
  resealFrame,
};

export default jt808;
