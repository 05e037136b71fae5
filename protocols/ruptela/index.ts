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
 * Ruptela's decoding needs no per-channel settings today (device time is UTC, IO names are fixed
 * by the vendor tables), so it declares none and any `options` key on a Ruptela channel is an error.
 */
const options: OptionSpecs = {};

const ruptela: ProtocolModule = {
  id: 'ruptela',
  title: 'Ruptela (FM-Eco/Pro/Tco/Plug, Trace; records, identification, DTC, files)',
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
