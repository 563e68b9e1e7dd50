// Latencies in log-spaced buckets (about 2% wide, 1 µs to ~100 s), so a long run keeps a fixed
// amount of memory and still gives p50/p99/max within 2%.
const SUB_BUCKETS = 32; // per power of two
const MAX_POWER = 27; // 2^27 µs ≈ 134 s

export class LatencyHistogram {
  private readonly counts = new Float64Array((MAX_POWER + 1) * SUB_BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  /** Records one latency in microseconds. */
  record(us: number): void {
    const v = us < 1 ? 1 : us;
    this.counts[LatencyHistogram.bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  private static bucketOf(v: number): number {
    const p = Math.min(MAX_POWER, Math.floor(Math.log2(v)));
    const base = 2 ** p;
    const sub = Math.min(SUB_BUCKETS - 1, Math.floor(((v - base) / base) * SUB_BUCKETS));
    return p * SUB_BUCKETS + sub;
  }

  private static upperOf(bucket: number): number {
    const p = Math.floor(bucket / SUB_BUCKETS);
    const sub = bucket % SUB_BUCKETS;
    const base = 2 ** p;
    return base + ((sub + 1) * base) / SUB_BUCKETS;
  }

  /** The latency (µs) at quantile q in [0, 1]: the upper edge of its bucket, at most the max seen. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return Math.min(this.max, LatencyHistogram.upperOf(i));
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
  }
}
