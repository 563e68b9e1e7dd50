// The Raft log on DLedger's layout (storage/README.md): `<dir>/data` holds entries back to back
// in fixed-size segment files, `<dir>/index` holds one 32-byte index entry per log index.
//
// The main thread decides every byte and position here; a LogWriter (worker thread in
// production) does the writes. append() returns at once; whenWritten()/whenDurable() tell
// when the bytes reached the OS / the disk. Entries not yet written are served to readers
// from memory, so the leader can replicate what it has just appended.
//
// API
//   SegmentedLog.open({ dir, writer, dataSegmentSize?, indexSegmentSize?, log?, maxEntrySize?,
//                       maxBatchEntries?, maxBatchBytes? })      recovers, then owns the writer
//   firstIndex, lastIndex (-1 / firstIndex-1 when empty), lastTerm (-1 when empty),
//   startPosition, endPosition, writtenPosition, durablePosition, unwrittenBytes
//   append(entries, { sync?, beforeWrite? }) -> { firstIndex, lastIndex, endPosition, positions }
//   whenWritten(pos), whenDurable(pos)
//   entryAt(index), entryAtPosition(pos), readRange(fromIndex, maxCount, maxBytes), termAt(index)
//   truncateSuffix(fromIndex)   (await it before appending again)
//   dropPrefix(beforeIndex) -> { dataFiles, indexFiles, firstIndex, startPosition }
//   close()
//
// `<dir>/crc-checked-from` holds one decimal position, written (atomically) on the first open:
// the end of what Java DLedger wrote. Entries below it may have both CRCs 0; none after it may.
import fs from 'node:fs';
import path from 'node:path';
import {
  BLANK_MARKER_SIZE,
  ENTRY_HEADER_SIZE,
  EntryMagic,
  INDEX_ENTRY_SIZE,
  bodyLengthOf,
  decodeEntryHeader,
  encodeBlankMarker,
  putEntryHeader,
  putIndexEntry,
  headerProblem,
  isEntryMagic,
} from './entryCodec.js';
import { EntryReader, type LogEntry } from './EntryReader.js';
import { recoverLog, type DataSegment } from './logRecovery.js';
import type { LogWriter, WriteOp } from './LogWriter.js';
import { ReadFiles, SegmentPaths, indexOps, listSegments, segmentStartOf, syncDir } from './segmentFiles.js';
import { readCheckpoint, writeFileAtomic } from './termFiles.js';
import { UnwrittenEntries } from './UnwrittenEntries.js';
import { WriteWatermarks } from './WriteWatermarks.js';
import { crc32 } from '../../protocol/crc32.js';

export type { LogEntry } from './EntryReader.js';

/** RocketMQ's mappedFileSizeCommitLog, which it hands DLedger as the data file size. */
export const DEFAULT_DATA_SEGMENT_SIZE = 1024 * 1024 * 1024;
/** DLedger's index file: 5 Mi entries of 32 bytes. */
export const DEFAULT_INDEX_SEGMENT_SIZE = 5 * 1024 * 1024 * INDEX_ENTRY_SIZE;
/** Header + body. RocketMQ refuses messages over 4 MiB by default; this leaves room for larger settings. */
export const DEFAULT_MAX_ENTRY_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_ENTRIES = 16384;
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** Entries one readRange() returns at most. */
export const MAX_READ_ENTRIES = 65536;
/** Largest group buffer kept for reuse; bigger groups get a buffer of their own. */
const STAGING_KEEP_BYTES = 4 * 1024 * 1024;
/** File in `dir` with the position below which entries may carry zero CRCs (written by Java DLedger). */
export const CRC_MARKER_FILE = 'crc-checked-from';

export interface SegmentedLogOptions {
  /** the DLedger folder, `<storePathRootDir>/dledger-<selfId>` */
  dir: string;
  writer: LogWriter;
  dataSegmentSize?: number;
  indexSegmentSize?: number;
  log?: (line: string) => void;
  maxEntrySize?: number;
  maxBatchEntries?: number;
  maxBatchBytes?: number;
}

export interface AppendEntry {
  magic: number;
  term: number;
  body: Buffer | Buffer[];
  /** a follower passes what the leader assigned; it must equal what this log assigns */
  index?: number;
  pos?: number;
  /**
   * The body's CRC-32 (signed) as the leader's log stored it. Given and not 0, it is stored as is
   * and the body is not hashed again: a body damaged since the leader hashed it is then caught by
   * the CRC check of every read. Absent or 0: this log computes it.
   */
  bodyCrc?: number;
}

export interface AppendOptions {
  /** fsync this group before it counts as durable */
  sync?: boolean;
  /** called per entry once its index and pos are known, before its bytes go to the writer (the body may be patched here) */
  beforeWrite?: (i: number, index: number, pos: number) => void;
}

export interface AppendResult {
  firstIndex: number;
  lastIndex: number;
  endPosition: number;
  positions: number[];
  /** the body CRC stored for each entry (signed), for the leader to send along */
  bodyCrcs: number[];
}

export interface DropResult {
  dataFiles: string[];
  indexFiles: string[];
  firstIndex: number;
  startPosition: number;
}

export class SegmentedLog {
  readonly dir: string;
  readonly dataDir: string;
  readonly indexDir: string;
  readonly dataSegmentSize: number;
  readonly indexSegmentSize: number;
  readonly maxEntrySize: number;
  readonly maxBatchEntries: number;
  readonly maxBatchBytes: number;
  /** entries below this position may have zero CRCs */
  readonly crcCheckedFrom: number;

  private readonly writer: LogWriter;
  private readonly files: ReadFiles;
  private readonly dataPaths: SegmentPaths;
  private readonly indexPaths: SegmentPaths;
  private readonly marks: WriteWatermarks;
  private dataFiles: DataSegment[];
  private _firstIndex: number;
  private _lastIndex: number;
  private _lastTerm: number;
  private _endPosition: number;
  private lastChainCrc: number;
  private readonly unwritten = new UnwrittenEntries();
  /** reused group buffers (data, index entries), for writers that release them on submit */
  private readonly staging: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  private readonly reader: EntryReader;
  private truncating = false;
  private _truncations = 0;
  private dropping = false;
  private closed = false;

  private constructor(
    o: Required<Omit<SegmentedLogOptions, 'log'>>,
    crcCheckedFrom: number,
    state: Awaited<ReturnType<typeof recoverLog>>,
    files: ReadFiles,
  ) {
    this.dir = o.dir;
    this.dataDir = path.join(o.dir, 'data');
    this.indexDir = path.join(o.dir, 'index');
    this.dataPaths = new SegmentPaths(this.dataDir);
    this.indexPaths = new SegmentPaths(this.indexDir);
    this.dataSegmentSize = o.dataSegmentSize;
    this.indexSegmentSize = o.indexSegmentSize;
    this.maxEntrySize = o.maxEntrySize;
    this.maxBatchEntries = o.maxBatchEntries;
    this.maxBatchBytes = o.maxBatchBytes;
    this.crcCheckedFrom = crcCheckedFrom;
    this.writer = o.writer;
    this.files = files;
    this.dataFiles = state.dataFiles;
    this._firstIndex = state.firstIndex;
    this._lastIndex = state.lastIndex;
    this._lastTerm = state.lastTerm;
    this._endPosition = state.endPosition;
    this.lastChainCrc = state.lastChainCrc;
    this.reader = this.readerOver(files);
    this.marks = new WriteWatermarks(o.writer, state.endPosition, (written) => this.unwritten.release(written));
  }

  /** A reader of this log's files through `files` (handles of the caller's own, apart from the log's). */
  readerOver(files: ReadFiles): EntryReader {
    return new EntryReader({
      files,
      dataPaths: this.dataPaths,
      indexPaths: this.indexPaths,
      dataSegmentSize: this.dataSegmentSize,
      indexSegmentSize: this.indexSegmentSize,
      maxEntrySize: this.maxEntrySize,
      crcCheckedFrom: this.crcCheckedFrom,
    });
  }

  /** Opens (creating if needed) and recovers the log in `dir`. The log owns the writer from here on, also when open fails. */
  static async open(opts: SegmentedLogOptions): Promise<SegmentedLog> {
    const dataSegmentSize = opts.dataSegmentSize ?? DEFAULT_DATA_SEGMENT_SIZE;
    const indexSegmentSize = opts.indexSegmentSize ?? DEFAULT_INDEX_SEGMENT_SIZE;
    if (!Number.isInteger(dataSegmentSize) || dataSegmentSize < 1024 || dataSegmentSize > 0x7fffffff) {
      throw new RangeError(`dataSegmentSize must be 1024 .. 2^31-1 bytes (the blank marker holds it as int32), got ${dataSegmentSize}`);
    }
    if (!Number.isInteger(indexSegmentSize) || indexSegmentSize < INDEX_ENTRY_SIZE || indexSegmentSize % INDEX_ENTRY_SIZE !== 0) {
      throw new RangeError(`indexSegmentSize must be a positive multiple of ${INDEX_ENTRY_SIZE}, got ${indexSegmentSize}`);
    }
    const maxEntrySize = Math.min(opts.maxEntrySize ?? DEFAULT_MAX_ENTRY_SIZE, dataSegmentSize - BLANK_MARKER_SIZE);
    const o = {
      dir: opts.dir,
      writer: opts.writer,
      dataSegmentSize,
      indexSegmentSize,
      maxEntrySize,
      maxBatchEntries: opts.maxBatchEntries ?? DEFAULT_MAX_BATCH_ENTRIES,
      maxBatchBytes: opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    };
    const log = opts.log ?? ((line: string) => process.stderr.write(`storage/log ${line}\n`));
    const files = new ReadFiles();
    try {
      const dataDir = path.join(opts.dir, 'data');
      const indexDir = path.join(opts.dir, 'index');
      for (const d of [dataDir, indexDir]) fs.mkdirSync(d, { recursive: true });
      const markerFile = path.join(opts.dir, CRC_MARKER_FILE);
      const marker = readMarker(markerFile);
      const checkpoint = await readCheckpoint(opts.dir).catch((e: Error) => {
        log(`ignoring the checkpoint (${e.message}); recovery scans from the third-last data file`);
        return undefined;
      });
      const state = await recoverLog({
        dataDir,
        indexDir,
        dataSegmentSize,
        indexSegmentSize,
        maxEntrySize,
        writer: opts.writer,
        files,
        crcCheckedFrom: marker ?? Number.POSITIVE_INFINITY,
        checkpoint,
        log,
      });
      let crcFrom = marker;
      if (crcFrom === undefined) {
        // first open by raftmq: whatever is here was written by Java DLedger, without CRCs
        crcFrom = state.endPosition;
        await writeFileAtomic(markerFile, `${crcFrom}\n`);
        if (crcFrom > 0) log(`adopted a store without CRCs: entries below position ${crcFrom} are accepted with zero CRCs`);
      }
      log(`opened ${opts.dir}: entries ${state.firstIndex}..${state.lastIndex}, last term ${state.lastTerm}, end position ${state.endPosition}`);
      return new SegmentedLog(o, crcFrom, state, files);
    } catch (e) {
      files.closeAll();
      await opts.writer.close().catch(() => undefined);
      throw e;
    }
  }

  get firstIndex(): number {
    return this._firstIndex;
  }
  get lastIndex(): number {
    return this._lastIndex;
  }
  get lastTerm(): number {
    return this._lastTerm;
  }
  /** where the first data file starts */
  get startPosition(): number {
    return this.dataFiles[0]?.start ?? segmentStartOf(this._endPosition, this.dataSegmentSize);
  }
  /** where the next entry starts, unless it must roll to the next data file */
  get endPosition(): number {
    return this._endPosition;
  }
  /** changes whenever truncateSuffix starts or ends: readers that keep file bytes drop them then */
  get truncations(): number {
    return this._truncations;
  }
  get writtenPosition(): number {
    return this.marks.written;
  }
  get durablePosition(): number {
    return this.marks.durable;
  }
  /** bytes appended but not yet reported written (held in memory for readers) */
  get unwrittenBytes(): number {
    return this.unwritten.bytes;
  }

  append(entries: readonly AppendEntry[], opts: AppendOptions = {}): AppendResult {
    this.checkWritable();
    if (this.truncating) throw new Error('append during truncateSuffix: await the truncation first');
    const n = entries.length;
    if (n === 0) return { firstIndex: this._lastIndex + 1, lastIndex: this._lastIndex, endPosition: this._endPosition, positions: [], bodyCrcs: [] };
    if (n > this.maxBatchEntries) throw new RangeError(`batch of ${n} entries exceeds maxBatchEntries ${this.maxBatchEntries}`);

    // Plan every position first, so that a refused batch changes nothing.
    const Z = this.dataSegmentSize;
    const positions = new Array<number>(n);
    const sizes = new Array<number>(n);
    let pos = this._endPosition;
    let index = this._lastIndex + 1;
    let term = this._lastTerm;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      if (!isEntryMagic(e.magic)) throw new RangeError(`entry ${i}: magic ${e.magic} is not an entry kind`);
      if (!Number.isSafeInteger(e.term) || e.term < 0 || e.term < term) {
        throw new RangeError(`entry ${i}: term ${e.term} is below the log's term ${term} (terms never decrease)`);
      }
      const size = ENTRY_HEADER_SIZE + bodyLengthOf(e.body);
      if (size > this.maxEntrySize) {
        throw new RangeError(`entry ${i}: ${size} bytes exceeds the largest entry of ${this.maxEntrySize} bytes (maxEntrySize, data segment ${Z})`);
      }
      const fileStart = segmentStartOf(pos, Z);
      if (size + BLANK_MARKER_SIZE > fileStart + Z - pos) pos = fileStart + Z;
      if (e.index !== undefined && e.index !== index) throw new Error(`entry ${i}: given index ${e.index} but this log's next index is ${index}`);
      if (e.pos !== undefined && e.pos !== pos) throw new Error(`entry ${i} (index ${index}): given pos ${e.pos} but this log would put it at ${pos}`);
      if (e.bodyCrc !== undefined && (e.bodyCrc | 0) !== e.bodyCrc) throw new RangeError(`entry ${i}: body CRC ${e.bodyCrc} is not a 32-bit signed integer`);
      positions[i] = pos;
      sizes[i] = size;
      bytes += size;
      pos += size;
      index++;
      term = e.term;
    }
    if (bytes > this.maxBatchBytes) throw new RangeError(`batch of ${bytes} bytes exceeds maxBatchBytes ${this.maxBatchBytes}`);

    const first = this._lastIndex + 1;
    if (opts.beforeWrite) {
      for (let i = 0; i < n; i++) {
        opts.beforeWrite(i, first + i, positions[i]!);
        // positions are fixed by now: the hook may patch bytes, never change the length
        if (ENTRY_HEADER_SIZE + bodyLengthOf(entries[i]!.body) !== sizes[i]) throw new Error(`entry ${i}: beforeWrite changed the body length`);
      }
    }

    // One buffer holds every entry of the group, header and body, back to back per file: one
    // iovec per file for the writer instead of two per entry (the body copy costs less than the
    // slice objects and iovecs it replaces).
    const data = this.stagingBuffer(0, bytes);
    const index32 = this.stagingBuffer(1, n * INDEX_ENTRY_SIZE);
    const chains = new Array<number>(n);
    const crcs = new Array<number>(n);
    const ops: WriteOp[] = [];
    const newFiles: DataSegment[] = [];
    let op: WriteOp | undefined;
    let opFrom = 0;
    let d = 0;
    let chain = this.lastChainCrc;
    let cursor = this._endPosition;
    const lastFileStart = this.dataFiles.at(-1)?.start ?? -1;
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      const at = positions[i]!;
      const fileStart = segmentStartOf(at, Z);
      if (at !== cursor) {
        // rolled: fill the rest of the old file with the blank marker
        const oldStart = segmentStartOf(cursor, Z);
        const blank = encodeBlankMarker(oldStart + Z - cursor);
        if (op && op.file === this.dataPaths.of(oldStart)) {
          if (d > opFrom) op.buffers.push(data.subarray(opFrom, d));
          op.buffers.push(blank);
        } else ops.push({ file: this.dataPaths.of(oldStart), filePosition: cursor - oldStart, buffers: [blank] });
        op = undefined;
      }
      if (!op) {
        op = { file: this.dataPaths.of(fileStart), filePosition: at - fileStart, buffers: [] };
        opFrom = d;
        ops.push(op);
        if (fileStart > lastFileStart && !newFiles.some((f) => f.start === fileStart)) {
          newFiles.push({ start: fileStart, path: op.file, firstIndex: first + i });
        }
      }
      const bodyAt = d + ENTRY_HEADER_SIZE;
      let bodyEnd = bodyAt;
      let bodyCrc = e.bodyCrc ?? 0;
      if (Buffer.isBuffer(e.body)) {
        // the CRC of the buffer given, not of a view made of the copy: one object less per entry
        if (bodyCrc === 0) bodyCrc = crc32(e.body) | 0;
        // TypedArray's set, not Buffer's copy: the copy's JS wrapper checks what the plan checked
        data.set(e.body, bodyAt);
        bodyEnd += e.body.length;
      } else {
        for (const part of e.body) bodyEnd += part.copy(data, bodyEnd);
        if (bodyCrc === 0) bodyCrc = crc32(data.subarray(bodyAt, bodyEnd)) | 0;
      }
      chain = putEntryHeader(data, d, e.magic, first + i, e.term, at, bodyEnd - bodyAt, bodyCrc, chain);
      chains[i] = chain;
      crcs[i] = bodyCrc;
      putIndexEntry(index32, i * INDEX_ENTRY_SIZE, e.magic, at, sizes[i]!, first + i, e.term);
      d = bodyEnd;
      cursor = at + sizes[i]!;
    }
    if (op && d > opFrom) op.buffers.push(data.subarray(opFrom, d));
    ops.push(...indexOps(this.indexPaths, this.indexSegmentSize, first, index32));
    this.writer.submit({ ops, endPosition: cursor, sync: opts.sync ?? false });

    // The writer has the group: commit the new state.
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      this.unwritten.push({ index: first + i, term: e.term, magic: e.magic, pos: positions[i]!, size: sizes[i]!, chainCrc: chains[i]!, bodyCrc: crcs[i]!, body: e.body });
    }
    this.dataFiles.push(...newFiles);
    this._lastIndex = first + n - 1;
    this._lastTerm = term;
    this._endPosition = cursor;
    this.lastChainCrc = chain;
    this.marks.track(cursor);
    return { firstIndex: first, lastIndex: this._lastIndex, endPosition: cursor, positions, bodyCrcs: crcs };
  }

  /**
   * A buffer for a group's data (slot 0) or index entries (slot 1). With a writer that is done
   * with the buffers when submit() returns, or that holds none now (a coalescing writer between
   * batches, such as a Raft node's Readies, each written before the next), the same memory serves every group up to
   * STAGING_KEEP_BYTES: a fresh buffer of a few hundred KiB per group cost a page fault per 4 KiB
   * on the first copy into it, and counted as external memory growth for V8's GC.
   */
  private stagingBuffer(slot: 0 | 1, bytes: number): Buffer {
    if (!(this.writer.releasesOnSubmit || this.writer.buffersReleased === true) || bytes > STAGING_KEEP_BYTES) return Buffer.allocUnsafe(bytes);
    let b = this.staging[slot];
    if (b === undefined || b.length < bytes) {
      b = Buffer.allocUnsafeSlow(Math.min(STAGING_KEEP_BYTES, Math.max(bytes, 2 * (b?.length ?? 32 * 1024))));
      this.staging[slot] = b;
    }
    return b.subarray(0, bytes);
  }

  /**
   * The appends made so far go to the writer's files now, when the writer would have waited to
   * coalesce them with others (SyncLogWriter's next immediate): for a caller whose append was a
   * whole batch already, such as a Raft node's Ready.
   */
  writeNow(): void {
    this.writer.writeQueued?.();
  }

  /** Resolves once everything up to `pos` is in the OS (rejects if the writer fails or the bytes are truncated away). */
  whenWritten(pos: number): Promise<void> {
    return this.marks.whenWritten(pos);
  }

  /** Resolves once everything up to `pos` is fsynced. */
  whenDurable(pos: number): Promise<void> {
    return this.marks.whenDurable(pos);
  }

  entryAt(index: number): LogEntry {
    return this.readRange(index, 1, 0)[0]!;
  }

  /**
   * Entries from `fromIndex` on: at most `maxCount`, and no more than `maxBytes` of entries
   * (headers included), except that the first entry is always returned.
   */
  readRange(fromIndex: number, maxCount: number, maxBytes: number): LogEntry[] {
    this.checkIndex(fromIndex);
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new RangeError(`maxCount must be a positive integer, got ${maxCount}`);
    const lastWanted = Math.min(this._lastIndex, fromIndex + Math.min(maxCount, MAX_READ_ENTRIES) - 1);
    const out: LogEntry[] = [];
    let bytes = 0;
    let i = fromIndex;
    const diskLast = Math.min(lastWanted, (this.unwritten.firstIndex ?? this._lastIndex + 1) - 1);
    if (i <= diskLast) {
      // no entry is smaller than its header: never read more index entries than maxBytes can take
      const count = Math.min(diskLast - i + 1, Math.floor(Math.max(0, maxBytes) / ENTRY_HEADER_SIZE) + 1);
      i += this.reader.read(i, count, maxBytes, out);
      for (const e of out) bytes += ENTRY_HEADER_SIZE + e.body.length;
      if (i <= diskLast) return out; // stopped by maxBytes
    }
    for (; i <= lastWanted; i++) {
      const p = this.unwritten.at(i)!;
      if (out.length > 0 && bytes + p.size > maxBytes) break;
      bytes += p.size;
      out.push({ magic: p.magic, index: p.index, term: p.term, pos: p.pos, body: Buffer.isBuffer(p.body) ? p.body : Buffer.concat(p.body), bodyCrc: p.bodyCrc });
    }
    return out;
  }

  /** The entry that starts at data position `pos`. */
  entryAtPosition(pos: number): LogEntry {
    if (this.closed) throw new Error('log is closed');
    if (!Number.isSafeInteger(pos) || pos < this.startPosition || pos >= this._endPosition) {
      throw new RangeError(`position ${pos} is outside the log [${this.startPosition}, ${this._endPosition})`);
    }
    const held = this.unwritten.atPosition(pos);
    if (held === null) throw new RangeError(`no entry starts at position ${pos}`);
    if (held) return this.readRange(held.index, 1, 0)[0]!;
    const fileStart = segmentStartOf(pos, this.dataSegmentSize);
    const file = this.dataPaths.of(fileStart);
    const hb = this.files.read(file, pos - fileStart, ENTRY_HEADER_SIZE);
    if (hb.length < ENTRY_HEADER_SIZE) throw new RangeError(`no entry starts at position ${pos} (${file} is shorter)`);
    const h = decodeEntryHeader(hb);
    if (h.magic === EntryMagic.BLANK) throw new RangeError(`position ${pos} holds the blank end-of-file marker, not an entry`);
    const problem = headerProblem(h, { pos, index: undefined, minTerm: 0, segmentRoom: fileStart + this.dataSegmentSize - pos });
    if (problem || h.index < this._firstIndex || h.index > this._lastIndex) {
      throw new RangeError(`no entry starts at position ${pos}${problem ? ` (${problem})` : ''}`);
    }
    const e = this.readRange(h.index, 1, 0)[0]!;
    if (e.pos !== pos) throw new RangeError(`no entry starts at position ${pos}; entry ${h.index} is at ${e.pos}`);
    return e;
  }

  termAt(index: number): number {
    if (index === this._lastIndex && index >= this._firstIndex) return this._lastTerm;
    this.checkIndex(index);
    return this.unwritten.at(index)?.term ?? this.reader.indexEntry(index).term;
  }

  /**
   * Drops entries >= fromIndex (Raft found a conflict). Appends are refused until this resolves.
   * The first entry cannot be removed unless the log starts at index 0 (an empty log elsewhere
   * would forget its first index).
   */
  async truncateSuffix(fromIndex: number): Promise<void> {
    this.checkWritable();
    if (this.truncating || this.dropping) throw new Error('truncateSuffix while another truncation or prefix drop runs');
    if (!Number.isSafeInteger(fromIndex)) throw new RangeError(`fromIndex must be an integer, got ${fromIndex}`);
    if (fromIndex > this._lastIndex) return;
    if (fromIndex < this._firstIndex || (fromIndex === this._firstIndex && this._firstIndex > 0)) {
      throw new RangeError(`cannot truncate from index ${fromIndex}: the log starts at ${this._firstIndex} and would lose its first index`);
    }
    const target = this.locate(fromIndex);
    let prevTerm = -1;
    let prevChain = 0;
    if (fromIndex > this._firstIndex) {
      const prev = this.locate(fromIndex - 1);
      prevTerm = prev.term;
      prevChain = prev.chainCrc;
    }
    this.truncating = true;
    this._truncations++;
    try {
      this._lastIndex = fromIndex - 1;
      this._lastTerm = prevTerm;
      this._endPosition = target.pos;
      this.lastChainCrc = prevChain;
      this.marks.abandon(target.pos);
      // let every submitted write land first, so no file we cut or delete is still being created
      await this.writer.flush();
      const Z = this.dataSegmentSize;
      const fileStart = segmentStartOf(target.pos, Z);
      const k = this.dataFiles.findIndex((f) => f.start === fileStart);
      if (k < 0) throw new Error(`internal: no data file holds position ${target.pos}`);
      const dropWhole = target.pos === fileStart && k > 0;
      const keep = dropWhole ? k : k + 1;
      const gone = this.dataFiles.slice(keep);
      this.dataFiles = this.dataFiles.slice(0, keep);
      if (!dropWhole) await this.writer.truncate(this.dataPaths.of(fileStart), target.pos - fileStart);
      for (const f of gone) await this.deleteFile(f.path);

      const slot = fromIndex * INDEX_ENTRY_SIZE;
      const slotFile = segmentStartOf(slot, this.indexSegmentSize);
      for (const f of listSegments(this.indexDir, this.indexSegmentSize, 'index')) {
        if (f.start > slotFile) await this.deleteFile(f.path);
        else if (f.start === slotFile) await this.writer.truncate(f.path, slot - slotFile);
      }
      syncDir(this.dataDir);
      syncDir(this.indexDir);
      await this.writer.flush();
      // Everything submitted before has been written and flushed by now.
      this.unwritten.clear();
      this.marks.truncated(target.pos);
    } finally {
      this.truncating = false;
      this._truncations++; // readers that kept bytes while it ran drop them too
    }
  }

  /**
   * Retention: deletes the data files whose entries are all below `beforeIndex` (never the last
   * file that holds entries) and the index files wholly below the new first index.
   */
  /** The data files, oldest first: start position, path, index of their first entry (for retention). */
  get dataSegments(): ReadonlyArray<Readonly<DataSegment>> {
    return this.dataFiles;
  }

  async dropPrefix(beforeIndex: number): Promise<DropResult> {
    this.checkWritable();
    if (this.truncating || this.dropping) throw new Error('dropPrefix while another truncation or prefix drop runs');
    let lastWithEntries = -1;
    for (let k = 0; k < this.dataFiles.length; k++) if (this.dataFiles[k]!.firstIndex <= this._lastIndex) lastWithEntries = k;
    let k = 0;
    while (k < lastWithEntries && this.dataFiles[k + 1]!.firstIndex <= beforeIndex) k++;
    const result: DropResult = { dataFiles: [], indexFiles: [], firstIndex: this._firstIndex, startPosition: this.startPosition };
    if (k === 0) return result;
    this.dropping = true;
    try {
      await this.writer.flush(); // pending writes may still create index files we are about to list
      const gone = this.dataFiles.slice(0, k);
      this.dataFiles = this.dataFiles.slice(k);
      this._firstIndex = this.dataFiles[0]!.firstIndex;
      result.firstIndex = this._firstIndex;
      result.startPosition = this.dataFiles[0]!.start;
      for (const f of gone) {
        await this.deleteFile(f.path);
        result.dataFiles.push(f.path);
      }
      for (const f of listSegments(this.indexDir, this.indexSegmentSize, 'index')) {
        if (f.start + this.indexSegmentSize <= this._firstIndex * INDEX_ENTRY_SIZE) {
          await this.deleteFile(f.path);
          result.indexFiles.push(f.path);
        }
      }
      syncDir(this.dataDir);
      syncDir(this.indexDir);
      return result;
    } finally {
      this.dropping = false;
    }
  }

  /** Finishes pending writes, fsyncs and closes the writer; waiters up to the end resolve. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.marks.error) await this.writer.close();
      else await this.writer.close().catch(() => undefined);
      if (!this.marks.error) this.marks.finish(this._endPosition);
    } finally {
      this.marks.fail(new Error('log closed'));
      this.files.closeAll();
      this.unwritten.clear();
    }
  }

  private checkWritable(): void {
    if (this.closed) throw new Error('log is closed');
    const err = this.marks.error;
    if (err) throw new Error(`log writer failed: ${err.message}`, { cause: err });
  }

  private checkIndex(index: number): void {
    if (this.closed) throw new Error('log is closed');
    if (!Number.isSafeInteger(index)) throw new RangeError(`index must be an integer, got ${index}`);
    if (index < this._firstIndex) throw new RangeError(`index ${index} is below the first index ${this._firstIndex} (dropped)`);
    if (index > this._lastIndex) throw new RangeError(`index ${index} is beyond the last index ${this._lastIndex}`);
  }

  /** pos, term and chain CRC of an entry (for truncation). */
  private locate(index: number): { pos: number; term: number; chainCrc: number } {
    const p = this.unwritten.at(index);
    if (p) return { pos: p.pos, term: p.term, chainCrc: p.chainCrc };
    const e = this.readRange(index, 1, 0)[0]!;
    return { pos: e.pos, term: e.term, chainCrc: this.reader.chainCrcAt(e.pos) };
  }

  private async deleteFile(file: string): Promise<void> {
    await this.writer.release(file);
    this.files.forget(file);
    fs.rmSync(file, { force: true });
  }
}

function readMarker(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const v = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(v)) {
    throw new Error(`${file} should hold one position, found ${JSON.stringify(text.slice(0, 40))}; delete it only to re-adopt a store written by Java DLedger`);
  }
  return v;
}
