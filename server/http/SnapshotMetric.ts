// A metric whose samples are computed at scrape time from counters the process keeps anyway
// (plain numbers on the hot paths). prom-client's Registry formats it like its own metrics:
// it calls get() and prints name, help, type and the values.
import type { Metric, Registry } from 'prom-client';

export type Labels = Record<string, string | number>;

export interface Sample {
  labels: Labels;
  value: number;
  /** for histograms: name_bucket, name_sum, name_count */
  metricName?: string;
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

export class SnapshotMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly collect: (out: Sample[]) => void | Promise<void>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    await this.collect(values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {}
}

export function registerSnapshot(registry: Registry, name: string, help: string, type: MetricType, collect: (out: Sample[]) => void | Promise<void>): void {
  registry.registerMetric(new SnapshotMetric(name, help, type, collect) as unknown as Metric);
}

/**
 * Pushes one histogram's samples: cumulative name_bucket{le} for each bound and +Inf, then
 * name_sum and name_count. `counts` are per bucket (not cumulative), one more than `bounds`.
 */
export function pushHistogram(out: Sample[], name: string, bounds: readonly number[], counts: ArrayLike<number>, sum: number, labels: Labels): void {
  let acc = 0;
  for (let i = 0; i < bounds.length; i++) {
    acc += counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bounds[i]! }, value: acc });
  }
  acc += counts[bounds.length]!;
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: acc });
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: acc });
}

/** A histogram kept as plain numbers: observe() is a short loop and two additions. */
export class PlainHistogram {
  readonly counts: Float64Array;
  sum = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }
}
