// The read side both commit logs share: stored messages out of the segmented log by commit-log
// offset (pos + 48), and consume-queue bounds and entries out of the IndexStore.
import type { ConsumeQueueEntry, IndexStore } from '../../../storage/index/IndexStore.js';
import { ENTRY_HEADER_SIZE, EntryMagic } from '../../../storage/log/entryCodec.js';
import type { EntryReader } from '../../../storage/log/EntryReader.js';
import type { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { pageCacheAddon, type ReadWarmer } from '../../../storage/log/pageCache.js';
import { ReadFiles, segmentStartOf } from '../../../storage/log/segmentFiles.js';

/** Bytes between two wanted entries that readMessages reads through rather than start another pread. */
export const READ_THROUGH_GAP_BYTES = 16 * 1024;
/**
 * Pulls whose cold reads (warmForRead) run in the thread pool at once; each has one read per
 * data file its records lie in, mostly one. The pool (4 threads) also runs the index's RocksDB
 * writes and the log's fsyncs: consumers reading cold data must not queue ahead of those.
 */
export const MAX_COLD_READS = 2;
/** Read handles of readMessages are closed this long after they were opened (reopened on the next read). */
const REOPEN_HANDLES_MS = 1000;

/** Where a record sits: what a consume-queue entry says. */
export type RecordPlace = Pick<ConsumeQueueEntry, 'physicalOffset' | 'size'>;

export interface ReadMessagesResult {
  /** the records found, back to back (a PULL body) */
  body: Buffer;
  /** how many records the body holds; the others were removed by retention */
  count: number;
}

export abstract class CommitLogReads {
  private reader: EntryReader | null = null;
  private readerFiles: ReadFiles | null = null;
  private readerLog: SegmentedLog | null = null;
  private readerStart = -1;
  private readerTruncations = -1;
  private closeTimer: NodeJS.Timeout | null = null;
  private posScratch: number[] = [];
  private sizeScratch: number[] = [];

  /** warmForRead's probe and thread-pool read: the addon's, null without it (tests set their own) */
  readWarmer: ReadWarmer | null = pageCacheAddon();
  /** told once if the page-cache probe fails and warmForRead turns itself off */
  onWarmerOff?: (line: string) => void;
  /** bytes warmForRead read in the thread pool because they were not cached */
  coldReadBytes = 0;
  private coldReads = 0;
  /** pulls waiting for a cold-read slot, oldest first (as many as pulls in flight at most) */
  private readonly coldWaiters: Array<() => void> = [];

  constructor(protected readonly indexStore: IndexStore) {}

  /** the log the records are read from */
  abstract get storage(): SegmentedLog;

  /** The record of a consume-queue entry (offset, size); undefined when retention removed it. Throws when the log holds something else there. */
  readMessage(physicalOffset: number, size: number): Buffer | undefined {
    const log = this.storage;
    const pos = physicalOffset - ENTRY_HEADER_SIZE;
    if (!Number.isSafeInteger(pos) || pos < log.startPosition || pos >= log.endPosition) return undefined;
    const e = log.entryAtPosition(pos);
    if (e.magic !== EntryMagic.MESSAGE || e.body.length !== size) {
      throw new RangeError(`commit-log offset ${physicalOffset} holds an entry of kind ${e.magic} and ${e.body.length} bytes, not a ${size}-byte message`);
    }
    return e.body;
  }

  /**
   * The records of consume-queue entries (in queue order) back to back in one buffer: what a
   * PULL answer carries. What the log's files hold is read with one pread per run of nearby
   * entries (EntryReader.copyMessageBodies); entries not yet written come from the log's memory.
   * Entries retention removed are left out. Throws when the log holds something else where an
   * entry points. `alloc` gives the buffer to fill (at least the bytes asked for; the body is
   * its first part), for a caller that reuses buffers.
   */
  readMessages(places: readonly RecordPlace[], alloc: (bytes: number) => Buffer = Buffer.allocUnsafe): ReadMessagesResult {
    const log = this.storage;
    const n = places.length;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += places[i]!.size;
    // room for the entries' headers as well: the reader reads runs of adjacent entries into it in place
    const body = alloc(bytes + ENTRY_HEADER_SIZE * n);
    const start = log.startPosition;
    const written = log.writtenPosition;
    let at = 0;
    let count = 0;
    let i = 0;
    while (i < n) {
      const p = places[i]!;
      const pos = p.physicalOffset - ENTRY_HEADER_SIZE;
      if (!Number.isSafeInteger(pos) || pos < start) {
        i++; // removed by retention
        continue;
      }
      if (pos + ENTRY_HEADER_SIZE + p.size > written) {
        // appended, not yet written: the log serves it from memory
        const rec = this.readMessage(p.physicalOffset, p.size);
        if (rec) {
          at += rec.copy(body, at);
          count++;
        }
        i++;
        continue;
      }
      // a run of entries on disk
      const posList = this.posScratch;
      const sizeList = this.sizeScratch;
      let k = 0;
      for (; i < n; i++) {
        const q = places[i]!;
        const qpos = q.physicalOffset - ENTRY_HEADER_SIZE;
        if (qpos < start || qpos + ENTRY_HEADER_SIZE + q.size > written) break;
        posList[k] = qpos;
        sizeList[k] = q.size;
        k++;
      }
      const copied = this.diskReader(log).copyMessageBodies(posList, sizeList, k, body, at, READ_THROUGH_GAP_BYTES, written);
      for (let m = 0; m < copied; m++) at += sizeList[m]!;
      count += copied;
      // a file went away under the reader: what is left of the run, one by one (gone ones read as undefined)
      for (let m = copied; m < k; m++) {
        const rec = this.readMessage(posList[m]! + ENTRY_HEADER_SIZE, sizeList[m]!);
        if (rec) {
          at += rec.copy(body, at);
          count++;
        }
      }
    }
    return { body: at === body.length ? body : body.subarray(0, at), count };
  }

  /**
   * Gets the records of `places` into the page cache before readMessages reads them on the event
   * loop. Each run of nearby records (as readMessages groups them) whose first or last byte is
   * not cached is read in the thread pool first; a consumer far behind (data the kernel or the
   * cache window dropped) then waits for the disk without stalling every other client. Cached
   * runs cost two 1-byte probes each. Without the addon this does nothing. Errors are left for
   * readMessages to meet. Resolves with the bytes read.
   */
  async warmForRead(places: readonly RecordPlace[]): Promise<number> {
    const warmer = this.readWarmer;
    if (warmer === null || places.length === 0) return 0;
    const log = this.storage;
    const start = log.startPosition;
    const written = log.writtenPosition;
    const segmentSize = log.dataSegmentSize;
    const segments = log.dataSegments;
    const files = this.readFilesOf(log);
    const cold: Array<{ path: string; from: number; length: number }> = [];
    let path: string | undefined;
    let segment = -1;
    let lo = 0;
    let hi = 0;
    const flush = (): void => {
      if (path === undefined) return;
      const fd = files.handle(path);
      if (fd !== undefined && (!this.probe(warmer, fd, lo - segment) || !this.probe(warmer, fd, hi - 1 - segment))) {
        cold.push({ path, from: lo - segment, length: hi - lo });
      }
      path = undefined;
    };
    try {
      for (const p of places) {
        const pos = p.physicalOffset - ENTRY_HEADER_SIZE;
        const end = pos + ENTRY_HEADER_SIZE + p.size;
        if (!Number.isSafeInteger(pos) || pos < start || end > written) continue;
        const s = segmentStartOf(pos, segmentSize);
        if (path !== undefined && s === segment && pos >= lo && pos - hi <= READ_THROUGH_GAP_BYTES) {
          hi = Math.max(hi, end);
          continue;
        }
        flush();
        const file = findSegment(segments, s);
        if (file === undefined) continue;
        path = file;
        segment = s;
        lo = pos;
        hi = end;
      }
      flush();
    } catch {
      return 0; // a file that cannot be opened: readMessages meets it and says why
    }
    if (cold.length === 0) return 0;
    await this.coldReadSlot();
    let bytes = 0;
    try {
      // handles taken again: while this pull waited for its slot the reader may have closed them
      const now = this.readFilesOf(this.storage);
      const reads: Array<Promise<number>> = [];
      for (const c of cold) {
        const fd = now.handle(c.path);
        // through a duplicate of the handle: the reader may close its own meanwhile
        if (fd !== undefined) reads.push(warmer.readThrough(fd, c.from, c.length).catch(() => 0));
      }
      for (const n of await Promise.all(reads)) bytes += n;
    } finally {
      this.releaseColdRead();
    }
    this.coldReadBytes += bytes;
    return bytes;
  }

  /**
   * Whether the byte reads without the disk. A probe that fails (a file system without
   * RWF_NOWAIT says EOPNOTSUPP) turns warming off for good, said once: reads are then as
   * before, synchronous.
   */
  private probe(warmer: ReadWarmer, fd: number, offset: number): boolean {
    if (this.readWarmer === null) return true; // turned off by an earlier probe of this call
    try {
      return warmer.isCached(fd, offset);
    } catch (e) {
      this.readWarmer = null;
      this.onWarmerOff?.(`reading cold commit-log data in the thread pool is off: the page-cache probe failed (${(e as Error).message})`);
      return true;
    }
  }

  /** Resolves when one of the MAX_COLD_READS slots is this caller's. */
  private coldReadSlot(): Promise<void> {
    if (this.coldReads < MAX_COLD_READS) {
      this.coldReads++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.coldWaiters.push(resolve));
  }

  /** Hands the slot to the oldest waiter, or frees it. */
  private releaseColdRead(): void {
    const next = this.coldWaiters.shift();
    if (next !== undefined) next();
    else this.coldReads--;
  }

  /** The read handles of readMessages' reader (made current for `log`). */
  private readFilesOf(log: SegmentedLog): ReadFiles {
    this.diskReader(log);
    return this.readerFiles!;
  }

  /** The record at an offset a client gave (message id, send-back); undefined when no message starts there. */
  readMessageAt(physicalOffset: number): Buffer | undefined {
    const log = this.storage;
    const pos = physicalOffset - ENTRY_HEADER_SIZE;
    if (!Number.isSafeInteger(pos) || pos < log.startPosition || pos >= log.endPosition) return undefined;
    try {
      const e = log.entryAtPosition(pos);
      return e.magic === EntryMagic.MESSAGE ? e.body : undefined;
    } catch {
      // an offset made up, or one inside an entry
      return undefined;
    }
  }

  minOffset(topic: string, queueId: number): number {
    return this.indexStore.minOffset(topic, queueId);
  }

  maxOffset(topic: string, queueId: number): number {
    return this.indexStore.maxOffset(topic, queueId);
  }

  readConsumeQueue(topic: string, queueId: number, fromOffset: number, maxCount: number): Promise<ConsumeQueueEntry[]> {
    return this.indexStore.readConsumeQueue(topic, queueId, fromOffset, maxCount);
  }

  /**
   * readMessages' reader, with read handles of its own (the log's are private to it). The
   * handles are closed when the log's start moves (retention deleted files) and one second
   * after they were opened, so none holds a deleted or replaced file, or a closed log's, for long.
   * The bytes it keeps between reads are dropped when the log's start moves or it is truncated.
   * A reopened log (a follower installing a segment copy) is another object: a new reader.
   */
  private diskReader(log: SegmentedLog): EntryReader {
    if (this.reader === null || this.readerLog !== log) {
      this.readerFiles?.closeAll();
      this.readerFiles = new ReadFiles(4);
      this.reader = log.readerOver(this.readerFiles);
      this.readerLog = log;
      this.readerStart = log.startPosition;
      this.readerTruncations = log.truncations;
    } else if (this.readerStart !== log.startPosition) {
      this.readerFiles!.closeAll();
      this.reader.dropCache();
      this.readerStart = log.startPosition;
    }
    if (this.readerTruncations !== log.truncations) {
      // bytes the reader kept may have been cut and written again
      this.reader.dropCache();
      this.readerTruncations = log.truncations;
    }
    if (this.closeTimer === null) {
      this.closeTimer = setTimeout(this.closeHandles, REOPEN_HANDLES_MS);
      this.closeTimer.unref();
    }
    return this.reader;
  }

  private readonly closeHandles = (): void => {
    this.closeTimer = null;
    this.readerFiles?.closeAll();
  };
}

/** The path of the data file starting at `start`, if the log has it (files are few: the newest are searched first). */
function findSegment(segments: ReadonlyArray<{ readonly start: number; readonly path: string }>, start: number): string | undefined {
  for (let k = segments.length - 1; k >= 0; k--) {
    const s = segments[k]!;
    if (s.start === start) return s.path;
    if (s.start < start) return undefined;
  }
  return undefined;
}
