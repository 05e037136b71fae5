import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterMetricsText } from './cluster-metrics.js';

test('without a primary to ask (no IPC channel), the merged /metrics text is refused with a code, not replaced by this process alone', async () => {
  assert.equal(process.send, undefined);
  await assert.rejects(clusterMetricsText(100), (e: Error & { code?: string }) => e.code === 'EDGE_METRICS_UNAVAILABLE' && /no IPC channel/.test(e.message));
});
