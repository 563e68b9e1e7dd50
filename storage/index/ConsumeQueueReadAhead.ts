// Consume-queue runs read from RocksDB beyond what one read asked for, kept per queue: a
// consumer draining a backlog then opens one RocksDB iterator per READ_AHEAD_ENTRIES entries
// instead of one per pull (an iterator costs about 100 us of event-loop time here).
import type { ConsumeQueueEntry } from './IndexStore.js';
import { CQ_ENTRY_BYTES, readI64 } from './keyLayout.js';

/** Entries one RocksDB read fetches at least, when the queue has them. */
export const READ_AHEAD_ENTRIES = 1024;
/** Runs (RocksDB values) one read fetches at most, whatever their size. */
export const READ_AHEAD_RUNS = 256;
/** Queues whose windows are kept; the least recently read is dropped first. */
const MAX_WINDOWS = 256;

/**
 * Every entry a queue held at offsets [from, to) when it was read, as the runs RocksDB gave
 * (each run: consecutive offsets from `firsts[i]`, 28 bytes per entry). Offsets in the window
 * that no run holds are gaps.
 */
export class ReadAheadWindow {
  private cursor = 0;

  constructor(
    readonly epoch: number,
    readonly from: number,
    readonly to: number,
    private readonly firsts: readonly number[],
    private readonly runs: readonly Buffer[],
  ) {}

  /** Appends to `out` the entries at offsets from `from` on, below `end` and the window's end, at most `maxCount`. */
  read(from: number, end: number, maxCount: number, out: ConsumeQueueEntry[]): void {
    const stop = Math.min(end, this.to);
    const n = this.runs.length;
    // reads go forward: start where the last one ended, step back only when asked to
    let r = this.cursor < n && this.firsts[this.cursor]! <= from ? this.cursor : 0;
    while (r < n && this.firsts[r]! + this.runs[r]!.length / CQ_ENTRY_BYTES <= from) r++;
    for (; r < n && out.length < maxCount; r++) {
      const first = this.firsts[r]!;
      const value = this.runs[r]!;
      const count = value.length / CQ_ENTRY_BYTES;
      for (let o = Math.max(first, from); o < first + count && o < stop && out.length < maxCount; o++) {
        out.push(decodeEntry(value, (o - first) * CQ_ENTRY_BYTES, o));
      }
      if (first + count >= stop) break;
    }
    this.cursor = Math.min(r, n - 1);
  }
}

/** The windows of the queues read last, keyed by the store's queue objects. */
export class ConsumeQueueReadAhead<Q extends object> {
  private readonly windows = new Map<Q, ReadAheadWindow>();

  /** The queue's window if it holds `offset` and was read in this epoch. */
  find(queue: Q, offset: number, epoch: number): ReadAheadWindow | undefined {
    const w = this.windows.get(queue);
    if (w === undefined) return undefined;
    if (w.epoch !== epoch || offset < w.from || offset >= w.to) return undefined;
    return w;
  }

  keep(queue: Q, window: ReadAheadWindow): void {
    this.windows.delete(queue);
    if (this.windows.size >= MAX_WINDOWS) this.windows.delete(this.windows.keys().next().value as Q);
    this.windows.set(queue, window);
  }
}

export function decodeEntry(value: Buffer, at: number, queueOffset: number): ConsumeQueueEntry {
  return {
    queueOffset,
    physicalOffset: readI64(value, at),
    size: value.readInt32BE(at + 8),
    tagsCode: readI64(value, at + 12),
    storeTimestamp: readI64(value, at + 20),
  };
}
