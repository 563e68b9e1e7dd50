// The log writer's worker thread (started by WorkerLogWriter). One loop: take every record the
// main thread has staged, write them in order (contiguous writes to one file become one
// positioned writev), fdatasync the touched files once if any group or request asks for it (or
// always, in SYNC_FLUSH), publish the positions, post one message, and sleep on an atomic until
// more arrives or the background fsync is due. Any I/O error ends the worker after one report.
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  I32_HEAD,
  I32_SEQ,
  I32_SLEEPING,
  I32_SLOTS,
  I32_TAIL,
  REC_CLOSE,
  REC_END,
  REC_FILE,
  FILE_LAZY_BIT,
  REC_FLUSH,
  REC_RELEASE,
  REC_TRUNCATE,
  REC_WRAP,
  REC_WRITE,
  STAT_BYTES,
  STAT_DURABLE,
  STAT_FSYNCS,
  STAT_GROUPS,
  STAT_LOOPS,
  STAT_SLOTS,
  STAT_SYNCS,
  STAT_WRITES,
  STAT_WRITTEN,
  WRITE_HEADER,
  type LogWriteOp,
  type WorkerMessage,
  type WriterWorkerData,
} from './WorkerLogWriter.js';

if (parentPort === null) throw new Error('writerWorker.js runs only as the log writer worker thread');
const port = parentPort;

/** At most this many buffers or bytes go into one writev. */
const MAX_IOV = 1024;
const MAX_RUN_BYTES = 8 * 1024 * 1024;

class IoError extends Error {
  constructor(
    readonly op: LogWriteOp,
    readonly file: string | null,
    readonly reason: unknown,
  ) {
    super(`log writer: ${op} ${file ?? ''}: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

interface OpenFile {
  path: string;
  /** -1 until first used */
  fd: number;
  dirty: boolean;
  /** rebuildable bytes (index segments): sync groups skip it, full syncs include it */
  lazy: boolean;
}

/** What the sources (ring or messages) hand to the writer, record by record, in order. */
interface Records {
  file(id: number, path: string, lazy: boolean): void;
  write(id: number, filePosition: number, data: Uint8Array): void;
  end(endPosition: number, sync: boolean): void;
  flush(req: number): void;
  truncate(req: number, id: number, length: number): void;
  release(req: number, id: number): void;
  close(req: number): void;
}

class Writer implements Records {
  private readonly files = new Map<number, OpenFile>();
  private dirty: OpenFile[] = [];
  private lazyDirty: OpenFile[] = [];
  /** the pending sync must include lazily synced files (flush, close) */
  private needFullSync = false;
  private readonly dirtyDirs = new Set<string>();
  // the current run of contiguous writes to one file
  private runFile: OpenFile | null = null;
  private runPosition = 0;
  private runBytes = 0;
  private runBuffers: Uint8Array[] = [];

  written: number;
  durable: number;
  bytesWritten = 0;
  groups = 0;
  syncs = 0;
  fsyncs = 0;
  writes = 0;
  lastSyncAt = performance.now();
  /** a group or request in this loop wants an fsync */
  needSync = false;
  /** after a truncate, the next group is fsynced so durable never claims bytes of the old tail */
  syncNextGroup = false;
  /** request id, value pairs to answer at the end of the loop */
  replies: number[] = [];
  /** requests answered only after this loop's fsync */
  private flushes: number[] = [];
  closeRequest = -1;

  constructor(
    initial: number,
    private readonly syncEveryGroup: boolean,
  ) {
    this.written = initial;
    this.durable = initial;
  }

  file(id: number, p: string, lazy: boolean): void {
    this.files.set(id, { path: p, fd: -1, dirty: false, lazy });
  }

  write(id: number, filePosition: number, data: Uint8Array): void {
    const f = this.fileById(id);
    if (
      this.runFile === f &&
      this.runPosition + this.runBytes === filePosition &&
      this.runBuffers.length < MAX_IOV &&
      this.runBytes + data.length <= MAX_RUN_BYTES
    ) {
      this.runBuffers.push(data);
      this.runBytes += data.length;
      return;
    }
    this.flushRun();
    this.runFile = f;
    this.runPosition = filePosition;
    this.runBuffers.push(data);
    this.runBytes = data.length;
  }

  end(endPosition: number, sync: boolean): void {
    this.groups++;
    this.written = endPosition;
    if (sync || this.syncEveryGroup || this.syncNextGroup) this.needSync = true;
    this.syncNextGroup = false;
  }

  flush(req: number): void {
    this.needSync = true;
    this.needFullSync = true;
    this.flushes.push(req);
  }

  truncate(req: number, id: number, length: number): void {
    this.flushRun();
    const f = this.fileById(id);
    this.open(f);
    try {
      fs.ftruncateSync(f.fd, length);
    } catch (e) {
      throw new IoError('truncate', f.path, e);
    }
    this.markDirty(f);
    this.syncAll(); // the groups before it, and the new length
    this.syncNextGroup = true;
    this.replies.push(req, length);
  }

  release(req: number, id: number): void {
    this.flushRun();
    const f = id >= 0 ? this.files.get(id) : undefined;
    if (f !== undefined) {
      if (f.dirty) {
        // later syncs will not see this file, so make its bytes durable now
        this.fdatasync(f.fd, f.path);
        f.dirty = false;
        this.dirty = this.dirty.filter((d) => d !== f);
        this.lazyDirty = this.lazyDirty.filter((d) => d !== f);
      }
      if (f.fd >= 0) this.closeFd(f);
      this.files.delete(id);
    }
    this.replies.push(req, 0);
  }

  close(req: number): void {
    this.needSync = true;
    this.needFullSync = true;
    this.closeRequest = req;
  }

  /** End of the records of one loop: write what is left, fsync if asked, answer requests. */
  finishLoop(): void {
    this.flushRun();
    if (this.needSync) this.syncAll(this.needFullSync);
    this.needSync = false;
    this.needFullSync = false;
    for (const req of this.flushes) this.replies.push(req, this.durable);
    this.flushes.length = 0;
  }

  /**
   * fsync what was written: the background fsync of ASYNC_FLUSH and flush/close/truncate (full),
   * or a sync group (not full: lazily synced files wait, recovery rebuilds them).
   */
  syncAll(full = true): void {
    this.flushRun();
    if (this.dirty.length > 0 || this.dirtyDirs.size > 0 || (full && this.lazyDirty.length > 0)) {
      for (const f of full ? [...this.dirty, ...this.lazyDirty] : this.dirty) {
        this.fdatasync(f.fd, f.path);
        f.dirty = false;
      }
      this.dirty.length = 0;
      if (full) this.lazyDirty.length = 0;
      for (const dir of this.dirtyDirs) {
        let fd: number;
        try {
          fd = fs.openSync(dir, 'r');
        } catch (e) {
          throw new IoError('open', dir, e);
        }
        try {
          this.fdatasync(fd, dir);
        } finally {
          fs.closeSync(fd);
        }
      }
      this.dirtyDirs.clear();
      this.syncs++;
    }
    this.durable = this.written;
    this.lastSyncAt = performance.now();
  }

  hasDirty(): boolean {
    return this.dirty.length > 0 || this.lazyDirty.length > 0;
  }

  closeAll(): void {
    for (const f of this.files.values()) {
      if (f.fd >= 0) {
        try {
          fs.closeSync(f.fd);
        } catch {
          // closing after a failure: nothing more to report
        }
        f.fd = -1;
      }
    }
  }

  closeAllChecked(): void {
    for (const f of this.files.values()) if (f.fd >= 0) this.closeFd(f);
  }

  private fileById(id: number): OpenFile {
    const f = this.files.get(id);
    if (f === undefined) throw new Error(`log writer: unknown file id ${id}`);
    return f;
  }

  private open(f: OpenFile): void {
    if (f.fd >= 0) return;
    try {
      f.fd = fs.openSync(f.path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
      // a new file: its folder entry must reach the disk too before anything in it counts as durable
      this.dirtyDirs.add(path.dirname(f.path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new IoError('open', f.path, e);
      try {
        f.fd = fs.openSync(f.path, fs.constants.O_RDWR);
      } catch (e2) {
        throw new IoError('open', f.path, e2);
      }
    }
  }

  private closeFd(f: OpenFile): void {
    try {
      fs.closeSync(f.fd);
    } catch (e) {
      throw new IoError('close', f.path, e);
    } finally {
      f.fd = -1;
    }
  }

  private markDirty(f: OpenFile): void {
    if (!f.dirty) {
      f.dirty = true;
      (f.lazy ? this.lazyDirty : this.dirty).push(f);
    }
  }

  private fdatasync(fd: number, file: string): void {
    try {
      fs.fdatasyncSync(fd);
    } catch (e) {
      throw new IoError('fdatasync', file, e);
    }
    this.fsyncs++;
  }

  /** Write the pending run of contiguous writes (before anything that must follow it). */
  flushRun(): void {
    const f = this.runFile;
    if (f === null) return;
    const buffers = this.runBuffers;
    const bytes = this.runBytes;
    let position = this.runPosition;
    let left = bytes;
    this.runFile = null;
    this.runBuffers = [];
    this.runBytes = 0;
    this.open(f);
    try {
      let n = buffers.length === 1 ? fs.writeSync(f.fd, buffers[0]!, 0, left, position) : fs.writevSync(f.fd, buffers, position);
      this.writes++;
      // a short write (rare on regular files): write the rest buffer by buffer
      let i = 0;
      while (n < left) {
        left -= n;
        position += n;
        while (n >= buffers[i]!.length) n -= buffers[i++]!.length;
        const b = buffers[i]!.subarray(n);
        buffers[i] = b;
        n = fs.writeSync(f.fd, b, 0, b.length, position);
        this.writes++;
      }
    } catch (e) {
      throw new IoError('write', f.path, e);
    }
    this.bytesWritten += bytes;
    this.markDirty(f);
  }
}

const data = workerData as WriterWorkerData;
const ctl = new Int32Array(data.control, 0, I32_SLOTS);
const stat = new BigInt64Array(data.control, I32_SLOTS * 4, STAT_SLOTS);
const writer = new Writer(Number(stat[STAT_WRITTEN]), data.syncEveryGroup);
let loops = 0;

/** Takes the staged records in order; returns whether there were any. */
type Source = (into: Records) => boolean;

function ringSource(ring: SharedArrayBuffer): Source {
  const size = ring.byteLength;
  const u8 = new Uint8Array(ring);
  const r32 = new Int32Array(ring);
  const f64 = new Float64Array(ring);
  const decoder = new TextDecoder();
  let tail = Atomics.load(ctl, I32_TAIL);
  return (into) => {
    const head = Atomics.load(ctl, I32_HEAD);
    if (head === tail) return false;
    while (tail !== head) {
      const w = tail >> 2;
      const type = r32[w]!;
      if (type === REC_WRAP) {
        tail = 0;
        continue;
      }
      const len = r32[w + 1]!;
      switch (type) {
        case REC_WRITE:
          into.write(r32[w + 2]!, f64[(tail >> 3) + 2]!, new Uint8Array(ring, tail + WRITE_HEADER, r32[w + 3]!));
          break;
        case REC_END:
          into.end(f64[(tail >> 3) + 2]!, r32[w + 2] !== 0);
          break;
        case REC_FILE:
          // TextDecoder refuses views on shared memory, so copy the (short) path out first
          into.file(
            r32[w + 2]!,
            decoder.decode(u8.slice(tail + 16, tail + 16 + (r32[w + 3]! & ~FILE_LAZY_BIT))),
            (r32[w + 3]! & FILE_LAZY_BIT) !== 0,
          );
          break;
        case REC_FLUSH:
          into.flush(r32[w + 2]!);
          break;
        case REC_TRUNCATE:
          into.truncate(r32[w + 2]!, r32[w + 3]!, f64[(tail >> 3) + 2]!);
          break;
        case REC_RELEASE:
          into.release(r32[w + 2]!, r32[w + 3]!);
          break;
        case REC_CLOSE:
          into.close(r32[w + 2]!);
          break;
        default:
          throw new Error(`log writer: bad record type ${type} at ring offset ${tail}`);
      }
      tail = (tail + len) % size;
    }
    // the ring bytes stay referenced by the pending run until it is written
    writer.flushRun();
    Atomics.store(ctl, I32_TAIL, tail);
    return true;
  };
}

function messageSource(input: NonNullable<WriterWorkerData['input']>): Source {
  return (into) => {
    let any = false;
    for (let m = receiveMessageOnPort(input); m !== undefined; m = receiveMessageOnPort(input)) {
      any = true;
      for (const r of m.message as unknown[][]) {
        switch (r[0]) {
          case REC_WRITE:
            into.write(r[1] as number, r[2] as number, r[3] as Uint8Array);
            break;
          case REC_END:
            into.end(r[2] as number, r[1] !== 0);
            break;
          case REC_FILE:
            into.file(r[1] as number, r[2] as string, r[3] === 1);
            break;
          case REC_FLUSH:
            into.flush(r[1] as number);
            break;
          case REC_TRUNCATE:
            into.truncate(r[1] as number, r[2] as number, r[3] as number);
            break;
          case REC_RELEASE:
            into.release(r[1] as number, r[2] as number);
            break;
          case REC_CLOSE:
            into.close(r[1] as number);
            break;
          default:
            throw new Error(`log writer: bad record ${String(r[0])}`);
        }
      }
      if (writer.closeRequest >= 0) break;
    }
    return any;
  };
}

function publish(): void {
  // counters and written first, durable last: the main thread reads durable before written
  Atomics.store(stat, STAT_BYTES, BigInt(writer.bytesWritten));
  Atomics.store(stat, STAT_GROUPS, BigInt(writer.groups));
  Atomics.store(stat, STAT_SYNCS, BigInt(writer.syncs));
  Atomics.store(stat, STAT_FSYNCS, BigInt(writer.fsyncs));
  Atomics.store(stat, STAT_WRITES, BigInt(writer.writes));
  Atomics.store(stat, STAT_LOOPS, BigInt(loops));
  Atomics.store(stat, STAT_WRITTEN, BigInt(writer.written));
  Atomics.store(stat, STAT_DURABLE, BigInt(writer.durable));
}

function run(): void {
  const take = data.ring !== null ? ringSource(data.ring) : messageSource(data.input!);
  const interval = data.flushIntervalMs;
  const spinMs = data.spinMicros / 1000;
  for (;;) {
    const seq = Atomics.load(ctl, I32_SEQ);
    let moved = false;
    if (writer.hasDirty() && performance.now() - writer.lastSyncAt >= interval) {
      writer.syncAll();
      moved = true;
    }
    const took = take(writer);
    if (took) {
      loops++;
      writer.finishLoop();
      if (writer.closeRequest >= 0) {
        writer.closeAllChecked();
        writer.replies.push(writer.closeRequest, writer.durable);
      }
    }
    if (took || moved) {
      publish();
      const done = writer.replies.length > 0 ? writer.replies : null;
      writer.replies = [];
      port.postMessage({ t: 'progress', done } satisfies WorkerMessage);
    }
    if (writer.closeRequest >= 0) return;
    if (took) continue;
    // spin a little first: the main thread often answers a progress message with more work
    // within tens of microseconds, and a futex wake-up costs about as much again
    if (spinMs > 0) {
      const until = performance.now() + spinMs;
      while (Atomics.load(ctl, I32_SEQ) === seq && performance.now() < until);
      if (Atomics.load(ctl, I32_SEQ) !== seq) continue;
    }
    // sleep until the main thread stages more, or the background fsync is due
    let timeout = Infinity;
    if (writer.hasDirty()) timeout = Math.max(0, writer.lastSyncAt + interval - performance.now());
    Atomics.store(ctl, I32_SLEEPING, 1);
    Atomics.wait(ctl, I32_SEQ, seq, timeout);
    Atomics.store(ctl, I32_SLEEPING, 0);
  }
}

// After the last message the worker stays alive (the listener keeps its loop running) until
// the main thread terminates it: a thread that ends by itself may have its last message lost.
try {
  run();
} catch (e) {
  writer.closeAll();
  const m: WorkerMessage =
    e instanceof IoError
      ? {
          t: 'error',
          op: e.op,
          file: e.file,
          systemCode: ((e.reason as NodeJS.ErrnoException | undefined)?.code as string | undefined) ?? null,
          message: e.message,
        }
      : { t: 'error', op: 'worker', file: null, systemCode: null, message: `log writer worker: ${e instanceof Error ? e.stack ?? e.message : String(e)}` };
  port.postMessage(m);
}
port.on('message', () => undefined);
