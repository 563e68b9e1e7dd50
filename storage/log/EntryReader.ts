// Reads entries that are on disk: the index entries say where, the data files hold them, and
// every entry read is checked against its index entry and its CRCs (the chain CRC too, between
// neighbours read together). Damage found here is a LogCorruptionError naming file and offset.
import {
  ENTRY_HEADER_SIZE,
  INDEX_ENTRY_SIZE,
  crcProblem,
  decodeEntryHeader,
  decodeIndexEntry,
  indexMatches,
  isEntryMagic,
  type IndexEntry,
} from './entryCodec.js';
import { LogCorruptionError } from './LogCorruptionError.js';
import { readLogical, segmentStartOf, type ReadFiles, type SegmentPaths } from './segmentFiles.js';

export interface LogEntry {
  magic: number;
  index: number;
  term: number;
  pos: number;
  /** for entries read from disk, a view into a buffer that may hold neighbouring entries */
  body: Buffer;
}

export interface EntryReaderOptions {
  files: ReadFiles;
  dataPaths: SegmentPaths;
  indexPaths: SegmentPaths;
  dataSegmentSize: number;
  indexSegmentSize: number;
  maxEntrySize: number;
  /** entries below this position may carry zero CRCs */
  crcCheckedFrom: number;
}

export class EntryReader {
  constructor(private readonly o: EntryReaderOptions) {}

  /** The index entry of `index`, checked to be one. */
  indexEntry(index: number): IndexEntry {
    const at = index * INDEX_ENTRY_SIZE;
    const e = decodeIndexEntry(readLogical(this.o.files, this.o.indexPaths, this.o.indexSegmentSize, at, INDEX_ENTRY_SIZE));
    this.checkIndexEntry(e, index, at);
    return e;
  }

  /**
   * Appends to `out` the entries from `from` on, at most `count`, stopping before the one that
   * would take the total past `maxBytes` (the first is always read). Returns how many it read.
   */
  read(from: number, count: number, maxBytes: number, out: LogEntry[]): number {
    const run = this.indexRun(from, count, maxBytes);
    this.readData(run, out);
    return run.length;
  }

  /** The chain CRC stored in the header of the entry at `pos` (the log continues the chain from it). */
  chainCrcAt(pos: number): number {
    const fileStart = segmentStartOf(pos, this.o.dataSegmentSize);
    const b = this.o.files.read(this.o.dataPaths.of(fileStart), pos - fileStart + 36, 4);
    if (b.length < 4) throw new LogCorruptionError(this.o.dataPaths.of(fileStart), pos - fileStart, 'entry header is cut short by the end of the file');
    return b.readInt32BE(0);
  }

  private checkIndexEntry(e: IndexEntry, index: number, at: number): void {
    if (e.index !== index || !isEntryMagic(e.magic) || e.size < ENTRY_HEADER_SIZE || e.size > this.o.maxEntrySize) {
      const fileStart = segmentStartOf(at, this.o.indexSegmentSize);
      throw new LogCorruptionError(
        this.o.indexPaths.of(fileStart),
        at - fileStart,
        `index entry for ${index} reads magic ${e.magic}, index ${e.index}, size ${e.size}`,
      );
    }
  }

  private indexRun(from: number, count: number, maxBytes: number): IndexEntry[] {
    const at = from * INDEX_ENTRY_SIZE;
    const b = readLogical(this.o.files, this.o.indexPaths, this.o.indexSegmentSize, at, count * INDEX_ENTRY_SIZE);
    const out: IndexEntry[] = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const e = decodeIndexEntry(b, i * INDEX_ENTRY_SIZE);
      this.checkIndexEntry(e, from + i, at + i * INDEX_ENTRY_SIZE);
      if (out.length > 0 && bytes + e.size > maxBytes) break;
      bytes += e.size;
      out.push(e);
    }
    return out;
  }

  /** One pread per run of adjacent entries in one data file. */
  private readData(entries: IndexEntry[], out: LogEntry[]): void {
    const Z = this.o.dataSegmentSize;
    let k = 0;
    let prevChain: number | undefined;
    while (k < entries.length) {
      const first = entries[k]!;
      const fileStart = segmentStartOf(first.pos, Z);
      let j = k;
      while (j + 1 < entries.length && entries[j + 1]!.pos === entries[j]!.pos + entries[j]!.size && segmentStartOf(entries[j + 1]!.pos, Z) === fileStart) j++;
      const end = entries[j]!.pos + entries[j]!.size;
      const file = this.o.dataPaths.of(fileStart);
      const buf = this.o.files.read(file, first.pos - fileStart, end - first.pos);
      for (let m = k; m <= j; m++) {
        const ie = entries[m]!;
        const off = ie.pos - first.pos;
        const fileOffset = ie.pos - fileStart;
        if (off + ie.size > buf.length) throw new LogCorruptionError(file, fileOffset, `entry ${ie.index} of ${ie.size} bytes is cut short by the end of the file`);
        const h = decodeEntryHeader(buf, off);
        if (!indexMatches(ie, h)) throw new LogCorruptionError(file, fileOffset, `entry ${ie.index}: header disagrees with its index entry`);
        const bad = crcProblem(buf, off, h, prevChain, ie.pos < this.o.crcCheckedFrom);
        if (bad) throw new LogCorruptionError(file, fileOffset, `entry ${ie.index}: ${bad}`);
        prevChain = h.chainCrc;
        out.push({ magic: h.magic, index: h.index, term: h.term, pos: h.pos, body: buf.subarray(off + ENTRY_HEADER_SIZE, off + ie.size) });
      }
      k = j + 1;
    }
  }
}
