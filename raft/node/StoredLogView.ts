// The core's LogView over the SegmentedLog. It shows only what the Ready loop has persisted
// (the log itself already counts entries handed to its writer), and keeps the most recent
// entries in memory, bounded, so that replication and apply of fresh entries read no files.
//
// An entry leaves the cache once it is applied and keepApplied (256 by default) newer entries
// are applied too, not only at the count and byte bounds: the bounds (65,536 / 64 MiB) held
// every entry for most of a second at 100k entries/s, long enough for V8 to promote each one
// (entry, body view and the read chunk behind it) to the old generation, and major collections
// of them took a fifth of the CPU at 16 x 64 entries in flight. Appends to followers that keep
// up, and the apply itself, read entries well above the applied index.
import type { LogView, RaftEntry } from '../core/index.js';
import { ENTRY_OVERHEAD } from '../core/index.js';
import type { SegmentedLog } from '../../storage/log/SegmentedLog.js';

export interface StoredLogViewLimits {
  /** entries and bytes (header included) kept in memory */
  maxCachedEntries: number;
  maxCachedBytes: number;
  /** applied entries kept (below the newest applied one), for appends to a follower a little behind */
  keepApplied: number;
}

export class StoredLogView implements LogView {
  private _lastIndex: number;
  private _lastTerm: number;
  /** recent entries, contiguous, ending at or before _lastIndex */
  private cache: RaftEntry[] = [];
  private head = 0;
  private cachedBytes = 0;
  /** entries below this index may leave the cache (applied, and keepApplied newer ones too) */
  private releasedBelow = -1;
  cacheHits = 0;
  cacheMisses = 0;

  constructor(
    private readonly log: SegmentedLog,
    private readonly limits: StoredLogViewLimits,
  ) {
    this._lastIndex = log.lastIndex;
    this._lastTerm = log.lastTerm;
  }

  get lastIndex(): number {
    return this._lastIndex;
  }
  get lastTerm(): number {
    return this._lastTerm;
  }
  get firstIndex(): number {
    return this.log.firstIndex;
  }

  termAt(index: number): number {
    const c = this.cached(index);
    return c ? c.term : this.log.termAt(index);
  }

  /** The log position of an entry. */
  posAt(index: number): number {
    const c = this.cached(index);
    return c ? c.pos : this.log.entryAt(index).pos;
  }

  entries(from: number, maxCount: number, maxBytes: number): RaftEntry[] {
    const last = Math.min(this._lastIndex, from + maxCount - 1);
    const out: RaftEntry[] = [];
    if (last < from) return out;
    const first = this.cache[this.head];
    if (first && from >= first.index) {
      this.cacheHits++;
      let bytes = 0;
      for (let i = from; i <= last; i++) {
        const e = this.cache[this.head + i - first.index]!;
        bytes += ENTRY_OVERHEAD + e.body.byteLength;
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(e);
      }
      return out;
    }
    this.cacheMisses++;
    return this.log.readRange(from, last - from + 1, maxBytes);
  }

  /** The Ready loop wrote these entries (contiguous, following the current end) and they count as persisted now. */
  persisted(entries: readonly RaftEntry[]): void {
    const n = entries.length;
    if (n === 0) return;
    const first = entries[0]!;
    if (first.index !== this._lastIndex + 1) throw new Error(`internal: persisted ${first.index} after ${this._lastIndex}`);
    const tail = this.cache[this.cache.length - 1];
    if (tail && tail.index !== first.index - 1) this.clearCache();
    for (const e of entries) {
      this.cache.push(e);
      this.cachedBytes += ENTRY_OVERHEAD + e.body.byteLength;
    }
    this._lastIndex = entries[n - 1]!.index;
    this._lastTerm = entries[n - 1]!.term;
    this.evict();
  }

  /** Entries up to `index` are applied: all but the newest keepApplied of them may leave the cache. */
  applied(index: number): void {
    this.releasedBelow = index + 1 - this.limits.keepApplied;
    this.evict();
  }

  /** The log was cut back to end before `from`. */
  truncated(from: number): void {
    this._lastIndex = this.log.lastIndex;
    this._lastTerm = this.log.lastTerm;
    const first = this.cache[this.head];
    if (!first || from <= first.index) return this.clearCache();
    const keep = this.head + (from - first.index);
    for (let i = keep; i < this.cache.length; i++) this.cachedBytes -= ENTRY_OVERHEAD + this.cache[i]!.body.byteLength;
    this.cache.length = Math.min(this.cache.length, keep);
  }

  private cached(index: number): RaftEntry | undefined {
    const first = this.cache[this.head];
    if (!first || index < first.index) return undefined;
    return this.cache[this.head + index - first.index];
  }

  private evict(): void {
    while (
      this.cache.length - this.head > this.limits.maxCachedEntries ||
      (this.cachedBytes > this.limits.maxCachedBytes && this.cache.length - this.head > 1) ||
      (this.head < this.cache.length && this.cache[this.head]!.index < this.releasedBelow)
    ) {
      const e = this.cache[this.head]!;
      this.cachedBytes -= ENTRY_OVERHEAD + e.body.byteLength;
      this.cache[this.head] = undefined as unknown as RaftEntry;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.head);
      this.head = 0;
    }
  }

  private clearCache(): void {
    this.cache = [];
    this.head = 0;
    this.cachedBytes = 0;
  }
}
