import type { Metric, Registry } from 'prom-client';

/**
 * A Prometheus histogram per channel kept as plain arrays and rendered by prom-client at scrape
 * time. Why not prom-client's Histogram: its observe() with a label costs ~1.4 µs (label hashing
 * and object work; bench/ops-bench.ts), paid for every acknowledged frame; this one is a Map
 * lookup and an array increment.
 */
interface Series {
  counts: Float64Array;
  sum: number;
  count: number;
}

export class LatencyHistogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    /** Upper bounds in seconds, ascending (a +Inf bucket is implied). */
    private readonly buckets: readonly number[],
  ) {}

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric<string>);
    return this;
  }

  observe(labelValue: string, seconds: number): void {
    let s = this.series.get(labelValue);
    if (!s) {
      s = { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(labelValue, s);
    }
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** What prom-client's registry reads (the shape of its own metrics' get()). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: { metricName: string; labels: Record<string, string | number>; value: number }[] }> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const [lv, s] of this.series) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: i < this.buckets.length ? this.buckets[i]! : '+Inf', [this.label]: lv }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: lv }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: lv }, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
