// How long a follower takes to acknowledge what the leader sends it: from the AppendEntries
// leaving the leader to the successful answer covering its last entry, per follower, in
// fixed millisecond buckets (DLedger's dledger_replicate_entry_latency). Bounded: at most
// MAX_OUTSTANDING appends are remembered per follower; older ones are forgotten unmeasured.

export const REPLICATE_LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];
const MAX_OUTSTANDING = 1024;

export interface LatencyBuckets {
  bounds: readonly number[];
  /** per bucket, not cumulative; one more than bounds (the +Inf bucket) */
  counts: Float64Array;
  sum: number;
}

export class ReplicationLatency {
  /** follower -> [last index sent, send time] in send order */
  private readonly outstanding = new Map<string, Array<[number, number]>>();
  readonly byPeer = new Map<string, LatencyBuckets>();

  sent(peer: string, lastIndex: number, now: number): void {
    let q = this.outstanding.get(peer);
    if (!q) this.outstanding.set(peer, (q = []));
    if (q.length >= MAX_OUTSTANDING) q.shift();
    q.push([lastIndex, now]);
  }

  /** A successful answer: every append up to `index` is acknowledged. */
  acknowledged(peer: string, index: number, now: number): void {
    const q = this.outstanding.get(peer);
    if (!q || q.length === 0) return;
    let h = this.byPeer.get(peer);
    if (!h) this.byPeer.set(peer, (h = { bounds: REPLICATE_LATENCY_BUCKETS_MS, counts: new Float64Array(REPLICATE_LATENCY_BUCKETS_MS.length + 1), sum: 0 }));
    let n = 0;
    while (n < q.length && q[n]![0] <= index) {
      const ms = now - q[n]![1];
      let b = 0;
      while (b < h.bounds.length && ms > h.bounds[b]!) b++;
      h.counts[b]!++;
      h.sum += ms;
      n++;
    }
    if (n > 0) q.splice(0, n);
  }

  /** Leadership ended: nothing outstanding will be answered to us. */
  reset(): void {
    this.outstanding.clear();
  }
}
