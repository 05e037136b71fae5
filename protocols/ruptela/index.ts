/**
 * Ruptela FM-x3/x4/x5 binary protocol (spec: the Ruptela device protocol document v1.113 (2022), as publicly reconstructed in ErnestasD/gps_tracker docs/protocols/ruptela.md; see README.md here).
 * TCP is what devices use in practice; over UDP a datagram carries exactly one frame, so the
 * same decode applies (the framer is skipped). See README.md for the support matrix.
 */
import { optionDefaults, type OptionSpecs } from '../../src/protocol/options.js';
import type { ProtocolModule } from '../../src/protocol/types.js';
import { MAX_FRAME_BYTES } from './constants.js';
import { decode } from './decoder.js';
import { commands, encode, parseCommand } from './encoder.js';
import { explainInvalid, split } from './splitter.js';
import { resealFrame, rewriteIdent } from './simulate.js';

/**
 * Only the remote tacho download has settings (device time is UTC, IO names are fixed by the vendor
 * tables): how long the card bridge may take per APDU, and the part of the card-answer frame the
 * public reference leaves open (README "Tachograph download").
 */
const options: OptionSpecs = {
  tacho_card_timeout_s: {
    type: 'integer',
    description: 'seconds the card bridge has to answer one company-card APDU; then the tachograph request ends executed false',
    default: 20,
    min: 1,
    max: 600,
  },
  tacho_apdu_reply_sub_id: {
    type: 'integer',
    description: 'subId of the cmd 110 frame that carries the card answer to the device (not public; 3 mirrors the device\'s cmd 10)',
    default: 3,
    min: 0,
    max: 255,
  },
};

const ruptela: ProtocolModule = {
  id: 'ruptela',
  title: 'Ruptela (FM-Eco/Pro/Tco/Plug, Trace; records, identification, DTC, files, remote tacho download)',
  transports: ['tcp', 'udp'],
  defaultPorts: { tcp: 5046, udp: 5046 },
  maxFrameBytes: MAX_FRAME_BYTES,
  options,
  defaultOptions: optionDefaults(options),
  split,
  explainInvalid,
  decode,
  commands,
  encode,
  parseCommand,
  rewriteIdent,
  resealFrame,
};

export default ruptela;
