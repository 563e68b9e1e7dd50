// Applies committed entries in log order: their dispatch records go to the IndexStore in one
// write batch per step, and listeners hear of them only after the index has them (a pull woken
// by a listener must find its entries). The leader's own appends and, later, a follower's
// replicated entries go through this one path; the caller says what is committed.
import type { DispatchRequest, MessageDispatch } from '../../../storage/index/DispatchRequest.js';
import { MAX_DISPATCHES_PER_APPLY, type IndexStore } from '../../../storage/index/IndexStore.js';
import type { AppliedBatch, AppliedListener, AppliedMessage } from './CommitLog.js';

/** One log entry as the applier needs it: where it is and what it means for the index. */
export interface DecodedEntry {
  index: number;
  pos: number;
  /** empty for entries with no index effect (no-op) */
  dispatches: readonly DispatchRequest[];
}

export interface CommitApplierOptions {
  /** entries per apply step (bounded: a step is one RocksDB batch) */
  maxEntries?: number;
  /** a listener threw or the index failed */
  log?: (line: string) => void;
  /** the index failed: nothing more can be applied */
  onFailure?: (e: Error) => void;
  /**
   * With fewer than `coalesceEntries` committed entries waiting, wait this long before applying
   * them, so that several commits share one index write (one thread-pool round trip instead of
   * one per send). RocketMQ's dispatch (ReputMessageService) polls every 1 ms the same way.
   * 0 (default): apply at once. The Raft node hands over everything queued while an apply ran
   * in one call, so a wait per call does not become a wait per Ready.
   */
  coalesceMs?: number;
  /** committed entries waiting from which apply starts at once (default 16) */
  coalesceEntries?: number;
  /** timer for coalesceMs (tests drive it); returns a cancel function */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

export const DEFAULT_COALESCE_ENTRIES = 16;

/** What the brokers' commit logs use: RocketMQ's dispatch interval. */
export const DEFAULT_APPLY_COALESCE_MS = 1;

const realTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export const DEFAULT_APPLY_ENTRIES = 1024;

export class CommitApplier {
  private readonly maxEntries: number;
  private readonly listeners = new Set<AppliedListener>();
  /** appended entries not yet applied, in index order; [head..] are live */
  private queue: DecodedEntry[] = [];
  private head = 0;
  /** index of the last entry handed over */
  private lastAdded: number;
  private committed: number;
  private applied: number;
  private running: Promise<void> | null = null;
  private failure: Error | null = null;
  /** a coalescing wait is armed: calling it starts the run now */
  private startNow: (() => void) | null = null;
  private readonly coalesceMs: number;
  private readonly coalesceEntries: number;

  constructor(
    private readonly index: IndexStore,
    private readonly opts: CommitApplierOptions = {},
  ) {
    this.maxEntries = Math.min(opts.maxEntries ?? DEFAULT_APPLY_ENTRIES, MAX_DISPATCHES_PER_APPLY);
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
    this.lastAdded = this.applied = this.committed = index.applied.index;
    this.coalesceMs = opts.coalesceMs ?? 0;
    this.coalesceEntries = opts.coalesceEntries ?? DEFAULT_COALESCE_ENTRIES;
    if (!(this.coalesceMs >= 0 && this.coalesceMs <= 1000)) throw new RangeError(`coalesceMs must be 0..1000, got ${opts.coalesceMs}`);
    if (!Number.isInteger(this.coalesceEntries) || this.coalesceEntries < 1) throw new RangeError(`coalesceEntries must be a positive integer, got ${opts.coalesceEntries}`);
  }

  get appliedIndex(): number {
    return this.applied;
  }

  get committedIndex(): number {
    return this.committed;
  }

  get error(): Error | null {
    return this.failure;
  }

  onApplied(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The index was reset to `index` (a segment copy replaced the log): entries continue from
   * index + 1. Only when nothing is queued.
   */
  resetTo(index: number): void {
    if (this.head < this.queue.length || this.running !== null) throw new Error(`internal: applier reset to ${index} with entries still queued`);
    this.queue = [];
    this.head = 0;
    this.lastAdded = this.applied = this.committed = index;
  }

  /** Hands over an entry in log order (before or after it commits); it is applied once commit() reaches it. */
  add(entry: DecodedEntry): void {
    if (entry.index !== this.lastAdded + 1) throw new Error(`internal: entry ${entry.index} handed to the applier after ${this.lastAdded}`);
    this.queue.push(entry);
    this.lastAdded = entry.index;
  }

  /** Everything up to `index` is committed: apply it (in the background, in order). */
  commit(index: number): void {
    if (index <= this.committed) return;
    this.committed = index;
    // only with work to do: run() then awaits a step before its finally clears `running`. A run
    // that found nothing (after a failure) used to finish at once and leave `running` set to its
    // settled promise for good, and drained() then awaited it in an endless microtask loop that
    // froze the process.
    if (this.running === null && this.hasWork()) {
      if (this.coalesceMs > 0 && this.waitingEntries() < this.coalesceEntries) this.running = this.coalesce();
      else this.running = this.run();
    } else if (this.startNow !== null && this.waitingEntries() >= this.coalesceEntries) this.startNow();
  }

  /** Committed entries handed over and not yet applied (counted by index). */
  private waitingEntries(): number {
    return Math.min(this.committed, this.lastAdded) - this.applied;
  }

  /** Waits coalesceMs (or until enough entries wait), then runs. */
  private async coalesce(): Promise<void> {
    await new Promise<void>((resolve) => {
      const cancel = (this.opts.setTimer ?? realTimer)(() => {
        this.startNow = null;
        resolve();
      }, this.coalesceMs);
      this.startNow = () => {
        this.startNow = null;
        cancel();
        resolve();
      };
    });
    return this.run();
  }

  /** Resolves once every committed entry handed over is applied (or the index failed). */
  async drained(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private hasWork(): boolean {
    return this.failure === null && this.head < this.queue.length && this.queue[this.head]!.index <= this.committed;
  }

  private async run(): Promise<void> {
    try {
      while (this.hasWork()) await this.step();
    } finally {
      this.running = null;
    }
  }

  /** One bounded step: one index write, then the listeners. */
  private async step(): Promise<void> {
    const batch: DispatchRequest[] = [];
    const messages: AppliedMessage[] = [];
    const metadata: Array<Exclude<DispatchRequest, MessageDispatch>> = [];
    const first = this.queue[this.head]!;
    let last = first;
    let n = 0;
    while (this.head < this.queue.length && n < this.maxEntries) {
      const e = this.queue[this.head]!;
      if (e.index > this.committed) break;
      // a step never splits an entry's records and stays within the index's limit (the first entry always goes)
      if (n > 0 && batch.length + e.dispatches.length > MAX_DISPATCHES_PER_APPLY) break;
      for (const d of e.dispatches) {
        batch.push(d);
        if (d.kind === 'message') {
          if (d.skipConsumeQueue !== true) messages.push(d);
        } else metadata.push(d);
      }
      last = e;
      this.head++;
      n++;
    }
    // drop applied entries from the front now and then, not per step
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    try {
      await this.index.apply(batch, { index: last.index, pos: last.pos });
    } catch (e) {
      this.failure = e as Error;
      this.opts.log?.(`apply of entries ${first.index}..${last.index} failed, nothing more is applied: ${(e as Error).message}`);
      this.opts.onFailure?.(e as Error);
      return;
    }
    this.applied = last.index;
    const applied: AppliedBatch = { firstIndex: first.index, lastIndex: last.index, messages, metadata };
    for (const listener of this.listeners) {
      try {
        listener(applied);
      } catch (e) {
        // one broken listener must not stop apply or starve the others
        this.opts.log?.(`an onApplied listener threw: ${(e as Error).message}`);
      }
    }
  }
}
