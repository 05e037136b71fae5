/**
 * A simulated tacho card bridge (the process that holds the company card, README "Tachograph
 * download"): it subscribes to every device's `tacho-card` relay requests and answers each command
 * APDU from a table, as a real bridge would answer from the card. For `replay --card-bridge` and the
 * tests; the table is a session file (fixtures/sessions/*-card.tsv: `apdu<TAB>response` rows).
 *
 * An APDU missing from the table is answered `{ "error": ... }` (a real card would answer an error
 * status word; the bridge reports it). `silent` answers nothing (to try the relay timeout).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { EdgeError } from '../errors.js';
import { makeTopics } from '../mqtt/topics.js';

export interface CardBridgeOptions {
  url: string;
  /** The server's `mqtt.topic_root`. */
  root: string;
  answers: ReadonlyMap<string, string>;
  /**
   * The card itself, instead of the table: the response APDU (hex) for a command APDU (hex). Calls
   * are made one at a time, in arrival order: a card runs one exchange at a time, whichever device asks.
   */
  card?: (apdu: string) => Promise<string>;
  /** Each exchange, for the command line's log. */
  onExchange?: (e: { ident: string; apdu: string; response: string | null; error: string | null }) => void;
  silent?: boolean;
}

export interface CardBridge {
  /** Requests seen (APDUs and finish notices), in order. */
  readonly seen: { ident: string; transaction: string | null; payload: string | null; finish: boolean }[];
  close(): Promise<void>;
}

/** `apdu<TAB>response` rows (hex; `#` comments and a header row allowed). */
export function readCardTable(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EdgeError('EDGE_CLI_USAGE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const table = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('apdu\t')) return;
    const [apdu, response] = line.split('\t');
    if (!apdu || !response || !/^(?:[0-9a-fA-F]{2})+$/.test(apdu) || !/^(?:[0-9a-fA-F]{2})+$/.test(response)) {
      throw new EdgeError('EDGE_CLI_USAGE', `${file} line ${i + 1}: expected "apdu<TAB>response" in hex`);
    }
    table.set(apdu.toLowerCase(), response.toLowerCase());
  });
  return table;
}

export async function startCardBridge(o: CardBridgeOptions): Promise<CardBridge> {
  const client: MqttClient = await connectAsync(o.url, { clientId: `card-bridge-${process.pid}-${Math.floor(Math.random() * 1e9)}`, clean: true });
  const seen: CardBridge['seen'] = [];
  const topics = makeTopics(o.root);
  let queue: Promise<void> = Promise.resolve();
  client.on('message', (topic, body) => {
    const t = topics.parseRelayTopic(topic);
    if (!t || t.kind !== 'request') return;
    let req: { ident?: unknown; transaction?: unknown; payload?: unknown; finish?: unknown };
    try {
      req = JSON.parse(body.toString('utf8')) as typeof req;
    } catch {
      return;
    }
    const payload = typeof req.payload === 'string' ? req.payload.toLowerCase() : null;
    const transaction = typeof req.transaction === 'string' ? req.transaction : null;
    seen.push({ ident: String(req.ident), transaction, payload, finish: req.finish === true });
    if (req.finish === true || payload === null || o.silent) return;
    const ident = String(req.ident);
    const card = o.card;
    const ask: () => Promise<string> = card ? () => card(payload) : async () => {
      const r = o.answers.get(payload);
      if (r === undefined) throw new Error(`the card has no answer for APDU ${payload}`);
      return r;
    };
    queue = queue.then(async () => {
      let answer: { transaction: string | null; payload?: string; error?: string };
      try {
        answer = { transaction, payload: (await ask()).toLowerCase() };
      } catch (e) {
        answer = { transaction, error: (e as Error).message };
      }
      o.onExchange?.({ ident, apdu: payload, response: answer.payload ?? null, error: answer.error ?? null });
      await client.publishAsync(topics.relayAnswer(t.channel, t.ident, t.service), JSON.stringify(answer), { qos: 1 }).catch(() => {});
    });
  });
  await client.subscribeAsync(topics.relayRequestFilter('tacho-card'), { qos: 1 });
  return {
    seen,
    close: async () => {
      await queue;
      await client.endAsync();
    },
  };
}
