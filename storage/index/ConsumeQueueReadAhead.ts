// Consume-queue runs read from RocksDB beyond what one read asked for, kept per queue: a
// consumer draining a backlog then opens one RocksDB iterator per READ_AHEAD_ENTRIES entries
// instead of one per pull (an iterator costs 0.3 to 1 ms of main-thread time on this VM).
import type { ConsumeQueueEntry } from './IndexStore.js';
import { CQ_ENTRY_BYTES, readI64 } from './keyLayout.js';

/** Entries one RocksDB read fetches at least, when the queue has them (128 pulls of 32). */
export const READ_AHEAD_ENTRIES = 4096;
/** Runs (RocksDB values) one read fetches at most, whatever their size. */
export const READ_AHEAD_RUNS = 512;
/** Runs per native read of the iterator. */
export const READ_AHEAD_CAPACITY = 64;
/** Bytes of entries all windows hold at most (a full window is about 112 KiB). */
export const MAX_WINDOW_BYTES = 16 * 1024 * 1024;
/** Windows kept per queue (one per consumer group reading it at its own offset, up to this many). */
const WINDOWS_PER_QUEUE = 4;

/**
 * Every entry a queue held at offsets [from, to) when it was read, as the runs RocksDB gave
 * (each run: consecutive offsets from `firsts[i]`, 28 bytes per entry). Offsets in the window
 * that no run holds are gaps.
 */
export class ReadAheadWindow {
  /** bytes of the runs held */
  readonly bytes: number;
  private cursor = 0;

  constructor(
    readonly epoch: number,
    readonly from: number,
    readonly to: number,
    private readonly firsts: readonly number[],
    private readonly runs: readonly Buffer[],
  ) {
    let bytes = 0;
    for (const r of runs) bytes += r.length;
    this.bytes = bytes;
  }

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

/**
 * The windows read last, at most MAX_WINDOW_BYTES of them, the least recently used dropped
 * first. A queue keeps up to WINDOWS_PER_QUEUE, so consumer groups reading it at different
 * offsets do not evict each other's. Keyed by the store's queue objects: a queue the store
 * forgets and makes again (resetTo after a segment copy) starts without windows.
 */
export class ConsumeQueueReadAhead<Q extends object> {
  private readonly byQueue = new Map<Q, ReadAheadWindow[]>();
  /** every window held, least recently used first */
  private readonly lru = new Map<ReadAheadWindow, Q>();
  private bytes = 0;

  constructor(private readonly maxBytes = MAX_WINDOW_BYTES) {}

  /** A window of the queue that holds `offset` and was read in this epoch. */
  find(queue: Q, offset: number, epoch: number): ReadAheadWindow | undefined {
    const list = this.byQueue.get(queue);
    if (list === undefined) return undefined;
    for (const w of list) {
      if (w.epoch === epoch && offset >= w.from && offset < w.to) {
        this.lru.delete(w);
        this.lru.set(w, queue);
        return w;
      }
    }
    return undefined;
  }

  keep(queue: Q, window: ReadAheadWindow): void {
    let list = this.byQueue.get(queue);
    if (list === undefined) {
      list = [];
      this.byQueue.set(queue, list);
    }
    if (list.length >= WINDOWS_PER_QUEUE) this.drop(list[0]!, queue);
    list.push(window);
    this.lru.set(window, queue);
    this.bytes += window.bytes;
    while (this.bytes > this.maxBytes && this.lru.size > 1) {
      const [oldest, q] = this.lru.entries().next().value as [ReadAheadWindow, Q];
      this.drop(oldest, q);
    }
  }

  /** windows held and their bytes */
  get stats(): { windows: number; bytes: number } {
    return { windows: this.lru.size, bytes: this.bytes };
  }

  private drop(window: ReadAheadWindow, queue: Q): void {
    this.lru.delete(window);
    this.bytes -= window.bytes;
    const list = this.byQueue.get(queue)!;
    list.splice(list.indexOf(window), 1);
    if (list.length === 0) this.byQueue.delete(queue);
  }
}

export function decodeEntry(value: Buffer, at: number, queueOffset: number): ConsumeQueueEntry {
  return consumeQueueEntry(queueOffset, readI64(value, at), value.readInt32BE(at + 8), readI64(value, at + 12), readI64(value, at + 20));
}

/**
 * Every ConsumeQueueEntry is made here, with `size` as a small integer whatever it was read as.
 * Entries from the in-memory tail (a Float64Array) carried `size` as a double, those from
 * RocksDB as a small integer: V8 then migrated the object of every entry read after a queue's
 * tail had been read once (597k migrations over two drains of 300k messages), and the pull
 * path never got optimized again (the leader's CPU per consumed message went from 3-4 to 6-9 us).
 */
export function consumeQueueEntry(queueOffset: number, physicalOffset: number, size: number, tagsCode: number, storeTimestamp: number): ConsumeQueueEntry {
  return { queueOffset, physicalOffset, size: size | 0, tagsCode, storeTimestamp };
}
