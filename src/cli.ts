#!/usr/bin/env node
/**
 * edge-channel command line: start | decode | replay | command | ddd | card-bridge. Usage errors exit 2, invalid frames 1.
 */
// first: mqtt-packet's loggers are created when mqtt / aedes load (quiet-packet-debug.ts)
import './mqtt/quiet-packet-debug.js';
import { EdgeError } from './errors.js';
import { commandCommand, COMMAND_HELP } from './cli/command-command.js';
import { cardBridgeCommand, CARD_BRIDGE_HELP } from './cli/card-bridge-command.js';
import { dddCommand, DDD_HELP } from './cli/ddd-command.js';
import { decodeCommand, DECODE_HELP } from './cli/decode-command.js';
import { replayCommand, REPLAY_HELP } from './cli/replay-command.js';
import { START_HELP } from './cli/start-help.js';
import { packageVersion } from './util/version.js';

const HELP = `edge-channel — self-hosted telematics channel server

Usage:
  edge-channel start  [--config FILE] [--mqtt-url URL] [--processes N]   run the server (npm start)
  edge-channel decode --protocol ID [HEX|--file F|-]     decode frames offline, print JSON lines
  edge-channel replay --protocol ID --to URL [FILE...]   act as devices: send frames, check ACKs
  edge-channel command --broker URL --channel ID --ident IDENT --name NAME   send a device command
  edge-channel ddd FILE [--summary]                      parse a tachograph download (.ddd), print JSON
  edge-channel card-bridge --mqtt URL --exec CMD         relay company-card APDUs to a card program
  edge-channel COMMAND --help                            details of a command
  edge-channel --version                                 print the version

${START_HELP}

${DECODE_HELP}

${REPLAY_HELP}

${COMMAND_HELP}

${DDD_HELP}

${CARD_BRIDGE_HELP}
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      // loaded on demand: the server, config schema and YAML parser cost ~0.2 s of start-up that decode and replay do not need
      return (await import('./cli/start-command.js')).startCommand(rest);
    case 'decode':
      return decodeCommand(rest);
    case 'replay':
      return replayCommand(rest);
    case 'command':
      return commandCommand(rest);
    case 'ddd':
      return dddCommand(rest);
    case 'card-bridge':
      return cardBridgeCommand(rest);
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      throw new EdgeError('EDGE_CLI_USAGE', `unknown command "${cmd}" (start, decode, replay, command, ddd, card-bridge; see --help)`);
  }
}

// `edge-channel decode … | head` closes stdout early: that is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof EdgeError) {
      process.stderr.write(`edge-channel: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`edge-channel: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    }
  },
);
