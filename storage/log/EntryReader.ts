// Reads entries that are on disk: the index entries say where, the data files hold them, and
// every entry read is checked against its index entry and its CRCs (the chain CRC too, between
// neighbours read together). Damage found here is a LogCorruptionError naming file and offset.
import {
  ENTRY_HEADER_SIZE,
  EntryMagic,
  INDEX_ENTRY_SIZE,
  crcProblem,
  decodeEntryHeader,
  decodeIndexEntry,
  indexMatches,
  isEntryMagic,
  readInt64,
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
  /** the body's CRC as the header holds it (signed; 0 in old entries written without CRCs); set by the log's reads */
  bodyCrc?: number;
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

/** Bytes one pread of copyMessageBodies covers at most (a single larger entry is read alone). */
export const MAX_SPAN_BYTES = 1024 * 1024;
/** What copyMessageBodies reads past the end of a sparse run, besides the run's own length again, when the file has it written. */
export const READ_AHEAD_BYTES = 64 * 1024;
/** The blocks copyMessageBodies keeps of sparse runs' files: aligned in the log, this size at most (less when it does not divide the segment size). */
export const BLOCK_BYTES = 128 * 1024;
/**
 * Blocks kept at most (32 MiB of 128 KiB blocks, allocated as needed): queues drained side by
 * side drift apart in the log, and once the span they are read from is larger than what is kept,
 * the least recently used blocks are the ones read next. 8 interleaved queues spread over 19 MB
 * took 2.9x less CPU per message than with the spans kept before; with 16 MiB kept, no less.
 */
export const CACHED_BLOCKS = 256;
/** Entries a dense run needs to be read by itself when the call's entries are sparse as a whole. */
export const MIN_DENSE_RUN = 8;

/** Bytes [start, start + valid) of the log, the aligned block `no`; valid < the block size when its file ended or the rest was not written. */
interface Block {
  no: number;
  valid: number;
  buf: Buffer;
}

export class EntryReader {
  /** blocks of the log that sparse runs read, by block number (log position / block size), least recently used first */
  private readonly blocks = new Map<number, Block>();
  private readonly blockSize: number;
  /** readSparse's list of buffers for one readv, and space for a header split between two blocks */
  private readonly iov: Buffer[] = [];
  private readonly header = Buffer.alloc(ENTRY_HEADER_SIZE);
  /** readBodies' space for a run when `out` has no room for its headers and gaps */
  private scratch: Buffer = Buffer.alloc(0);

  constructor(private readonly o: EntryReaderOptions) {
    let b = BLOCK_BYTES;
    while (b > 1 && o.dataSegmentSize % b !== 0) b /= 2;
    this.blockSize = b;
  }

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

  /**
   * Forgets the bytes copyMessageBodies kept: the caller's log was truncated (bytes at a kept
   * position may be written again with other content) or lost files.
   */
  dropCache(): void {
    this.blocks.clear();
  }

  /**
   * Copies message bodies into `out`, back to back from `outOffset`: entry k starts at data
   * position `pos[k]` and has a body of `size[k]` bytes, positions ascending (the consume
   * queue's view). Neighbours in one data file at most `maxGap` bytes apart share one pread and
   * the bytes between are dropped: on this VM a pread costs about as much as copying 16 KiB.
   *
   * How a run of neighbours is read depends on what lies between them:
   * - mostly the entries themselves (a queue's share of a batch send, or a queue that has the
   *   log to itself; a run of fewer than MIN_DENSE_RUN entries only when the call's entries are
   *   dense as a whole): one pread of just the run, into `out` itself when it has room for the
   *   headers and gaps too (see readBodies). Reading ahead here would only read other queues'
   *   entries, which their own pulls read as well unless all queues keep in step (3.2x the
   *   bytes read per message consumed, measured), and keeping the bytes would need a copy.
   * - other entries, mostly (queues interleaved message by message): through the kept blocks
   *   of the log (readSparse), read with some bytes ahead, below `limit` (the log position
   *   written so far, bytes that do not change until a truncation, see dropCache): the pulls
   *   of the queues whose messages are interleaved with these, and this queue's next pull, are
   *   served from them without reading the file again.
   * - any run the kept blocks hold whole is copied from them.
   * Each header must say MESSAGE, this position and this body length. CRCs are not computed on
   * this path (Java's broker reads its commit log unchecked too; recovery checks the tail).
   * Returns the number of entries copied: fewer than `count` when a data file is missing or
   * short (retention removed it under the reader). `out` past the bodies copied is scratch
   * space: give it ENTRY_HEADER_SIZE bytes per entry beyond the bodies so that dense runs are
   * read into it in place.
   */
  copyMessageBodies(pos: ArrayLike<number>, size: ArrayLike<number>, count: number, out: Buffer, outOffset: number, maxGap: number, limit = 0): number {
    const Z = this.o.dataSegmentSize;
    let at = outOffset;
    let k = 0;
    let callDense: boolean | undefined;
    while (k < count) {
      const first = pos[k]!;
      const fileStart = segmentStartOf(first, Z);
      let end = first + ENTRY_HEADER_SIZE + size[k]!;
      let j = k;
      while (j + 1 < count) {
        const p = pos[j + 1]!;
        const e = p + ENTRY_HEADER_SIZE + size[j + 1]!;
        if (p < end || p - end > maxGap || e - first > MAX_SPAN_BYTES || p - fileStart >= Z) break;
        end = e;
        j++;
      }
      const file = this.o.dataPaths.of(fileStart);
      const length = end - first;
      let copied: number;
      if (this.blocks.size > 0 && this.holds(first, end)) {
        // kept from an earlier read: copied from there, nothing read
        copied = this.readSparse(file, fileStart, pos, size, k, j, 0, out, at);
      } else if (
        length > MAX_SPAN_BYTES ||
        this.blockSize < 4096 ||
        // a few entries together in a call that is sparse as a whole (a queue interleaved with others) go through the blocks like the rest
        (this.isDense(pos, size, k, j, length) &&
          (j - k + 1 >= MIN_DENSE_RUN || (callDense ??= this.isDense(pos, size, 0, count - 1, pos[count - 1]! + ENTRY_HEADER_SIZE + size[count - 1]! - pos[0]!))))
      ) {
        copied = this.readBodies(file, fileStart, pos, size, k, j, length, out, at);
      } else {
        copied = this.readSparse(file, fileStart, pos, size, k, j, limit, out, at);
      }
      for (let m = k; m < k + copied; m++) at += size[m]!;
      if (copied < j - k + 1) return k + copied;
      k = j + 1;
    }
    return count;
  }

  /** Entries k..j fill at least 7/8 of the `length` bytes from the start of k to the end of j. */
  private isDense(pos: ArrayLike<number>, size: ArrayLike<number>, k: number, j: number, length: number): boolean {
    let need = 0;
    for (let m = k; m <= j; m++) need += ENTRY_HEADER_SIZE + size[m]!;
    return need * 8 >= length * 7;
  }

  /**
   * One pread of entries k..j of one data file (ascending, within MAX_SPAN_BYTES unless a single
   * entry), from the first's header to the last's end, straight into `out` at `at` when it has
   * the room (the bodies are then moved down over the headers and gaps, a copyWithin each),
   * else into scratch space. Every header checked. Returns how many entries were read whole
   * (fewer when the file is short or missing). On this VM one pread of a 37 KiB run and 32
   * moves cost about 9 us of CPU, a readv of the bodies straight into place 33 us (Node's
   * readv and the views of `out` cost 0.2-0.4 us per buffer), a pread that reads ahead to
   * 140 KiB and 32 Buffer.copy 24 us.
   */
  private readBodies(file: string, fileStart: number, pos: ArrayLike<number>, size: ArrayLike<number>, k: number, j: number, length: number, out: Buffer, at: number): number {
    const first = pos[k]!;
    let buf: Buffer;
    let base: number;
    if (out.length - at >= length) {
      buf = out;
      base = at;
    } else {
      // a run larger than a span is a single large entry: its space is not kept
      if (length > MAX_SPAN_BYTES) buf = Buffer.allocUnsafe(length);
      else {
        if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, 64 * 1024));
        buf = this.scratch;
      }
      base = 0;
    }
    const got = this.o.files.readInto(file, buf, base, length, first - fileStart);
    let o = at;
    for (let m = k; m <= j; m++) {
      const bodyLength = size[m]!;
      const rel = pos[m]! - first;
      if (rel + ENTRY_HEADER_SIZE + bodyLength > got) return m - k;
      const h = base + rel;
      // checked before the move: body m may land on its own header, never on a later one
      if (buf.readInt32BE(h) !== EntryMagic.MESSAGE || buf.readInt32BE(h + 4) !== ENTRY_HEADER_SIZE + bodyLength || readInt64(buf, h + 24) !== pos[m] || buf.readInt32BE(h + 44) !== bodyLength) {
        throw new LogCorruptionError(file, pos[m]! - fileStart, `no message entry of ${bodyLength} bytes starts here (a consume-queue entry points at it)`);
      }
      if (buf === out) out.copyWithin(o, h + ENTRY_HEADER_SIZE, h + ENTRY_HEADER_SIZE + bodyLength);
      else buf.copy(out, o, h + ENTRY_HEADER_SIZE, h + ENTRY_HEADER_SIZE + bodyLength);
      o += bodyLength;
    }
    return j - k + 1;
  }

  /**
   * Entries k..j of one data file through the kept blocks: the blocks the run covers and what
   * it reads ahead (the run's length again plus READ_AHEAD_BYTES, below `limit` and the file's
   * end) that are not kept, or not kept whole, are read with one readv of whole blocks (as far
   * as `limit` allows; without one, up to the run's end), then each entry is checked and its
   * body copied out (in parts where it crosses blocks). Blocks
   * are aligned in the log, so queues whose pulls overlap read each byte once while it is
   * kept. Returns how many entries were copied (fewer when the file is short or missing).
   */
  private readSparse(file: string, fileStart: number, pos: ArrayLike<number>, size: ArrayLike<number>, k: number, j: number, limit: number, out: Buffer, at: number): number {
    const B = this.blockSize;
    const first = pos[k]!;
    const end = pos[j]! + ENTRY_HEADER_SIZE + size[j]!;
    const fileEnd = fileStart + this.o.dataSegmentSize;
    // bytes worth reading: the run, and ahead of it what is written (nothing ahead without a limit)
    const upTo = Math.min(fileEnd, Math.max(end, Math.min(limit, end + (end - first) + READ_AHEAD_BYTES)));
    // blocks are read whole where the bytes are written: a block kept in part is read again
    const cap = Math.min(fileEnd, Math.max(end, limit));
    const firstBlock = Math.floor(first / B);
    const lastBlock = Math.floor((upTo - 1) / B);
    let missingFrom = -1;
    for (let n = firstBlock; n <= lastBlock + 1; n++) {
      const want = n <= lastBlock ? Math.min(B, cap - n * B) : 0;
      const have = n <= lastBlock ? this.blocks.get(n) : undefined;
      const missing = n <= lastBlock && (have === undefined || have.valid < want);
      // the run's kept blocks become the most recently used before any is evicted for the missing ones
      if (have !== undefined && !missing) this.touch(n);
      if (missing && missingFrom < 0) missingFrom = n;
      if (!missing && missingFrom >= 0) {
        this.readBlocks(file, fileStart, missingFrom, n - 1, cap);
        missingFrom = -1;
      }
    }
    let o = at;
    // the block of the entry before: most entries of a run lie in it whole
    let block: Block | undefined;
    let bStart = 0;
    let bEnd = 0; // bStart + valid
    for (let m = k; m <= j; m++) {
      const p = pos[m]!;
      const bodyLength = size[m]!;
      const entryEnd = p + ENTRY_HEADER_SIZE + bodyLength;
      if (p < bStart || entryEnd > bEnd) {
        const n = Math.floor(p / B);
        block = this.touch(n);
        bStart = n * B;
        bEnd = block === undefined ? 0 : bStart + block.valid;
        if (entryEnd > bEnd && !this.holds(p, entryEnd)) return m - k;
      }
      let h: Buffer;
      let hOff = p - bStart;
      if (hOff + ENTRY_HEADER_SIZE <= B) h = block!.buf;
      else {
        this.copyOut(p, ENTRY_HEADER_SIZE, this.header, 0);
        h = this.header;
        hOff = 0;
      }
      if (h.readInt32BE(hOff) !== EntryMagic.MESSAGE || h.readInt32BE(hOff + 4) !== ENTRY_HEADER_SIZE + bodyLength || readInt64(h, hOff + 24) !== p || h.readInt32BE(hOff + 44) !== bodyLength) {
        throw new LogCorruptionError(file, p - fileStart, `no message entry of ${bodyLength} bytes starts here (a consume-queue entry points at it)`);
      }
      if (entryEnd <= bStart + B) block!.buf.copy(out, o, p - bStart + ENTRY_HEADER_SIZE, entryEnd - bStart);
      else this.copyOut(p + ENTRY_HEADER_SIZE, bodyLength, out, o);
      o += bodyLength;
    }
    return j - k + 1;
  }

  /** Reads blocks from..to (block numbers, all in `file`) with one readv, keeping what it got below log position `upTo`. */
  private readBlocks(file: string, fileStart: number, from: number, to: number, upTo: number): void {
    const B = this.blockSize;
    const iov = this.iov;
    iov.length = 0;
    const list: Block[] = [];
    for (let n = from; n <= to; n++) {
      let b = this.blocks.get(n);
      if (b !== undefined) this.blocks.delete(n);
      else b = this.freeBlock(n);
      b.no = n;
      b.valid = 0;
      this.blocks.set(n, b);
      list.push(b);
      iov.push(upTo - n * B >= B ? b.buf : b.buf.subarray(0, upTo - n * B));
    }
    const got = this.o.files.readvInto(file, iov, from * B - fileStart);
    iov.length = 0;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      b.valid = Math.max(0, Math.min(B, got - i * B, upTo - b.no * B));
      if (b.valid === 0) this.blocks.delete(b.no);
    }
  }

  /** A block buffer for block `n`: the least recently used one once CACHED_BLOCKS are kept. */
  private freeBlock(n: number): Block {
    if (this.blocks.size >= CACHED_BLOCKS) {
      const oldest = this.blocks.values().next().value as Block;
      this.blocks.delete(oldest.no);
      return oldest;
    }
    return { no: n, valid: 0, buf: Buffer.allocUnsafe(this.blockSize) };
  }

  /** The kept block `n`, made the most recently used. */
  private touch(n: number): Block | undefined {
    const b = this.blocks.get(n);
    if (b !== undefined) {
      this.blocks.delete(n);
      this.blocks.set(n, b);
    }
    return b;
  }

  /** Whether kept blocks hold log bytes [from, to). */
  private holds(from: number, to: number): boolean {
    const B = this.blockSize;
    for (let n = Math.floor(from / B); n * B < to; n++) {
      const b = this.blocks.get(n);
      if (b === undefined || n * B + b.valid < Math.min(to, (n + 1) * B)) return false;
    }
    return true;
  }

  /** Copies log bytes [from, from + length) out of kept blocks (holds() said they are there). */
  private copyOut(from: number, length: number, out: Buffer, outAt: number): void {
    const B = this.blockSize;
    let p = from;
    let o = outAt;
    const end = from + length;
    while (p < end) {
      const n = Math.floor(p / B);
      const b = this.blocks.get(n)!;
      const off = p - n * B;
      const take = Math.min(end - p, B - off);
      b.buf.copy(out, o, off, off + take);
      p += take;
      o += take;
    }
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
        out.push({ magic: h.magic, index: h.index, term: h.term, pos: h.pos, body: buf.subarray(off + ENTRY_HEADER_SIZE, off + ie.size), bodyCrc: h.bodyCrc });
      }
      k = j + 1;
    }
  }
}
