// The /metrics registry: families whose samples are computed at scrape time from numbers the
// process keeps anyway (plain counters on the hot paths), printed in Prometheus' text format
// (version 0.0.4). It formats the text itself: the default labels are rendered once, a
// histogram's labels once per series rather than once per bucket, and a collector may hand
// over labels it rendered once and kept (LabelSet), so a scrape spends its time on values.

import { performance } from 'node:perf_hooks';

export type Labels = Readonly<Record<string, string | number>>;

/** Labels rendered once (name="escaped value",...) and reused at every scrape. */
export class LabelSet {
  readonly text: string;
  constructor(labels: Labels) {
    this.text = renderLabels(labels);
  }
}

export interface Sample {
  labels: Labels | LabelSet;
  value: number;
}

/** One histogram series: per-bucket counts (not cumulative), one more than bounds (the +Inf bucket). */
export interface HistogramSample {
  labels: Labels | LabelSet;
  bounds: readonly number[];
  counts: ArrayLike<number>;
  sum: number;
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Where a collector puts its samples: histogram families take HistogramSample, the others Sample. */
export type SampleSink = Array<Sample | HistogramSample>;
export type Collect = (out: SampleSink) => void | Promise<void>;

interface Family {
  name: string;
  type: MetricType;
  /** the # HELP and # TYPE lines */
  header: string;
  collect: Collect;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

export function renderLabels(labels: Labels): string {
  let s = '';
  for (const k in labels) {
    if (!LABEL_NAME.test(k) || k === 'le') throw new RangeError(`bad label name ${k}`);
    s += `${s === '' ? '' : ','}${k}="${escapeLabelValue(String(labels[k]))}"`;
  }
  return s;
}

export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

/** le="…" texts of a bounds array, +Inf last; kept per array (bucket bounds are module constants) */
const leTexts = new WeakMap<readonly number[], string[]>();
function leOf(bounds: readonly number[]): string[] {
  let t = leTexts.get(bounds);
  if (t === undefined) {
    t = [...bounds.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"'];
    leTexts.set(bounds, t);
  }
  return t;
}

export class MetricRegistry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly families: Family[] = [];
  private readonly names = new Set<string>();
  /** the default labels, rendered: appended to every sample */
  private readonly defaults: string;
  /** event-loop time of all metrics() calls so far (ms): collecting and formatting, not the reads they await */
  busyMs = 0;

  constructor(defaultLabels: Labels = {}) {
    this.defaults = renderLabels(defaultLabels);
  }

  /** A family; `collect` runs at every scrape. Sample labels must not reuse the default label names. */
  register(name: string, help: string, type: MetricType, collect: Collect): void {
    if (!NAME.test(name)) throw new RangeError(`bad metric name ${name}`);
    if (this.names.has(name)) throw new Error(`metric ${name} is registered already`);
    this.names.add(name);
    const escapedHelp = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    this.families.push({ name, type, header: `# HELP ${name} ${escapedHelp}\n# TYPE ${name} ${type}\n`, collect });
  }

  get familyNames(): string[] {
    return this.families.map((f) => f.name);
  }

  /** The text of every family, in registration order. */
  async metrics(): Promise<string> {
    let text = '';
    let t0 = performance.now();
    try {
      for (const f of this.families) {
        const out: SampleSink = [];
        const r = f.collect(out);
        if (r !== undefined) {
          this.busyMs += performance.now() - t0;
          await r;
          t0 = performance.now();
        }
        text += f.header;
        if (f.type === 'histogram') for (const s of out) text += this.histogramText(f.name, s as HistogramSample);
        else for (const s of out) text += this.sampleText(f.name, s as Sample);
      }
    } finally {
      this.busyMs += performance.now() - t0;
    }
    return text;
  }

  private labelText(labels: Labels | LabelSet): string {
    const own = labels instanceof LabelSet ? labels.text : renderLabels(labels);
    if (own === '') return this.defaults;
    return this.defaults === '' ? own : `${own},${this.defaults}`;
  }

  private sampleText(name: string, s: Sample): string {
    const l = this.labelText(s.labels);
    return `${name}${l === '' ? '' : `{${l}}`} ${formatValue(s.value)}\n`;
  }

  private histogramText(name: string, h: HistogramSample): string {
    const l = this.labelText(h.labels);
    const le = leOf(h.bounds);
    const prefix = `${name}_bucket{${l === '' ? '' : `${l},`}`;
    let text = '';
    let acc = 0;
    for (let i = 0; i <= h.bounds.length; i++) {
      acc += h.counts[i]!;
      text += `${prefix}${le[i]!}} ${acc}\n`;
    }
    const braces = l === '' ? '' : `{${l}}`;
    return `${text}${name}_sum${braces} ${formatValue(h.sum)}\n${name}_count${braces} ${acc}\n`;
  }
}

/** A histogram kept as plain numbers (raft/node's Buckets): observe() is a short loop and two additions. */
export { Buckets as PlainHistogram } from '../../raft/node/NodeMetrics.js';
