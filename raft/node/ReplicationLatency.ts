// How long a follower takes to acknowledge what the leader sends it, and how big those sends
// are: from the AppendEntries leaving the leader to the successful answer covering its last
// entry, per follower, in fixed buckets (DLedger's dledger_replicate_entry_latency, and
// dledger_replicate_entry_batch_count / _batch_bytes of the acknowledged appends). Bounded: at
// most MAX_OUTSTANDING appends are remembered per follower; older ones are forgotten unmeasured.
import { BATCH_BYTES_BUCKETS, BATCH_ENTRIES_BUCKETS, Buckets } from './NodeMetrics.js';

export const REPLICATE_LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];
const MAX_OUTSTANDING = 1024;
/** DLedger counts an entry's size with its 48-byte header in the log */
const ENTRY_HEADER_BYTES = 48;

/** What one follower acknowledged. */
export class PeerReplication {
  /** AppendEntries sent -> acknowledged (ms) */
  readonly latencyMs = new Buckets(REPLICATE_LATENCY_BUCKETS_MS);
  /** entries per acknowledged AppendEntries */
  readonly batchEntries = new Buckets(BATCH_ENTRIES_BUCKETS);
  /** bytes (headers included) per acknowledged AppendEntries */
  readonly batchBytes = new Buckets(BATCH_BYTES_BUCKETS);
}

interface Outstanding {
  lastIndex: number;
  sentAt: number;
  entries: number;
  bytes: number;
}

export class ReplicationLatency {
  /** follower -> appends sent and not yet acknowledged, in send order */
  private readonly outstanding = new Map<string, Outstanding[]>();
  readonly byPeer = new Map<string, PeerReplication>();

  /** An AppendEntries carrying `entries` (at least one) left for `peer`. */
  sent(peer: string, entries: ReadonlyArray<{ index: number; body: Uint8Array }>, now: number): void {
    let q = this.outstanding.get(peer);
    if (!q) this.outstanding.set(peer, (q = []));
    if (q.length >= MAX_OUTSTANDING) q.shift();
    let bytes = 0;
    for (const e of entries) bytes += ENTRY_HEADER_BYTES + e.body.byteLength;
    q.push({ lastIndex: entries[entries.length - 1]!.index, sentAt: now, entries: entries.length, bytes });
  }

  /** A successful answer: every append up to `index` is acknowledged. */
  acknowledged(peer: string, index: number, now: number): void {
    const q = this.outstanding.get(peer);
    if (!q || q.length === 0) return;
    let p = this.byPeer.get(peer);
    if (!p) this.byPeer.set(peer, (p = new PeerReplication()));
    let n = 0;
    while (n < q.length && q[n]!.lastIndex <= index) {
      const o = q[n]!;
      p.latencyMs.observe(now - o.sentAt);
      p.batchEntries.observe(o.entries);
      p.batchBytes.observe(o.bytes);
      n++;
    }
    if (n > 0) q.splice(0, n);
  }

  /** Leadership ended: nothing outstanding will be answered to us. */
  reset(): void {
    this.outstanding.clear();
  }
}
