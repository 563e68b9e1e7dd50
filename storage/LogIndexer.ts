// Brings the RocksDB indexes up to date with the log: after a restart, after the index folder
// was rebuilt empty, or after recovery cut the log's tail. Committed entries are applied in log
// order, in bounded batches, one RocksDB write batch per batch of entries.
import { dispatchFromMessageRecord, type DispatchOptions, type DispatchRequest } from './index/DispatchRequest.js';
import type { IndexStore } from './index/IndexStore.js';
import { MAX_DISPATCHES_PER_APPLY } from './index/IndexStore.js';
import type { LogEntry } from './log/EntryReader.js';
import { EntryMagic } from './log/entryCodec.js';
import type { SegmentedLog } from './log/SegmentedLog.js';

/** Turns a broker metadata entry (magic >= 16) into dispatch records; the broker defines these. */
export type MetadataDecoder = (entry: LogEntry) => DispatchRequest[];

export interface LogIndexerOptions {
  decodeMetadata?: MetadataDecoder;
  dispatchOptions?: DispatchOptions;
  /** entries read from the log per apply step */
  batchEntries?: number;
  batchBytes?: number;
  log?: (line: string) => void;
}

export interface CatchUpReport {
  fromIndex: number;
  toIndex: number;
  entries: number;
  dispatches: number;
  /** index entries dropped because they pointed past the log's end */
  removedMessages: number;
  ms: number;
}

export class LogIndexer {
  private readonly batchEntries: number;
  private readonly batchBytes: number;

  constructor(
    private readonly log: SegmentedLog,
    private readonly index: IndexStore,
    private readonly opts: LogIndexerOptions = {},
  ) {
    this.batchEntries = Math.min(opts.batchEntries ?? 1024, MAX_DISPATCHES_PER_APPLY);
    this.batchBytes = opts.batchBytes ?? 16 * 1024 * 1024;
  }

  /** Apply every entry after the index's checkpoint up to `upToIndex` (default: the whole log). */
  async catchUp(upToIndex: number = this.log.lastIndex): Promise<CatchUpReport> {
    const started = Date.now();
    let removedMessages = 0;
    const applied = this.index.applied;
    // The index may be ahead of a log whose tail recovery cut: drop what points past the end.
    if (applied.index > this.log.lastIndex || applied.pos >= this.log.endPosition) {
      const keep = this.log.lastIndex >= 0 ? { index: this.log.lastIndex, pos: this.log.entryAt(this.log.lastIndex).pos } : { index: -1, pos: -1 };
      const report = await this.index.truncateFrom(this.log.endPosition, keep);
      removedMessages = report.messages;
      this.opts.log?.(`index was ahead of the log: dropped ${report.messages} index entries at or after log position ${this.log.endPosition}`);
    }
    const from = Math.max(this.index.applied.index + 1, this.log.firstIndex);
    const last = Math.min(upToIndex, this.log.lastIndex);
    let next = from;
    let dispatched = 0;
    while (next <= last) {
      const entries = this.log.readRange(next, Math.min(this.batchEntries, last - next + 1), this.batchBytes);
      const batch: DispatchRequest[] = [];
      for (const e of entries) {
        if (e.magic === EntryMagic.MESSAGE) batch.push(dispatchFromMessageRecord(e.index, e.pos, e.body, this.opts.dispatchOptions));
        else if (e.magic >= EntryMagic.METADATA_MIN && this.opts.decodeMetadata) batch.push(...this.opts.decodeMetadata(e));
      }
      const tail = entries[entries.length - 1] as LogEntry;
      await this.index.apply(batch, { index: tail.index, pos: tail.pos });
      dispatched += batch.length;
      next = tail.index + 1;
    }
    const report = { fromIndex: from, toIndex: last, entries: Math.max(0, last - from + 1), dispatches: dispatched, removedMessages, ms: Date.now() - started };
    if (report.entries > 0) this.opts.log?.(`indexed log entries ${from}..${last} (${dispatched} records) in ${report.ms} ms`);
    return report;
  }
}
