// Segment files on disk: names (20-digit start offset, RocketMQ style), listing a folder, and
// positioned reads through a small cache of read-only handles. The writer has its own write
// handles; reads see its bytes through the page cache.
import fs from 'node:fs';
import path from 'node:path';
import { INDEX_ENTRY_SIZE } from './entryCodec.js';
import type { WriteOp } from './LogWriter.js';

export interface SegmentFile {
  /** absolute offset of the file's first byte in its logical space */
  start: number;
  path: string;
  /** current length in bytes (Java preallocates full-length files; ours grow as written) */
  length: number;
}

const NAME = /^\d{20}$/;

export function segmentName(start: number): string {
  return String(start).padStart(20, '0');
}

export function segmentPath(dir: string, start: number): string {
  return path.join(dir, segmentName(start));
}

/** Paths of one folder's segments, remembered: the append path asks for them per batch. */
export class SegmentPaths {
  private readonly cache = new Map<number, string>();
  private readonly prefix: string;

  constructor(readonly dir: string) {
    this.prefix = path.join(dir, '_').slice(0, -1);
  }

  of(start: number): string {
    let p = this.cache.get(start);
    if (p === undefined) {
      if (this.cache.size >= 256) this.cache.clear(); // only recent segments are asked for often
      p = this.prefix + segmentName(start);
      this.cache.set(start, p);
    }
    return p;
  }
}

/** Start of the segment that holds `offset`. */
export function segmentStartOf(offset: number, segmentSize: number): number {
  return offset - (offset % segmentSize);
}

/**
 * The segment files of a folder in offset order. Other names (temp files, editor droppings) are
 * ignored. A file that is not at a multiple of the segment size, or longer than one, means the
 * store was written with another segment size: refuse rather than misread it.
 */
export function listSegments(dir: string, segmentSize: number, what: string): SegmentFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: SegmentFile[] = [];
  for (const name of names) {
    if (!NAME.test(name)) continue;
    const start = Number(name);
    const file = path.join(dir, name);
    const st = fs.statSync(file);
    if (!st.isFile()) continue;
    if (!Number.isSafeInteger(start) || start % segmentSize !== 0 || st.size > segmentSize) {
      throw new Error(
        `${what} file ${file} (${st.size} bytes) does not fit ${what} segments of ${segmentSize} bytes; ` +
          `open the store with the segment size it was written with`,
      );
    }
    out.push({ start, path: file, length: st.size });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** fsync a file's data (and size) so that what recovery validated survives a power loss. */
export function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync a folder so that names created or removed in it survive a crash. */
export function syncDir(dir: string): void {
  syncFile(dir);
}

/** Read handles kept open at once; reads mostly hit the last one or two files. */
const DEFAULT_MAX_READ_FDS = 16;

/** A small LRU of read-only file handles with positioned reads. */
export class ReadFiles {
  private readonly fds = new Map<string, number>();

  constructor(private readonly maxOpen = DEFAULT_MAX_READ_FDS) {}

  /** Reads up to `length` bytes at `position` into `out[outOffset..]`; returns the count (short at end of file, 0 if the file is missing). */
  readInto(file: string, out: Buffer, outOffset: number, length: number, position: number): number {
    const fd = this.handle(file);
    if (fd === undefined) return 0;
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, out, outOffset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /**
   * One readv at `position` into `buffers`, in order; returns the bytes read (fewer at end of
   * file, 0 if the file is missing). At most IOV_MAX (1024) buffers.
   */
  readvInto(file: string, buffers: readonly Buffer[], position: number): number {
    const fd = this.handle(file);
    if (fd === undefined) return 0;
    return fs.readvSync(fd, buffers, position);
  }

  /** Reads up to `length` bytes at `position`; the result is shorter at end of file. */
  read(file: string, position: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    const n = this.readInto(file, out, 0, length, position);
    return n === length ? out : out.subarray(0, n);
  }

  /** Close the handle of a file that is about to be deleted or was replaced. */
  forget(file: string): void {
    const fd = this.fds.get(file);
    if (fd === undefined) return;
    this.fds.delete(file);
    fs.closeSync(fd);
  }

  closeAll(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }

  /** The open handle of `file` (opened now if need be; the handle may be closed by the next call), or undefined if the file is missing. */
  handle(file: string): number | undefined {
    const open = this.fds.get(file);
    if (open !== undefined) {
      this.fds.delete(file);
      this.fds.set(file, open);
      return open;
    }
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    if (this.fds.size >= this.maxOpen) {
      const [oldFile, oldFd] = this.fds.entries().next().value as [string, number];
      this.fds.delete(oldFile);
      fs.closeSync(oldFd);
    }
    this.fds.set(file, fd);
    return fd;
  }
}

/**
 * Reads `length` bytes at `offset` of a logical space cut into segment files (the index space),
 * across file boundaries. Missing files and bytes past a file's end read as zeros, which the
 * index format treats as "no entry".
 */
export function readLogical(files: ReadFiles, paths: SegmentPaths, segmentSize: number, offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const at = offset + done;
    const start = segmentStartOf(at, segmentSize);
    const n = Math.min(length - done, start + segmentSize - at);
    files.readInto(paths.of(start), out, done, n, at - start);
    done += n;
  }
  return out;
}

/** Write ops for index entries of consecutive indexes starting at `firstIndex`, split at index file boundaries. */
export function indexOps(paths: SegmentPaths, segmentSize: number, firstIndex: number, entries: Buffer): WriteOp[] {
  const ops: WriteOp[] = [];
  let at = firstIndex * INDEX_ENTRY_SIZE;
  let done = 0;
  while (done < entries.length) {
    const start = segmentStartOf(at, segmentSize);
    const n = Math.min(entries.length - done, start + segmentSize - at);
    ops.push({ file: paths.of(start), filePosition: at - start, buffers: [entries.subarray(done, done + n)], lazySync: true });
    done += n;
    at += n;
  }
  return ops;
}
