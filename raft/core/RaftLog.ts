// The log as the core sees it: the durable LogView up to `offset - 1`, then entries not yet
// persisted. When offset <= view.lastIndex, the view's tail from offset is logically gone and
// the next Ready asks the caller to truncate it (a follower found a conflict).
import type { LogView } from './LogView.js';
import { entrySize, type PendingEntry, type RaftEntry } from './RaftEntry.js';
import { invariant } from './RaftInvariantError.js';

export class RaftLog {
  private offset: number;
  private unstable: PendingEntry[] = [];

  constructor(readonly view: LogView) {
    this.offset = view.lastIndex + 1;
  }

  get lastIndex(): number {
    return this.offset + this.unstable.length - 1;
  }

  /** First index the durable log holds (0 unless retention dropped a prefix). */
  get firstIndex(): number {
    return this.view.firstIndex ?? 0;
  }

  get lastTerm(): number {
    // An empty log after a dropped prefix: the view knows (or says -1).
    if (this.lastIndex < this.firstIndex) return this.lastIndex < 0 ? -1 : this.view.lastTerm;
    return this.termAt(this.lastIndex);
  }

  /** Last index that is both persisted and not pending truncation: what may be applied, and what counts as the leader's own match. */
  get stableLastIndex(): number {
    return Math.min(this.offset - 1, this.view.lastIndex);
  }

  get unstableCount(): number {
    return this.unstable.length;
  }

  termAt(index: number): number {
    if (index === -1) return -1;
    invariant(index >= this.firstIndex && index <= this.lastIndex, `termAt(${index}) outside the log (${this.firstIndex}..${this.lastIndex})`);
    if (index >= this.offset) return this.unstable[index - this.offset]!.term;
    return this.view.termAt(index);
  }

  /** Appends entries starting at entries[0].index <= lastIndex + 1, dropping whatever was there from that index. */
  append(entries: readonly PendingEntry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    invariant(first >= 0 && first <= this.lastIndex + 1, `append at ${first} leaves a gap after ${this.lastIndex}`);
    if (first >= this.offset) {
      this.unstable.length = first - this.offset;
      for (const e of entries) this.unstable.push(e);
    } else {
      this.offset = first;
      this.unstable = entries.slice();
    }
  }

  /** Index from which the caller must truncate the durable log, if any. */
  get truncateFrom(): number | undefined {
    return this.offset <= this.view.lastIndex ? this.offset : undefined;
  }

  /** A copy of what waits to be persisted (the same entry objects, compared by identity in stableTo). */
  pendingEntries(): PendingEntry[] {
    return this.unstable.slice();
  }

  /**
   * The caller persisted `written` (after truncating). Drop the unchanged prefix of the pending
   * entries: an entry replaced since then (a new conflict) stays pending and is written again.
   */
  stableTo(written: readonly PendingEntry[]): void {
    if (written.length === 0) return;
    const first = written[0]!.index;
    if (first !== this.offset) return;
    let n = 0;
    while (n < written.length && n < this.unstable.length && this.unstable[n] === written[n]) n++;
    this.unstable.splice(0, n);
    this.offset += n;
    invariant(this.offset <= this.view.lastIndex + 1, `log view ends at ${this.view.lastIndex} but entries up to ${this.offset - 1} were acknowledged as written`);
  }

  /** Durable entries for sending or applying, never past stableLastIndex. */
  stableEntries(from: number, maxCount: number, maxBytes: number): RaftEntry[] {
    const n = Math.min(maxCount, this.stableLastIndex - from + 1);
    if (n <= 0) return [];
    invariant(from >= this.firstIndex, `entries from ${from} asked, but the log starts at ${this.firstIndex}`);
    const got = this.view.entries(from, n, maxBytes);
    invariant(got.length > 0 && got[0]!.index === from, `log view returned no entry at ${from}`);
    return got.length > n ? got.slice(0, n) : got;
  }

  /**
   * Entries for an append, persisted or not: the durable ones, then the pending ones (the same
   * objects the Ready hands over for appending; their pos and bodyCrc are filled in by the
   * caller's log before the message that carries them is sent).
   */
  entries(from: number, maxCount: number, maxBytes: number): RaftEntry[] {
    const n = Math.min(maxCount, this.lastIndex - from + 1);
    if (n <= 0) return [];
    invariant(from >= this.firstIndex, `entries from ${from} asked, but the log starts at ${this.firstIndex}`);
    const stable = this.stableLastIndex;
    let out: RaftEntry[];
    let bytes = 0;
    if (from <= stable) {
      out = this.stableEntries(from, Math.min(n, stable - from + 1), maxBytes);
      if (out[out.length - 1]!.index < stable || out.length === n) return out;
      for (const e of out) bytes += entrySize(e);
    } else out = [];
    // the pending part: from the later of `from` and the first pending index
    for (let i = Math.max(from, this.offset); out.length < n && i <= this.lastIndex; i++) {
      const e = this.unstable[i - this.offset]!;
      const size = entrySize(e);
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(e as RaftEntry);
    }
    return out;
  }

  /** Last index in [lo, hi] whose term is <= term (terms never decrease along a log), or lo - 1. Binary search: O(log n) termAt calls. */
  lastIndexWithTermAtMost(term: number, lo: number, hi: number): number {
    let ans = lo - 1;
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.termAt(mid) <= term) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** First index in [lo, hi] whose term is >= term, or hi + 1. */
  firstIndexWithTermAtLeast(term: number, lo: number, hi: number): number {
    let ans = hi + 1;
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.termAt(mid) >= term) {
        ans = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return ans;
  }
}
