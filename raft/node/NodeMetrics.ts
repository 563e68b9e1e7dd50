// What a RaftNode records for DLedger 0.4's histograms, as plain numbers in fixed buckets: the
// leader's append batches (entries and body bytes per proposal, counted once committed) and the
// apply tasks (one onApply call: its time and its entries). Recording is a short bucket loop and
// two additions; server/http reads the buckets at scrape time.
import { performance } from 'node:perf_hooks';

/** A histogram of fixed bounds: per-bucket counts (not cumulative), the last one is +Inf. */
export class Buckets {
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

/** entries per batch: 1, 2, 4, … 4096 */
export const BATCH_ENTRIES_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
/** bytes per batch: 256 B … 16 MiB */
export const BATCH_BYTES_BUCKETS: readonly number[] = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
/** ms of an apply task */
export const APPLY_LATENCY_BUCKETS_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];

/** the bytes of an entry's header in the log, not counted in an append's body bytes */
const ENTRY_HEADER_BYTES = 48;

export class NodeMetrics {
  /** leader: entries per committed proposal (dledger_append_entry_batch_count) */
  readonly appendBatchEntries = new Buckets(BATCH_ENTRIES_BUCKETS);
  /** leader: body bytes per committed proposal (dledger_append_entry_batch_bytes) */
  readonly appendBatchBytes = new Buckets(BATCH_BYTES_BUCKETS);
  /** one onApply call, from the call until it (or the promise it returned) finished (dledger_apply_task_latency) */
  readonly applyLatencyMs = new Buckets(APPLY_LATENCY_BUCKETS_MS);
  /** entries per onApply call (dledger_apply_task_batch_count) */
  readonly applyBatchEntries = new Buckets(BATCH_ENTRIES_BUCKETS);
  /** apply tasks run one at a time: the start of the running one */
  private applyBegun = 0;

  /** A proposal of `entries` entries and `bytes` bytes (48-byte headers included) committed. */
  appendCommitted(entries: number, bytes: number): void {
    this.appendBatchEntries.observe(entries);
    this.appendBatchBytes.observe(bytes - entries * ENTRY_HEADER_BYTES);
  }

  applyStarted(): void {
    this.applyBegun = performance.now();
  }

  /** The running apply task finished with `entries` entries. */
  applied(entries: number): void {
    this.applyLatencyMs.observe(performance.now() - this.applyBegun);
    this.applyBatchEntries.observe(entries);
  }
}
