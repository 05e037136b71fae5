import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { EdgeError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { askPrimary } from './ask-primary.js';

/**
 * `/metrics` for the whole box when several processes serve the channels (config `processes`).
 *
 * Only process 0 listens on `http.port`, but every process counts its own frames, connections and
 * publishes. prom-client's cluster support does the collecting: every process hands its registry to
 * `AggregatorRegistry.setRegistries` and constructs an AggregatorRegistry (which is what installs
 * prom-client's answering listener in a cluster worker), and the primary's `clusterMetrics()` asks
 * them all and merges the answers: series with the same name and labels are summed, unless the
 * metric names another aggregator (ops/metrics.ts: e.g. `edge_mqtt_connected` is the minimum).
 * Process 0 asks the primary for that text (ask-primary.ts), since the primary opens no port.
 */
const REQUEST = 'edge-channel:metrics';
const REPLY = 'edge-channel:metrics-reply';

interface Reply {
  type: typeof REPLY;
  id: number;
  text?: string;
  error?: string;
}

/** Every process of a multi-process start: its registry answers the primary's collection. */
export function shareMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // constructing one installs prom-client's answering listener in a cluster worker (once per process)
  new AggregatorRegistry();
}

/** The primary: answers a process's request with every process's metrics merged. */
export function serveClusterMetrics(log: Logger): () => void {
  const aggregator = new AggregatorRegistry();
  const onMessage = (worker: { send(m: Reply): boolean }, m: unknown) => {
    const req = m as { type?: unknown; id?: unknown } | null;
    if (req?.type !== REQUEST || typeof req.id !== 'number') return;
    const id = req.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: REPLY, id, text }),
      (e: unknown) => {
        const error = e instanceof Error ? e.message : String(e);
        log.warn({ err: error }, 'EDGE_METRICS_UNAVAILABLE: the processes did not all answer for /metrics');
        worker.send({ type: REPLY, id, error });
      },
    );
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}

/**
 * Process 0's `/metrics`: the merged text from the primary. Rejects (the route answers 500 and a
 * scrape fails visibly) when the primary or a process does not answer in time, rather than
 * serving one process's figures as if they were the box's.
 */
export async function clusterMetricsText(timeoutMs = 7_000): Promise<string> {
  const r = await askPrimary<Reply>(REQUEST, {}, REPLY, 'EDGE_METRICS_UNAVAILABLE', timeoutMs);
  if (typeof r.text !== 'string') throw new EdgeError('EDGE_METRICS_UNAVAILABLE', `the processes' metrics could not be collected: ${r.error ?? 'no text'}`);
  return r.text;
}
