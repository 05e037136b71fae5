/**
 * Teltonika FMB/FMC/FMx6 trackers: Codec 8, 8 Extended and 16 AVL data over TCP (IMEI login, CRC,
 * record-count ACK) and UDP (channel header, AVL packet id ACK), Codec 12/14 GPRS commands and
 * their responses, Codec 13/15 serial data. Spec: Teltonika's public wiki (README.md "Sources").
 */
import { optionDefaults, type OptionSpecs } from '../../src/protocol/options.js';
import type { ProtocolModule } from '../../src/protocol/types.js';
import { cameraPart } from './camera.js';
import { MAX_FRAME_BYTES } from './constants.js';
import { decode } from './decoder.js';
import { commands, encode, parseCommand } from './encoder.js';
import { explainInvalid, split } from './splitter.js';
import { fmbSimulation } from './fmb-sim.js';
import { resealFrame, rewriteIdent } from './simulate.js';

const options: OptionSpecs = {
  io_dictionary: {
    type: 'string',
    description: 'IO naming table: "fmb" (FMB/FMC/FMM/FMT/FMU/FMP lines), "fmx6" (FMB640/FMC650 family, tachograph ids) or "none" (every IO raw as io.<id>); the same id means different things on the two lines',
    default: 'fmb',
    enum: ['fmb', 'fmx6', 'none'],
  },
  codec8_16_byte_group: {
    type: 'boolean',
    description: 'read a fifth IO group of 16-byte values after the 8-byte group of Codec 8 records, as some firmware variants send (Traccar\'s "extended" decoder switch; not in the vendor tables); published raw as io.<id> hex',
    default: false,
  },
  lenient_crc: {
    type: 'boolean',
    description: 'accept TCP frames whose CRC-16 does not match, with a warning (for diagnosing a device; frames are otherwise refused and not acknowledged)',
    default: false,
  },
};

const teltonika: ProtocolModule = {
  id: 'teltonika',
  title: 'Teltonika (FMB/FMC/FMx6; Codec 8, 8E, 16 over TCP and UDP, Codec 12/14 commands, Codec 13/15 serial data)',
  transports: ['tcp', 'udp'],
  defaultPorts: { tcp: 5027, udp: 5027 },
  maxFrameBytes: MAX_FRAME_BYTES,
  options,
  defaultOptions: optionDefaults(options),
  split,
  explainInvalid,
  decode,
  commands,
  encode,
  parseCommand,
  rewriteIdent: (frame, ident) => rewriteIdent(frame, ident),
  resealFrame,
  parts: [cameraPart],
  simulations: { fmb: fmbSimulation },
};

export default teltonika;
