// Recovery on open: find where the log really ends and make the files agree with it.
//
// The scan starts at the last checkpoint's committed index (else the first entry of the
// third-last data file, else the first data file) and checks every entry from there: header
// fields, body CRC, chain CRC, and the index entry. Index entries that disagree or are missing
// are rewritten from the data (only those, not everything after the first one). The scan stops at the first entry that is absent, zero or bad.
// If a valid entry can still be found after that spot, the damage is in the middle of the log
// and we refuse to start (LogCorruptionError); otherwise it is a torn tail from a crash, and
// it is cut off with one log line. A zero header followed by zeros is the end of a
// preallocated Java file, not damage, and is left as it is.
import fs from 'node:fs';
import {
  BLANK_MARKER_SIZE,
  ENTRY_HEADER_SIZE,
  EntryMagic,
  INDEX_ENTRY_SIZE,
  crcProblem,
  decodeEntryHeader,
  decodeIndexEntry,
  encodeBlankMarker,
  encodeIndexEntryInto,
  headerProblem,
  indexMatches,
  isAllZero,
  isEntryMagic,
  type EntryHeader,
  type IndexEntry,
} from './entryCodec.js';
import { LogCorruptionError } from './LogCorruptionError.js';
import type { LogWriter } from './LogWriter.js';
import {
  SegmentPaths,
  indexOps,
  listSegments,
  readLogical,
  segmentPath,
  segmentStartOf,
  syncDir,
  syncFile,
  type ReadFiles,
  type SegmentFile,
} from './segmentFiles.js';
import type { CheckpointState } from './termFiles.js';

export interface DataSegment {
  start: number;
  path: string;
  /** index of the file's first entry; lastIndex + 1 for a file that holds no entry yet */
  firstIndex: number;
}

export interface RecoveryInput {
  dataDir: string;
  indexDir: string;
  dataSegmentSize: number;
  indexSegmentSize: number;
  maxEntrySize: number;
  writer: LogWriter;
  files: ReadFiles;
  /** entries below this position may carry zero CRCs (Infinity on the first open of a Java store) */
  crcCheckedFrom: number;
  checkpoint: CheckpointState | undefined;
  log: (line: string) => void;
}

export interface RecoveredLog {
  dataFiles: DataSegment[];
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  lastChainCrc: number;
  endPosition: number;
}

/** Bytes read per scan step; bigger entries are read whole. */
const SCAN_WINDOW = 4 * 1024 * 1024;
/** Index entries read per step of the cross-check. */
const INDEX_WINDOW_ENTRIES = 4096;
/** Rebuilt index entries per write group. */
const REWRITE_BATCH = 16384;
/** Bytes after a zero header that must also be zero for it to count as the end of a preallocated file. */
const ZERO_TAIL_CHECK = 64 * 1024;
/** Index entries past the damage tried when looking for valid entries that follow it. */
const FOLLOW_PROBES = 64;

interface ScanStart {
  fileK: number;
  pos: number;
  expectIndex: number | undefined;
  minTerm: number;
  prevChain: number | undefined;
  prevIndex: number;
  prevTerm: number;
}

interface Stop {
  pos: number;
  kind: 'end' | 'zero' | 'damage';
  reason: string;
  /** the header at the stop, when its length fields are usable for finding the next entry */
  header: EntryHeader | undefined;
}

export async function recoverLog(input: RecoveryInput): Promise<RecoveredLog> {
  return new Recovery(input).run();
}

class Recovery {
  private readonly Z: number;
  private readonly Zi: number;
  private data: SegmentFile[] = [];
  private readonly rewriter: IndexRewriter;
  private readonly indexWindow: IndexWindow;
  private deleted = false;
  private readonly missingBlanks: Array<{ file: string; offset: number; room: number }> = [];

  constructor(private readonly in_: RecoveryInput) {
    this.Z = in_.dataSegmentSize;
    this.Zi = in_.indexSegmentSize;
    this.rewriter = new IndexRewriter(in_.writer, in_.indexDir, in_.indexSegmentSize);
    this.indexWindow = new IndexWindow(in_.files, in_.indexDir, in_.indexSegmentSize);
  }

  async run(): Promise<RecoveredLog> {
    const { dataDir, indexDir } = this.in_;
    this.data = listSegments(dataDir, this.Z, 'data');
    if (this.data.length === 0) {
      for (const f of listSegments(indexDir, this.Zi, 'index')) await this.deleteFile(f.path);
      if (this.deleted) syncDir(indexDir);
      return { dataFiles: [], firstIndex: 0, lastIndex: -1, lastTerm: -1, lastChainCrc: 0, endPosition: 0 };
    }
    for (let k = 1; k < this.data.length; k++) {
      const want = this.data[k - 1]!.start + this.Z;
      if (this.data[k]!.start !== want) {
        throw new LogCorruptionError(segmentPath(dataDir, want), 0, `data file is missing; ${this.data[k - 1]!.path} and ${this.data[k]!.path} are not adjacent`);
      }
    }
    const heads = this.data.map((f) => this.head(f));
    const start = this.chooseStart(heads);
    const firstIndexOf = new Map<number, number>();
    for (let k = 0; k <= start.fileK; k++) {
      const f = this.data[k]!;
      if (k === start.fileK && start.pos === f.start) break;
      const h = heads[k];
      if (!h || (k > 0 && h.index <= firstIndexOf.get(this.data[k - 1]!.start)!)) {
        throw new LogCorruptionError(f.path, 0, 'the first entry of this data file is damaged, and later entries are valid');
      }
      firstIndexOf.set(f.start, h.index);
    }

    const scan = this.scan(start, firstIndexOf);
    const { last, stop } = scan;
    const nothingValid = start.fileK === 0 && start.pos === this.data[0]!.start && last.index === start.prevIndex;
    if (nothingValid && this.data[0]!.start > 0) {
      // a log that does not start at 0 learns its first index from its first entry
      throw new LogCorruptionError(this.data[0]!.path, 0, `no valid entry in the log (${stop.reason}), so its first index cannot be told`);
    }
    await this.settleTail(stop, last);
    const lastIndex = last.index;
    for (const b of this.missingBlanks) {
      this.in_.writer.submit({ ops: [{ file: b.file, filePosition: b.offset, buffers: [encodeBlankMarker(b.room)] }], endPosition: stop.pos, sync: false });
      this.in_.log(`restored the missing blank marker at ${b.file} byte ${b.offset}`);
    }
    this.rewriter.flush(stop.pos);
    await this.in_.writer.flush();
    await this.trimIndex(lastIndex, firstIndexOf.get(this.data[0]?.start ?? -1) ?? lastIndex + 1);

    // What we validated may sit only in the page cache (the last run was killed): make it durable
    // before Raft counts on it.
    for (let k = start.fileK; k < this.data.length; k++) syncFile(this.data[k]!.path);
    for (const f of listSegments(indexDir, this.Zi, 'index')) {
      if (f.start + this.Zi > Math.max(0, start.prevIndex + 1) * INDEX_ENTRY_SIZE) syncFile(f.path);
    }
    syncDir(dataDir);
    syncDir(indexDir);
    await this.in_.writer.flush();

    const dataFiles = this.data.map((f) => ({ start: f.start, path: f.path, firstIndex: firstIndexOf.get(f.start) ?? lastIndex + 1 }));
    const firstIndex = dataFiles.length > 0 ? dataFiles[0]!.firstIndex : lastIndex + 1;
    if (scan.rebuilt > 0) this.in_.log(`rebuilt ${scan.rebuilt} index entries from index ${scan.rebuiltFrom} (missing or disagreeing with the data)`);
    return {
      dataFiles,
      firstIndex,
      lastIndex,
      lastTerm: lastIndex >= firstIndex ? last.term : -1,
      lastChainCrc: last.chain,
      endPosition: stop.pos,
    };
  }

  /** The first entry's header of a data file, when it is structurally sound. */
  private head(f: SegmentFile): EntryHeader | undefined {
    const b = this.in_.files.read(f.path, 0, ENTRY_HEADER_SIZE);
    if (b.length < ENTRY_HEADER_SIZE) return undefined;
    const h = decodeEntryHeader(b);
    if (headerProblem(h, { pos: f.start, index: undefined, minTerm: 0, segmentRoom: this.Z }) || h.size > f.length) return undefined;
    return h;
  }

  private chooseStart(heads: Array<EntryHeader | undefined>): ScanStart {
    const first = heads[0];
    const base = this.data[0]!.start;
    const fallback: ScanStart = {
      fileK: 0,
      pos: base,
      expectIndex: first?.index ?? (base === 0 ? 0 : undefined),
      minTerm: 0,
      prevChain: base === 0 ? 0 : undefined,
      prevIndex: (first?.index ?? 0) - 1,
      prevTerm: -1,
    };
    if (!first) return fallback;
    const ie0 = this.indexWindow.get(first.index);
    if (!ie0 || !indexMatches(ie0, first)) return fallback; // the index does not even know the first entry: rebuild all
    const candidates: number[] = [];
    const cp = this.in_.checkpoint;
    if (cp && cp.committedIndex > first.index) candidates.push(cp.committedIndex);
    const third = heads[Math.max(0, this.data.length - 3)];
    if (third && third.index > first.index) candidates.push(third.index);
    for (const c of candidates) {
      const s = this.probeStart(first.index, c);
      if (s) return s;
    }
    return fallback;
  }

  /** A scan start at entry `c`, if the index up to it is whole and entry c checks out. */
  private probeStart(firstIndex: number, c: number): ScanStart | undefined {
    const idxFiles = new Map(listSegments(this.in_.indexDir, this.Zi, 'index').map((f) => [f.start, f]));
    const lastSlotFile = segmentStartOf(c * INDEX_ENTRY_SIZE, this.Zi);
    for (let s = segmentStartOf(firstIndex * INDEX_ENTRY_SIZE, this.Zi); s <= lastSlotFile; s += this.Zi) {
      const f = idxFiles.get(s);
      if (!f || (s < lastSlotFile && f.length !== this.Zi)) return undefined;
    }
    const ie = this.indexWindow.get(c);
    const prev = this.indexWindow.get(c - 1);
    if (!ie || !prev || ie.index !== c || prev.index !== c - 1) return undefined;
    const fileK = this.data.findIndex((f) => f.start === segmentStartOf(ie.pos, this.Z));
    const file = this.data[fileK];
    if (!file) return undefined;
    const off = ie.pos - file.start;
    if (ie.size < ENTRY_HEADER_SIZE || ie.size > this.in_.maxEntrySize || off + ie.size > file.length) return undefined;
    const buf = this.in_.files.read(file.path, off, ie.size);
    if (buf.length < ie.size) return undefined;
    const h = decodeEntryHeader(buf);
    if (headerProblem(h, { pos: ie.pos, index: c, minTerm: prev.term, segmentRoom: this.Z - off }) || !indexMatches(ie, h)) return undefined;
    const prevFile = this.data.find((f) => f.start === segmentStartOf(prev.pos, this.Z));
    let prevChain: number | undefined;
    if (prevFile) {
      const pb = this.in_.files.read(prevFile.path, prev.pos - prevFile.start, ENTRY_HEADER_SIZE);
      if (pb.length === ENTRY_HEADER_SIZE && indexMatches(prev, decodeEntryHeader(pb))) prevChain = pb.readInt32BE(36);
    }
    if (crcProblem(buf, 0, h, prevChain, ie.pos < this.in_.crcCheckedFrom)) return undefined;
    return { fileK, pos: ie.pos, expectIndex: c, minTerm: prev.term, prevChain, prevIndex: c - 1, prevTerm: prev.term };
  }

  private scan(start: ScanStart, firstIndexOf: Map<number, number>) {
    const { files, crcCheckedFrom } = this.in_;
    const window = new ScanWindow(files);
    let pos = start.pos;
    let expectIndex = start.expectIndex;
    let minTerm = start.minTerm;
    let prevChain = start.prevChain;
    const last = { index: start.prevIndex, term: start.prevTerm, chain: start.prevChain ?? 0 };
    let rebuilt = 0;
    let rebuiltFrom = -1;
    let stop: Stop;
    let file: SegmentFile | undefined;
    for (;;) {
      const fileStart = segmentStartOf(pos, this.Z);
      if (file?.start !== fileStart) file = this.data.find((f) => f.start === fileStart); // once per file, not per entry
      if (!file) {
        stop = { pos, kind: 'end', reason: 'no data file', header: undefined };
        break;
      }
      const off = pos - fileStart;
      const room = this.Z - off;
      const avail = file.length - off;
      if (avail <= 0) {
        // The file ends without its blank marker, yet the next file starts with the very entry
        // that had to roll there: the marker write was lost (power loss reorders pages). Go on,
        // and put the marker back afterwards.
        const next = this.data.find((f) => f.start === fileStart + this.Z);
        const nh = next && room >= BLANK_MARKER_SIZE ? this.head(next) : undefined;
        if (next && nh && nh.index === (expectIndex ?? nh.index) && nh.size + BLANK_MARKER_SIZE > room) {
          this.missingBlanks.push({ file: file.path, offset: off, room });
          pos = next.start;
          continue;
        }
        stop = { pos, kind: 'end', reason: 'end of file', header: undefined };
        break;
      }
      const v = window.get(file.path, off, Math.min(ENTRY_HEADER_SIZE, avail));
      if (v.avail >= BLANK_MARKER_SIZE && v.buf.readInt32BE(v.at) === EntryMagic.BLANK) {
        const left = v.buf.readInt32BE(v.at + 4);
        if (left !== room) {
          stop = { pos, kind: 'damage', reason: `blank marker says ${left} bytes are left, but ${room} are`, header: undefined };
          break;
        }
        pos = fileStart + this.Z;
        continue;
      }
      if (v.avail < ENTRY_HEADER_SIZE || isAllZero(v.buf, v.at, ENTRY_HEADER_SIZE)) {
        const zero = isAllZero(v.buf, v.at, v.avail);
        stop = { pos, kind: zero ? 'zero' : 'damage', reason: zero ? 'zero header' : `partial header of ${v.avail} bytes`, header: undefined };
        break;
      }
      const h = decodeEntryHeader(v.buf, v.at);
      const problem = headerProblem(h, { pos, index: expectIndex, minTerm, segmentRoom: room });
      if (problem) {
        stop = { pos, kind: 'damage', reason: problem, header: lengthsUsable(h, pos, room) ? h : undefined };
        break;
      }
      if (h.size > avail) {
        stop = { pos, kind: 'damage', reason: `entry of ${h.size} bytes runs past the end of the file (${avail} bytes left)`, header: undefined };
        break;
      }
      const e = window.get(file.path, off, h.size);
      const crcBad = crcProblem(e.buf, e.at, h, prevChain, pos < crcCheckedFrom);
      if (crcBad) {
        stop = { pos, kind: 'damage', reason: crcBad, header: h };
        break;
      }
      if (off === 0) firstIndexOf.set(fileStart, h.index);
      const ie = this.indexWindow.get(h.index);
      if (!ie || !indexMatches(ie, h)) {
        if (rebuiltFrom < 0) rebuiltFrom = h.index;
        this.rewriter.add(h, pos);
        rebuilt++;
      }
      last.index = h.index;
      last.term = h.term;
      last.chain = h.chainCrc;
      expectIndex = h.index + 1;
      minTerm = h.term;
      prevChain = h.chainCrc;
      pos += h.size;
    }
    return { last, stop, rebuilt, rebuiltFrom };
  }

  /** Decide what the stop means: natural end, torn tail (cut it), or damage before valid entries (refuse). */
  private async settleTail(stop: Stop, last: { index: number; term: number }): Promise<void> {
    const stopStart = segmentStartOf(stop.pos, this.Z);
    const stopFile = this.data.find((f) => f.start === stopStart);
    const later = this.data.filter((f) => f.start > stopStart);
    let kind = stop.kind;
    let reason = stop.reason;
    if (kind === 'zero' && stopFile) {
      const off = stop.pos - stopFile.start;
      const n = Math.min(ZERO_TAIL_CHECK, stopFile.length - off);
      const tail = this.in_.files.read(stopFile.path, off, n);
      if (!isAllZero(tail, 0, tail.length)) {
        kind = 'damage';
        reason = 'zero header followed by non-zero bytes';
      }
    }
    if (kind !== 'damage' && later.length === 0) return;

    const follow = this.findValidAfter(stop, last);
    if (follow) {
      const where = stopFile ? { file: stopFile.path, offset: stop.pos - stopFile.start } : { file: segmentPath(this.in_.dataDir, stopStart), offset: 0 };
      throw new LogCorruptionError(
        where.file,
        where.offset,
        `${kind === 'damage' ? reason : 'the log ends here'} (after index ${last.index}), but a valid entry with index ${follow.index} ` +
          `follows at ${follow.file} byte ${follow.offset}, so this is not a torn tail; restore the file from a replica, ` +
          `or truncate it at this offset by hand to give up the entries after it`,
      );
    }

    let cut = 0;
    if (kind === 'damage' && stopFile) {
      const off = stop.pos - stopFile.start;
      cut += stopFile.length - off;
      if (off === 0 && stopFile !== this.data[0]) {
        await this.deleteFile(stopFile.path);
        this.data = this.data.filter((f) => f !== stopFile);
      } else {
        await this.in_.writer.truncate(stopFile.path, off);
      }
    }
    for (const f of later) {
      cut += f.length;
      await this.deleteFile(f.path);
    }
    this.data = this.data.filter((f) => !later.includes(f));
    const at = stopFile ? `${stopFile.path} byte ${stop.pos - stopFile.start}` : `position ${stop.pos}`;
    this.in_.log(
      `recovery cut ${cut} bytes of torn log tail at ${at} (${kind === 'damage' ? reason : 'data after the end'}); ` +
        `the log now ends at index ${last.index}, position ${stop.pos}` +
        (later.length > 0 ? `; deleted ${later.length} later data file(s)` : ''),
    );
  }

  /** Looks for an entry after the stop that passes every check on its own: proof of damage in the middle. */
  private findValidAfter(stop: Stop, last: { index: number; term: number }): { file: string; offset: number; index: number } | undefined {
    const minIndex = last.index + 1;
    const minTerm = Math.max(0, last.term);
    const tried = new Set<number>();
    const check = (q: number): { file: string; offset: number; index: number } | undefined => {
      if (q <= stop.pos || tried.has(q)) return undefined;
      tried.add(q);
      const file = this.data.find((f) => f.start === segmentStartOf(q, this.Z));
      if (!file) return undefined;
      const off = q - file.start;
      if (off + ENTRY_HEADER_SIZE > file.length) return undefined;
      const hb = this.in_.files.read(file.path, off, ENTRY_HEADER_SIZE);
      const h = decodeEntryHeader(hb);
      if (headerProblem(h, { pos: q, index: undefined, minTerm, segmentRoom: this.Z - off }) || h.index < minIndex) return undefined;
      if (h.size > this.in_.maxEntrySize || off + h.size > file.length) return undefined;
      const buf = this.in_.files.read(file.path, off, h.size);
      if (crcProblem(buf, 0, h, undefined, q < this.in_.crcCheckedFrom)) return undefined;
      return { file: file.path, offset: off, index: h.index };
    };
    // 1. right after the damaged entry, when its length fields are intact (a flipped body byte)
    if (stop.header) {
      const next = stop.pos + stop.header.size;
      const found = check(next) ?? check(segmentStartOf(stop.pos, this.Z) + this.Z);
      if (found) return found;
    }
    // 2. where the index says the next entries are
    for (let j = minIndex; j < minIndex + FOLLOW_PROBES; j++) {
      const ie = this.indexWindow.get(j);
      if (!ie) break;
      const found = check(ie.pos);
      if (found) return found;
    }
    // 3. the first entry of every later data file
    for (const f of this.data) {
      const found = check(f.start);
      if (found) return found;
    }
    // 4. any header within one maximal entry of the stop whose pos field names its own offset
    const file = this.data.find((f) => f.start === segmentStartOf(stop.pos, this.Z));
    if (file) {
      const from = stop.pos - file.start + 1;
      const to = Math.min(file.length - ENTRY_HEADER_SIZE, from + this.in_.maxEntrySize + ENTRY_HEADER_SIZE);
      for (let at = from; at <= to; at += SCAN_WINDOW) {
        const n = Math.min(SCAN_WINDOW + ENTRY_HEADER_SIZE, file.length - at);
        const b = this.in_.files.read(file.path, at, n);
        for (let i = 0; i + ENTRY_HEADER_SIZE <= b.length && at + i <= to; i++) {
          const q = file.start + at + i;
          if (b.readUInt32BE(i + 28) !== q % 4294967296) continue;
          const found = check(q);
          if (found) return found;
        }
      }
    }
    return undefined;
  }

  /** Index files past the end or wholly below the first entry are stale; the slot after the last entry must be empty. */
  private async trimIndex(lastIndex: number, firstIndex: number): Promise<void> {
    const nextSlot = (lastIndex + 1) * INDEX_ENTRY_SIZE;
    const nextFile = segmentStartOf(nextSlot, this.Zi);
    for (const f of listSegments(this.in_.indexDir, this.Zi, 'index')) {
      if (f.start > nextFile || f.start + this.Zi <= firstIndex * INDEX_ENTRY_SIZE) {
        await this.deleteFile(f.path);
      } else if (f.start === nextFile && this.indexWindow.get(lastIndex + 1, true)) {
        await this.in_.writer.truncate(f.path, nextSlot - f.start);
      }
    }
  }

  private async deleteFile(file: string): Promise<void> {
    await this.in_.writer.release(file);
    this.in_.files.forget(file);
    fs.rmSync(file, { force: true });
    this.deleted = true;
  }
}

/** Whether a bad header still tells where the next entry would start. */
function lengthsUsable(h: EntryHeader, pos: number, room: number): boolean {
  return isEntryMagic(h.magic) && h.bodyLength >= 0 && h.size === ENTRY_HEADER_SIZE + h.bodyLength && h.pos === pos && h.size + BLANK_MARKER_SIZE <= room;
}

/** A read-ahead window over one file at a time, so the scan does one pread per few MiB. */
class ScanWindow {
  private buf: Buffer = Buffer.alloc(0);
  private file = '';
  private from = 0;
  private len = 0;

  constructor(private readonly files: ReadFiles) {}

  get(file: string, offset: number, length: number): { buf: Buffer; at: number; avail: number } {
    if (file !== this.file || offset < this.from || offset + length > this.from + this.len) {
      const size = Math.max(SCAN_WINDOW, length);
      if (this.buf.length < size) this.buf = Buffer.allocUnsafe(size);
      this.file = file;
      this.from = offset;
      this.len = this.files.readInto(file, this.buf, 0, size, offset);
    }
    const at = offset - this.from;
    return { buf: this.buf, at, avail: Math.min(length, this.len - at) };
  }
}

/** Sequential reads of index entries; an all-zero slot (or a missing file) is "no entry". */
class IndexWindow {
  private buf: Buffer = Buffer.alloc(0);
  private from = -1;
  private readonly paths: SegmentPaths;

  constructor(
    private readonly files: ReadFiles,
    dir: string,
    private readonly segmentSize: number,
  ) {
    this.paths = new SegmentPaths(dir);
  }

  /** `fresh` rereads the disk (after the recovery rewrote entries). */
  get(index: number, fresh = false): IndexEntry | undefined {
    if (index < 0) return undefined;
    if (fresh || this.from < 0 || index < this.from || index >= this.from + INDEX_WINDOW_ENTRIES) {
      this.from = index;
      this.buf = readLogical(this.files, this.paths, this.segmentSize, index * INDEX_ENTRY_SIZE, INDEX_WINDOW_ENTRIES * INDEX_ENTRY_SIZE);
    }
    const at = (index - this.from) * INDEX_ENTRY_SIZE;
    if (isAllZero(this.buf, at, INDEX_ENTRY_SIZE)) return undefined;
    return decodeIndexEntry(this.buf, at);
  }
}

/** Writes rebuilt index entries through the writer in batches (each batch a contiguous run of slots). */
class IndexRewriter {
  private buf = Buffer.allocUnsafe(REWRITE_BATCH * INDEX_ENTRY_SIZE);
  private count = 0;
  private first = 0;

  private readonly paths: SegmentPaths;

  constructor(
    private readonly writer: LogWriter,
    dir: string,
    private readonly segmentSize: number,
  ) {
    this.paths = new SegmentPaths(dir);
  }

  add(h: EntryHeader, scanPos: number): void {
    if (this.count > 0 && h.index !== this.first + this.count) this.flush(scanPos);
    if (this.count === 0) this.first = h.index;
    encodeIndexEntryInto(this.buf, this.count * INDEX_ENTRY_SIZE, { magic: h.magic, pos: h.pos, size: h.size, index: h.index, term: h.term });
    this.count++;
    if (this.count === REWRITE_BATCH) this.flush(scanPos);
  }

  flush(scanPos: number): void {
    if (this.count === 0) return;
    const ops = indexOps(this.paths, this.segmentSize, this.first, this.buf.subarray(0, this.count * INDEX_ENTRY_SIZE));
    this.writer.submit({ ops, endPosition: scanPos, sync: false });
    this.buf = Buffer.allocUnsafe(REWRITE_BATCH * INDEX_ENTRY_SIZE); // submitted buffers must not change
    this.count = 0;
  }
}
