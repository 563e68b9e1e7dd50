// The core reads the durable log through this view and never writes it: writes go out in a
// Ready, the caller performs them, and advance() tells the core. raft/node implements it over
// storage/log/SegmentedLog.ts (lastIndex, lastTerm, termAt, readRange); tests use memory.
import type { RaftEntry } from './RaftEntry.js';

export interface LogView {
  /**
   * The first index the log still holds (retention dropped what lay before; absent means 0).
   * When the log is empty, lastIndex is firstIndex - 1. The core never asks termAt or entries
   * below it; entries before it count as committed and applied.
   */
  readonly firstIndex?: number;
  /** -1 when empty */
  readonly lastIndex: number;
  /** -1 when empty */
  readonly lastTerm: number;
  /** term of the entry at index (firstIndex <= index <= lastIndex) */
  termAt(index: number): number;
  /**
   * Entries from `from` on, at most maxCount and (after the first) at most maxBytes counted as
   * ENTRY_OVERHEAD + body length. Returns at least one entry when from <= lastIndex and maxCount > 0.
   */
  entries(from: number, maxCount: number, maxBytes: number): RaftEntry[];
}
