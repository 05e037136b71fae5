import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram.js';

test('latency histogram: cumulative le buckets (bounds inclusive), +Inf, sum and count per label, in the Prometheus text format', async () => {
  const r = new Registry();
  const h = new LatencyHistogram('x_seconds', 'test histogram', 'channel', [0.001, 0.01, 0.1]).register(r);
  for (const s of [0.0005, 0.001, 0.005, 0.05, 0.5]) h.observe('a', s);
  h.observe('b', 0.02);
  const text = await r.metrics();
  const lines = text.split('\n');
  for (const expected of [
    '# TYPE x_seconds histogram',
    'x_seconds_bucket{le="0.001",channel="a"} 2',
    'x_seconds_bucket{le="0.01",channel="a"} 3',
    'x_seconds_bucket{le="0.1",channel="a"} 4',
    'x_seconds_bucket{le="+Inf",channel="a"} 5',
    'x_seconds_sum{channel="a"} 0.5565',
    'x_seconds_count{channel="a"} 5',
    'x_seconds_bucket{le="0.01",channel="b"} 0',
    'x_seconds_bucket{le="0.1",channel="b"} 1',
    'x_seconds_count{channel="b"} 1',
  ]) assert.ok(lines.includes(expected), `missing: ${expected}\n${text}`);
});
