import type { AssetService } from '../../assets/asset-service.js';
import { createMetrics, type AppMetrics } from '../../ops/metrics.js';
import { startOpsServer, type OpsServer, type Readiness } from '../../ops/http-server.js';
import { ReliablePublisher } from '../../reliability/reliable-publisher.js';
import { packageVersion } from '../../util/version.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface OpsFeature extends Feature {
  readonly metrics: AppMetrics;
  /** The health/metrics listener once started, when config.http.port is set. */
  readonly http: OpsServer | null;
}

/** /metrics (Prometheus, read at scrape time), /healthz and /readyz on config.http (README "Operations"). */
export function opsFeature(rt: Runtime, assets: AssetService, readiness: () => Readiness): OpsFeature {
  const { config, publisher } = rt;
  const metrics = createMetrics({
    instanceId: config.instance_id,
    version: packageVersion(),
    channels: () => rt.channels.list,
    pool: () => rt.pool,
    publisher: () => publisher,
    assets: () => ({
      opened: assets.counters.opened,
      ended: assets.counters.closed,
      late_conflicts: assets.counters.lateConflicts,
      bad_time: assets.counters.badTime,
      store_errors: assets.counters.storeErrors,
      requests_applied: assets.counters.requestsApplied,
      requests_rejected: assets.counters.requestsRejected,
    }),
    ...(publisher instanceof ReliablePublisher ? { reliability: () => publisher.metrics() } : {}),
  });
  let http: OpsServer | null = null;
  return {
    name: 'ops',
    metrics,
    get http() {
      return http;
    },
    async start() {
      if (config.http.port === null) return;
      http = await startOpsServer({ host: config.http.host, port: config.http.port, readiness, metrics });
      const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
      rt.log.info({ url: `http://${host}:${http.port}` }, `health and metrics on http://${config.http.host}:${http.port} (/healthz, /readyz, /metrics)`);
    },
    async stop() {
      if (http) await http.close();
    },
  };
}
