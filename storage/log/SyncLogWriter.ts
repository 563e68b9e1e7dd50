// A LogWriter that does each group at once on the calling thread: positioned writev, then
// fdatasync when the group asks for it. Tests use it for determinism, and it is the fallback
// where a worker thread is not wanted. Progress is reported in a microtask, like a worker
// would report it later, so callers never see a listener fire inside submit(). Positions
// reported are those of the latest group written / fsynced, so after a suffix truncation they
// go down with the log.
//
// With `coalesce`, submit() only queues the group and the writes happen in the next immediate:
// groups submitted in the same loop iteration (a broker's requests read from its sockets, each
// appending on its own) go out as one writev per file and at most one fdatasync, instead of one
// each. writeQueued() writes them at once (a caller whose submit was a whole batch); flush,
// truncate, release and close write what is queued first.
import fs from 'node:fs';
import path from 'node:path';
import type { LogWriter, WriteGroup, WriterProgress } from './LogWriter.js';
import { syncDir } from './segmentFiles.js';

/** Open write handles kept at once; a log touches the last data and index files, rarely more. */
const MAX_OPEN_FILES = 32;
/** buffers merged into one writev at most (Linux takes 1024 per call) */
const MAX_IOVECS = 1024;

export class SyncLogWriter implements LogWriter {
  private readonly fds = new Map<string, number>();
  /** files written since their last fdatasync */
  private readonly dirty = new Set<string>();
  /** folders that gained a file since their last fsync (a new file's name is durable only then) */
  private readonly dirtyDirs = new Set<string>();
  private readonly progressListeners: Array<(p: WriterProgress) => void> = [];
  private readonly errorListeners: Array<(e: Error) => void> = [];
  private written = 0;
  private durable = 0;
  private failure: Error | undefined;
  private closed = false;
  private notifyQueued = false;
  private readonly coalesce: boolean;
  /** coalesce: groups submitted and not yet written, oldest first */
  private queued: WriteGroup[] = [];
  private drainQueued = false;

  constructor(opts: { coalesce?: boolean } = {}) {
    this.coalesce = opts.coalesce ?? false;
  }

  /** Without coalescing, submit() writes before it returns. */
  get releasesOnSubmit(): boolean {
    return !this.coalesce;
  }

  /** Nothing queued: every group submitted is written (or dropped after a failure). */
  get buffersReleased(): boolean {
    return this.queued.length === 0;
  }

  submit(group: WriteGroup): void {
    if (this.closed) throw new Error('SyncLogWriter: submit after close');
    if (this.failure) return; // no progress after a failure, as the interface says
    if (!this.coalesce) {
      this.writeGroups([group]);
      return;
    }
    this.queued.push(group);
    if (this.drainQueued) return;
    this.drainQueued = true;
    setImmediate(() => this.drain());
  }

  writeQueued(): void {
    if (this.closed) return;
    this.drain();
  }

  /** Writes what is queued (coalesce); a no-op when nothing is. */
  private drain(): void {
    this.drainQueued = false;
    if (this.queued.length === 0) return;
    const groups = this.queued;
    this.queued = [];
    if (!this.failure) this.writeGroups(groups);
  }

  /**
   * The groups' writes: per file in submission order, ops that continue each other merged into
   * one writev (a group's data and index ops alternate between two files; order across files
   * does not matter, everything is written before progress is reported).
   */
  private writeGroups(groups: readonly WriteGroup[]): void {
    try {
      if (groups.length === 1) {
        for (const op of groups[0]!.ops) this.writeAll(this.fdFor(op.file), op.buffers, op.filePosition, op.file);
        for (const op of groups[0]!.ops) this.dirty.add(op.file);
      } else {
        const runs = new Map<string, Array<{ at: number; end: number; buffers: Buffer[] }>>();
        for (const g of groups) {
          for (const op of g.ops) {
            let len = 0;
            for (const b of op.buffers) len += b.length;
            let list = runs.get(op.file);
            if (!list) runs.set(op.file, (list = []));
            const last = list[list.length - 1];
            if (last && last.end === op.filePosition && last.buffers.length + op.buffers.length <= MAX_IOVECS) {
              for (const b of op.buffers) last.buffers.push(b);
              last.end += len;
            } else list.push({ at: op.filePosition, end: op.filePosition + len, buffers: op.buffers.slice() });
          }
        }
        for (const [file, list] of runs) {
          const fd = this.fdFor(file);
          for (const r of list) this.writeAll(fd, r.buffers, r.at, file);
          this.dirty.add(file);
        }
      }
      this.written = groups[groups.length - 1]!.endPosition;
      if (groups.some((g) => g.sync)) this.syncAll();
    } catch (e) {
      this.fail(e);
      return;
    }
    this.queueNotify();
  }

  progress(): WriterProgress {
    return { written: this.written, durable: this.durable };
  }

  onProgress(listener: (p: WriterProgress) => void): void {
    this.progressListeners.push(listener);
  }

  onError(listener: (e: Error) => void): void {
    this.errorListeners.push(listener);
  }

  async flush(): Promise<number> {
    this.drain();
    if (this.failure) throw this.failure;
    try {
      this.syncAll();
    } catch (e) {
      this.fail(e);
      throw this.failure;
    }
    this.queueNotify();
    return this.durable;
  }

  async truncate(file: string, length: number): Promise<void> {
    this.drain();
    if (this.failure) throw this.failure;
    if (!fs.existsSync(file)) return;
    const fd = this.fdFor(file);
    fs.ftruncateSync(fd, length);
    fs.fdatasyncSync(fd); // the new length must survive a crash before later writes reuse the space
  }

  async release(file: string): Promise<void> {
    this.drain();
    const fd = this.fds.get(file);
    if (fd === undefined) return;
    if (this.dirty.delete(file)) fs.fdatasyncSync(fd);
    this.fds.delete(file);
    fs.closeSync(fd);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.drain();
    if (!this.failure) this.syncAll();
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
    this.closed = true;
  }

  private fdFor(file: string): number {
    const open = this.fds.get(file);
    if (open !== undefined) {
      // refresh LRU order
      this.fds.delete(file);
      this.fds.set(file, open);
      return open;
    }
    if (this.fds.size >= MAX_OPEN_FILES) this.evictOne();
    const existed = fs.existsSync(file);
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    if (!existed) this.dirtyDirs.add(path.dirname(file));
    this.fds.set(file, fd);
    return fd;
  }

  private evictOne(): void {
    const [file, fd] = this.fds.entries().next().value as [string, number];
    if (this.dirty.delete(file)) fs.fdatasyncSync(fd);
    this.fds.delete(file);
    fs.closeSync(fd);
  }

  private writeAll(fd: number, buffers: Buffer[], position: number, file: string): void {
    let bufs = buffers;
    let at = position;
    let left = 0;
    for (const b of bufs) left += b.length;
    while (left > 0) {
      const n = fs.writevSync(fd, bufs, at);
      if (n <= 0) throw new Error(`writev to ${file} at ${at} wrote ${n} bytes`);
      left -= n;
      at += n;
      if (left > 0) bufs = dropFront(bufs, n);
    }
  }

  private syncAll(): void {
    for (const file of this.dirty) {
      const fd = this.fds.get(file);
      if (fd !== undefined) fs.fdatasyncSync(fd);
    }
    this.dirty.clear();
    for (const dir of this.dirtyDirs) syncDir(dir);
    this.dirtyDirs.clear();
    this.durable = this.written;
  }

  private fail(e: unknown): void {
    this.failure = e instanceof Error ? e : new Error(String(e));
    const err = this.failure;
    queueMicrotask(() => {
      for (const l of this.errorListeners) l(err);
    });
  }

  private queueNotify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      if (this.failure) return;
      const p = this.progress();
      for (const l of this.progressListeners) l(p);
    });
  }
}

function dropFront(bufs: Buffer[], n: number): Buffer[] {
  let skip = n;
  let i = 0;
  while (i < bufs.length && skip >= bufs[i]!.length) skip -= bufs[i++]!.length;
  const rest = bufs.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}
