import { EdgeError } from '../errors.js';
import { readCardTable, startCardBridge } from '../replay/card-bridge.js';
import { ExecCard } from '../replay/exec-card.js';
import { flagStr, parseArgs } from './args.js';

export const CARD_BRIDGE_HELP = `edge-channel card-bridge --mqtt URL (--exec CMD | --table FILE) [options]

The company-card bridge for remote tachograph downloads (README "Card bridge"): subscribes to every
device's tacho-card relay requests on the broker, asks the card for each command APDU and publishes
the response APDU as the answer. Runs until Ctrl-C / SIGTERM.

Options:
  --mqtt URL       the server's broker (e.g. mqtt://127.0.0.1:1883)
  --root R         the server's mqtt.topic_root (default edge)
  --exec CMD       the card: a program that reads one command APDU per line (hex) on stdin and
                   writes the response APDU (hex, data + SW1 SW2) per line on stdout, e.g. a PC/SC
                   script (README "Card bridge" has one); kept running between APDUs
  --timeout-ms N   an APDU the program does not answer within N ms fails (default 5000)
  --table FILE     a simulated card instead: "apdu<TAB>response" rows (fixtures/sessions/*-card.tsv)
  --help           this text

Each exchange is one line on stderr. Exit status: 0 stopped by a signal, 2 usage errors.`;

export async function cardBridgeCommand(argv: string[], stop: Promise<void> = signalled()): Promise<number> {
  const args = parseArgs(argv, { mqtt: 'value', root: 'value', exec: 'value', table: 'value', 'timeout-ms': 'value', help: 'flag' });
  if (args.flags.has('help')) {
    process.stdout.write(CARD_BRIDGE_HELP + '\n');
    return 0;
  }
  const url = flagStr(args, 'mqtt');
  const exec = flagStr(args, 'exec');
  const table = flagStr(args, 'table');
  if (!url || !/^mqtts?:\/\/|^wss?:\/\//.test(url)) throw new EdgeError('EDGE_CLI_USAGE', 'card-bridge needs --mqtt URL (mqtt://host:port; see --help)');
  if (Boolean(exec) === Boolean(table)) throw new EdgeError('EDGE_CLI_USAGE', 'card-bridge needs exactly one of --exec CMD (the card) or --table FILE (a simulated card)');
  if (args.positionals.length) throw new EdgeError('EDGE_CLI_USAGE', `unexpected argument "${args.positionals[0]}" (see --help)`);
  const t = flagStr(args, 'timeout-ms') ?? '5000';
  const timeoutMs = Number(t);
  if (!/^\d+$/.test(t) || timeoutMs < 100 || timeoutMs > 600_000) throw new EdgeError('EDGE_CLI_USAGE', `--timeout-ms: expected 100..600000, got "${t}"`);
  const card = exec ? new ExecCard(exec, timeoutMs) : null;
  const bridge = await startCardBridge({
    url,
    root: flagStr(args, 'root') ?? 'edge',
    answers: table ? readCardTable(table) : new Map(),
    ...(card ? { card: (apdu: string) => card.exchange(apdu) } : {}),
    onExchange: (e) => process.stderr.write(`${e.ident} > ${e.apdu}  < ${e.response ?? `error: ${e.error}`}\n`),
  });
  process.stderr.write(`card bridge: answering tacho-card requests on ${url} (root ${flagStr(args, 'root') ?? 'edge'}) with ${exec ? `"${exec}"` : `the table ${table}`}\n`);
  await stop;
  card?.stop();
  await bridge.close();
  return 0;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
