// The log's writer in production: one worker thread performs every write and fsync of the log,
// so the main thread never waits on the disk. Groups cross to the worker through a staging ring
// in a SharedArrayBuffer (the one copy of their bytes); the worker writes everything it finds
// queued, fsyncs once for all of it (group commit) and publishes the written and durable
// positions in shared memory, with one message per worker loop to fire the listeners.
//
// Why a ring and not postMessage: Node's small Buffers are views on a shared 8 KiB pool, which
// cannot be transferred, and structured clone copies a view's whole backing ArrayBuffer. Posting
// therefore means copying into a fresh ArrayBuffer first (then transferring it) and paying a
// message per group. Both are kept (`staging`) and bench/store measures them: with groups of one
// 1 KiB entry in ASYNC_FLUSH the ring appended about 10x more entries per second than messages
// (800k vs 80k on a 2-core VM); from 16 entries per group on they were within noise.
//
// Positions are the endPosition of the last group written / fsynced. A truncate fsyncs what came
// before it and makes the next group fsync too, so durable never counts bytes of a cut tail; until
// that next group, both positions still show the end before the cut. The worker keeps the process
// alive until close().
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { LogWriter, WriteGroup, WriterProgress } from './LogWriter.js';

export type FlushDiskType = 'SYNC_FLUSH' | 'ASYNC_FLUSH';

export interface WorkerLogWriterOptions {
  /** SYNC_FLUSH: a group is durable after its fsync. ASYNC_FLUSH (RocketMQ's default): fsync in the background. */
  flushDiskType?: FlushDiskType;
  /** ASYNC_FLUSH: milliseconds between background fsyncs (RocketMQ's flushIntervalCommitLog, default 500). */
  flushIntervalCommitLog?: number;
  /** Bytes submitted but not yet written past which submit() throws WriterBusyError (default 256 MiB). */
  maxQueuedBytes?: number;
  /** Size of the shared staging ring (default 16 MiB); groups wait on the main thread while it is full. */
  stagingBytes?: number;
  /** How bytes reach the worker: 'ring' (default) or 'message' (copy into a transferred ArrayBuffer). */
  staging?: 'ring' | 'message';
  /** Log position reported as written and durable before the first group (default 0). */
  initialPosition?: number;
  /** Microseconds the worker polls for more work before it sleeps (default 0). */
  spinMicros?: number;
}

/** Counters for tests and metrics; all but queuedBytes are counted by the worker. */
export interface WriterStats {
  /** groups written to the OS */
  groupsWritten: number;
  /** group commits: rounds of fdatasync over the files touched since the previous round */
  syncCount: number;
  /** fdatasync calls (files and folders), over all rounds */
  fsyncCalls: number;
  /** write/writev system calls */
  writeCalls: number;
  bytesWritten: number;
  /** times the worker found work and went through its loop */
  loops: number;
  /** bytes submitted and not yet written */
  queuedBytes: number;
}

export type LogWriteOp = 'open' | 'write' | 'fdatasync' | 'truncate' | 'close' | 'worker';

/** A write, fsync, truncate or open failed, or the worker died. The writer is dead afterwards. */
export class LogWriteError extends Error {
  override readonly name = 'LogWriteError';
  readonly code = 'ERR_RAFTMQ_LOG_WRITE';
  constructor(
    readonly op: LogWriteOp,
    /** the file the operation was on, when there was one */
    readonly file: string | undefined,
    /** the system's error code (EIO, ENOSPC, ...), when there was one */
    readonly systemCode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** submit() would queue more than maxQueuedBytes; the caller should refuse the request (SYSTEM_BUSY). */
export class WriterBusyError extends Error {
  override readonly name = 'WriterBusyError';
  readonly code = 'ERR_RAFTMQ_WRITER_BUSY';
  constructor(
    readonly queuedBytes: number,
    readonly groupBytes: number,
    readonly maxQueuedBytes: number,
  ) {
    super(`log writer busy: ${queuedBytes} bytes queued + ${groupBytes} submitted > maxQueuedBytes ${maxQueuedBytes}`);
  }
}

/** The writer was closed; nothing more can be submitted. */
export class WriterClosedError extends Error {
  override readonly name = 'WriterClosedError';
  readonly code = 'ERR_RAFTMQ_WRITER_CLOSED';
}

// ---- what the main thread and the worker share (writerWorker.ts imports these) ----

/** Int32 slots at the start of the control block. */
export const I32_SEQ = 0; // bumped by the main thread after every push; the worker waits on it
export const I32_SLEEPING = 1; // 1 while the worker is (about to be) in Atomics.wait
export const I32_HEAD = 2; // ring: byte offset where the main thread writes next
export const I32_TAIL = 3; // ring: byte offset where the worker reads next
export const I32_SLOTS = 8;
/** BigInt64 slots after the Int32 ones; written by the worker only. */
export const STAT_WRITTEN = 0;
export const STAT_DURABLE = 1;
export const STAT_BYTES = 2;
export const STAT_GROUPS = 3;
export const STAT_SYNCS = 4;
export const STAT_FSYNCS = 5;
export const STAT_WRITES = 6;
export const STAT_LOOPS = 7;
export const STAT_SLOTS = 8;
export const CONTROL_BYTES = I32_SLOTS * 4 + STAT_SLOTS * 8;

/**
 * Records, in the ring (8-byte aligned, little-endian; i32 type and i32 record length first) or
 * as tuples in messages. The fields after the first two words:
 * WRITE i32 fileId, i32 dataLength, f64 filePosition, data | END i32 sync, pad, f64 endPosition |
 * FILE i32 fileId, i32 pathLength, utf-8 path | FLUSH, CLOSE i32 request | TRUNCATE i32 request,
 * i32 fileId, f64 length | RELEASE i32 request, i32 fileId | WRAP: continue at offset 0.
 */
export const REC_WRITE = 1;
export const REC_END = 2;
export const REC_FILE = 3;
export const REC_FLUSH = 4;
export const REC_TRUNCATE = 5;
export const REC_RELEASE = 6;
export const REC_CLOSE = 7;
export const REC_WRAP = 8;
/** In a FILE record's length word: the file is synced lazily (WriteOp.lazySync). */
export const FILE_LAZY_BIT = 0x40000000;
export const WRITE_HEADER = 24;

export interface WriterWorkerData {
  control: SharedArrayBuffer;
  /** null in 'message' staging */
  ring: SharedArrayBuffer | null;
  /** 'message' staging: the port the worker drains with receiveMessageOnPort */
  input: MessagePort | null;
  syncEveryGroup: boolean;
  flushIntervalMs: number;
  spinMicros: number;
}

/** Worker -> main. `done` holds request id, value pairs. */
export type WorkerMessage =
  | { t: 'progress'; done: number[] | null }
  | { t: 'error'; op: LogWriteOp; file: string | null; systemCode: string | null; message: string };

export const align8 = (n: number): number => (n + 7) & ~7;

// ---- the main thread's side ----

type Pending =
  | { kind: 'group'; group: WriteGroup; op: number; buf: number; bufOffset: number; opDone: number }
  | { kind: 'flush' | 'close'; req: number }
  | { kind: 'truncate'; req: number; file: string; length: number }
  | { kind: 'release'; req: number; file: string };

interface Waiter {
  resolve: (value: number) => void;
  reject: (e: Error) => void;
}

const MiB = 1024 * 1024;
/** Bytes staged in one burst after which the worker is woken at once. */
const WAKE_BYTES = 256 * 1024;
const textEncoder = new TextEncoder();

export class WorkerLogWriter implements LogWriter {
  readonly flushDiskType: FlushDiskType;
  readonly maxQueuedBytes: number;
  private readonly worker: Worker;
  private readonly i32: Int32Array;
  private readonly stat: BigInt64Array;
  private readonly staging: RingStaging | MessageStaging;
  private readonly progressListeners: Array<(p: WriterProgress) => void> = [];
  private readonly errorListeners: Array<(e: Error) => void> = [];
  private readonly waiters = new Map<number, Waiter>();
  private nextRequest = 1;
  private submittedBytes = 0;
  private lastWritten: number;
  private lastDurable: number;
  private failure: LogWriteError | null = null;
  private closing: Promise<void> | null = null;
  /** the worker answered close(): its exit is expected */
  private closed = false;

  constructor(options: WorkerLogWriterOptions = {}) {
    this.flushDiskType = options.flushDiskType ?? 'ASYNC_FLUSH';
    if (this.flushDiskType !== 'SYNC_FLUSH' && this.flushDiskType !== 'ASYNC_FLUSH') {
      throw new RangeError(`flushDiskType must be SYNC_FLUSH or ASYNC_FLUSH, not ${String(this.flushDiskType)}`);
    }
    const flushIntervalMs = options.flushIntervalCommitLog ?? 500;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 256 * MiB;
    const stagingBytes = options.stagingBytes ?? 16 * MiB;
    const initial = options.initialPosition ?? 0;
    const spinMicros = options.spinMicros ?? 0;
    checkInteger('spinMicros', spinMicros, 0, 10_000);
    checkInteger('flushIntervalCommitLog', flushIntervalMs, 1, 3_600_000);
    checkInteger('maxQueuedBytes', this.maxQueuedBytes, 1, Number.MAX_SAFE_INTEGER);
    checkInteger('stagingBytes', stagingBytes, 64 * 1024, 1024 * MiB);
    checkInteger('initialPosition', initial, 0, Number.MAX_SAFE_INTEGER);

    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.i32 = new Int32Array(control, 0, I32_SLOTS);
    this.stat = new BigInt64Array(control, I32_SLOTS * 4, STAT_SLOTS);
    this.stat[STAT_WRITTEN] = BigInt(initial);
    this.stat[STAT_DURABLE] = BigInt(initial);
    this.lastWritten = initial;
    this.lastDurable = initial;

    let data: WriterWorkerData;
    let transferList: MessagePort[] = [];
    if ((options.staging ?? 'ring') === 'ring') {
      const ring = new SharedArrayBuffer(stagingBytes & ~7);
      this.staging = new RingStaging(ring, this.i32);
      data = { control, ring, input: null, syncEveryGroup: this.flushDiskType === 'SYNC_FLUSH', flushIntervalMs, spinMicros };
    } else {
      const channel = new MessageChannel();
      this.staging = new MessageStaging(channel.port1, this.i32);
      data = { control, ring: null, input: channel.port2, syncEveryGroup: this.flushDiskType === 'SYNC_FLUSH', flushIntervalMs, spinMicros };
      transferList = [channel.port2];
    }
    // No execArgv and an empty env: the worker needs neither, and --import hooks that come with
    // them (NODE_OPTIONS of a test runner or an APM agent) cost it up to a second of start-up.
    this.worker = new Worker(new URL('./writerWorker.js', import.meta.url), { workerData: data, transferList, execArgv: [], env: {} });
    this.worker.on('message', (m: WorkerMessage) => this.onWorkerMessage(m));
    this.worker.on('error', (e: Error) => this.fail(new LogWriteError('worker', undefined, undefined, `log writer worker crashed: ${e.message}`)));
    this.worker.once('exit', (code) => {
      this.fail(new LogWriteError('worker', undefined, undefined, `log writer worker exited unexpectedly with code ${code}`));
    });
  }

  submit(group: WriteGroup): void {
    this.checkOpen();
    checkInteger('endPosition', group.endPosition, 0, Number.MAX_SAFE_INTEGER);
    let bytes = 0;
    for (const op of group.ops) {
      checkInteger('filePosition', op.filePosition, 0, Number.MAX_SAFE_INTEGER);
      for (const b of op.buffers) bytes += b.length;
    }
    const queued = this.submittedBytes - Number(Atomics.load(this.stat, STAT_BYTES));
    // A lone group larger than the limit still goes through: refusing it would refuse it forever.
    if (queued > 0 && queued + bytes > this.maxQueuedBytes) throw new WriterBusyError(queued, bytes, this.maxQueuedBytes);
    this.submittedBytes += bytes;
    this.staging.pushGroup(group);
  }

  progress(): WriterProgress {
    // durable first: a later written is never below it
    const durable = Number(Atomics.load(this.stat, STAT_DURABLE));
    return { written: Number(Atomics.load(this.stat, STAT_WRITTEN)), durable };
  }

  onProgress(listener: (p: WriterProgress) => void): void {
    this.progressListeners.push(listener);
  }

  onError(listener: (e: Error) => void): void {
    this.errorListeners.push(listener);
  }

  flush(): Promise<number> {
    return this.request((req) => ({ kind: 'flush', req }));
  }

  async truncate(file: string, length: number): Promise<void> {
    checkInteger('length', length, 0, Number.MAX_SAFE_INTEGER);
    await this.request((req) => ({ kind: 'truncate', req, file, length }));
  }

  async release(file: string): Promise<void> {
    await this.request((req) => ({ kind: 'release', req, file }));
  }

  close(): Promise<void> {
    if (this.closing === null) {
      if (this.failure !== null) {
        this.closing = this.worker.terminate().then(() => Promise.reject(this.failure));
      } else {
        const req = this.nextRequest++;
        const done = new Promise<number>((resolve, reject) => this.waiters.set(req, { resolve, reject }));
        this.staging.push({ kind: 'close', req });
        this.closing = done.then(
          async () => {
            this.closed = true;
            await this.worker.terminate();
          },
          async (e: Error) => {
            await this.worker.terminate();
            throw e;
          },
        );
      }
    }
    return this.closing;
  }

  stats(): WriterStats {
    const s = this.stat;
    return {
      groupsWritten: Number(Atomics.load(s, STAT_GROUPS)),
      syncCount: Number(Atomics.load(s, STAT_SYNCS)),
      fsyncCalls: Number(Atomics.load(s, STAT_FSYNCS)),
      writeCalls: Number(Atomics.load(s, STAT_WRITES)),
      bytesWritten: Number(Atomics.load(s, STAT_BYTES)),
      loops: Number(Atomics.load(s, STAT_LOOPS)),
      queuedBytes: this.submittedBytes - Number(Atomics.load(s, STAT_BYTES)),
    };
  }

  private request(make: (req: number) => Pending): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing !== null) return Promise.reject(new WriterClosedError('log writer is closed'));
    const req = this.nextRequest++;
    const p = new Promise<number>((resolve, reject) => this.waiters.set(req, { resolve, reject }));
    this.staging.push(make(req));
    return p;
  }

  private checkOpen(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closing !== null) throw new WriterClosedError('log writer is closed');
  }

  private onWorkerMessage(m: WorkerMessage): void {
    if (m.t === 'error') {
      this.fail(new LogWriteError(m.op, m.file ?? undefined, m.systemCode ?? undefined, m.message));
      void this.worker.terminate();
      return;
    }
    if (this.failure !== null) return;
    if (this.staging instanceof RingStaging) this.staging.pump();
    const done = m.done;
    if (done !== null) {
      for (let i = 0; i < done.length; i += 2) {
        const w = this.waiters.get(done[i] as number);
        this.waiters.delete(done[i] as number);
        w?.resolve(done[i + 1] as number);
      }
    }
    const p = this.progress();
    if (p.written !== this.lastWritten || p.durable !== this.lastDurable) {
      this.lastWritten = p.written;
      this.lastDurable = p.durable;
      for (const l of this.progressListeners) l(p);
    }
  }

  private fail(e: LogWriteError): void {
    if (this.failure !== null || this.closed) return;
    this.failure = e;
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiters) w.reject(e);
    for (const l of this.errorListeners) l(e);
  }
}

function checkInteger(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, not ${v}`);
}

/** Assigns file ids in queue order, so a path released and written again gets a new id. */
class FileIds {
  private readonly ids = new Map<string, number>();
  private next = 0;
  /** The id of `file`, and whether it is new (a FILE record must precede its first use). */
  lookup(file: string): number {
    return this.ids.get(file) ?? -1;
  }
  add(file: string): number {
    const id = this.next++;
    this.ids.set(file, id);
    return id;
  }
  remove(file: string): number {
    const id = this.ids.get(file) ?? -1;
    this.ids.delete(file);
    return id;
  }
}

/**
 * The staging ring. The main thread writes records at `head` and publishes it; the worker reads
 * from `tail` and publishes that once the bytes are written. Records never wrap: a WRAP marker
 * sends the reader to offset 0. Groups that do not fit wait in `backlog` (as references, not
 * copies) and are pumped in when the worker reports progress.
 */
class RingStaging {
  private readonly size: number;
  private readonly u8: Uint8Array;
  private readonly r32: Int32Array;
  private readonly f64: Float64Array;
  private readonly maxChunk: number;
  private readonly backlog: Pending[] = [];
  private backlogHead = 0;
  private readonly files = new FileIds();
  private head = 0;
  private readonly cursor: Extract<Pending, { kind: 'group' }> = { kind: 'group', group: { ops: [], endPosition: 0, sync: false }, op: 0, buf: 0, bufOffset: 0, opDone: 0 };
  private readonly waker: Waker;

  constructor(
    ring: SharedArrayBuffer,
    private readonly ctl: Int32Array,
  ) {
    this.waker = new Waker(ctl);
    this.size = ring.byteLength;
    this.u8 = new Uint8Array(ring);
    this.r32 = new Int32Array(ring);
    this.f64 = new Float64Array(ring);
    this.maxChunk = ((this.size / 4) & ~7) - WRITE_HEADER;
  }

  /** The common case without an allocation: the group fits into the ring at once. */
  pushGroup(group: WriteGroup): void {
    if (this.backlogHead === this.backlog.length) {
      const c = this.cursor;
      c.group = group;
      c.op = c.buf = c.bufOffset = c.opDone = 0;
      const start = this.head;
      const placed = this.placeGroup(c);
      if (this.head !== start) this.publish(start);
      if (placed) return;
      this.backlog.push({ ...c });
      return;
    }
    this.backlog.push({ kind: 'group', group, op: 0, buf: 0, bufOffset: 0, opDone: 0 });
  }

  push(item: Pending): void {
    this.backlog.push(item);
    if (this.backlog.length - this.backlogHead === 1) this.pump();
  }

  private publish(start: number): void {
    Atomics.store(this.ctl, I32_HEAD, this.head);
    this.waker.wake((this.head - start + this.size) % this.size);
  }

  /** Move as much of the backlog into the ring as fits, then wake the worker. */
  pump(): void {
    const start = this.head;
    while (this.backlogHead < this.backlog.length) {
      if (!this.place(this.backlog[this.backlogHead] as Pending)) break;
      this.backlog[this.backlogHead++] = undefined as unknown as Pending;
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog.length = 0;
      this.backlogHead = 0;
    } else if (this.backlogHead > 1024) {
      this.backlog.splice(0, this.backlogHead);
      this.backlogHead = 0;
    }
    if (this.head !== start) this.publish(start);
  }

  /** Offset for a record of `len` bytes, or -1 if the ring lacks room now. */
  private reserve(len: number): number {
    const tail = Atomics.load(this.ctl, I32_TAIL);
    const used = (this.head - tail + this.size) % this.size;
    const free = this.size - used - 8; // head never catches up with tail: equal means empty
    if (this.head + len <= this.size) return len <= free ? this.head : -1;
    if (this.size - this.head + len > free) return -1;
    this.r32[this.head >> 2] = REC_WRAP;
    this.head = 0;
    return 0;
  }

  private commit(off: number, type: number, len: number): void {
    this.r32[off >> 2] = type;
    this.r32[(off >> 2) + 1] = len;
    this.head = (off + len) % this.size;
  }

  /** Place one item (or what is left of it); false if it has to wait for room. */
  private place(item: Pending): boolean {
    switch (item.kind) {
      case 'group':
        return this.placeGroup(item);
      case 'flush':
      case 'close': {
        const off = this.reserve(16);
        if (off < 0) return false;
        this.r32[(off >> 2) + 2] = item.req;
        this.commit(off, item.kind === 'flush' ? REC_FLUSH : REC_CLOSE, 16);
        return true;
      }
      case 'truncate': {
        let id = this.files.lookup(item.file);
        if (id < 0) {
          id = this.placeFile(item.file);
          if (id < 0) return false;
        }
        const off = this.reserve(24);
        if (off < 0) return false;
        this.r32[(off >> 2) + 2] = item.req;
        this.r32[(off >> 2) + 3] = id;
        this.f64[(off >> 3) + 2] = item.length;
        this.commit(off, REC_TRUNCATE, 24);
        return true;
      }
      case 'release': {
        const off = this.reserve(16);
        if (off < 0) return false;
        this.r32[(off >> 2) + 2] = item.req;
        this.r32[(off >> 2) + 3] = this.files.remove(item.file);
        this.commit(off, REC_RELEASE, 16);
        return true;
      }
    }
  }

  /** A FILE record for a new path; its id, or -1 if there is no room. */
  private placeFile(file: string, lazy = false): number {
    const path = textEncoder.encode(file);
    const len = align8(16 + path.length);
    if (len > this.maxChunk) throw new RangeError(`file path too long: ${file}`);
    const off = this.reserve(len);
    if (off < 0) return -1;
    const id = this.files.add(file);
    this.r32[(off >> 2) + 2] = id;
    // the high bit of the length word marks a lazily synced file (paths are far shorter)
    this.r32[(off >> 2) + 3] = path.length | (lazy ? FILE_LAZY_BIT : 0);
    this.u8.set(path, off + 16);
    this.commit(off, REC_FILE, len);
    return id;
  }

  private placeGroup(g: Extract<Pending, { kind: 'group' }>): boolean {
    const ops = g.group.ops;
    while (g.op < ops.length) {
      const op = ops[g.op]!;
      let id = this.files.lookup(op.file);
      if (id < 0) {
        id = this.placeFile(op.file, op.lazySync === true);
        if (id < 0) return false;
      }
      const buffers = op.buffers;
      // one WRITE record per chunk of at most maxChunk bytes, gathered from the op's buffers
      for (;;) {
        let remaining = 0;
        for (let i = g.buf; i < buffers.length; i++) remaining += buffers[i]!.length;
        remaining -= g.bufOffset;
        if (remaining === 0 && g.opDone > 0) break;
        const dataLen = Math.min(remaining, this.maxChunk);
        const len = align8(WRITE_HEADER + dataLen);
        const off = this.reserve(len);
        if (off < 0) return false;
        let at = off + WRITE_HEADER;
        let left = dataLen;
        while (left > 0) {
          const b = buffers[g.buf]!;
          const n = Math.min(left, b.length - g.bufOffset);
          if (g.bufOffset === 0 && n === b.length) this.u8.set(b, at);
          else this.u8.set(b.subarray(g.bufOffset, g.bufOffset + n), at);
          at += n;
          left -= n;
          g.bufOffset += n;
          if (g.bufOffset === b.length) {
            g.buf++;
            g.bufOffset = 0;
          }
        }
        this.r32[(off >> 2) + 2] = id;
        this.r32[(off >> 2) + 3] = dataLen;
        this.f64[(off >> 3) + 2] = op.filePosition + g.opDone;
        this.commit(off, REC_WRITE, len);
        g.opDone += dataLen;
        if (dataLen === remaining) break;
      }
      g.op++;
      g.buf = 0;
      g.bufOffset = 0;
      g.opDone = 0;
    }
    const off = this.reserve(24);
    if (off < 0) return false;
    this.r32[(off >> 2) + 2] = g.group.sync ? 1 : 0;
    this.f64[(off >> 3) + 2] = g.group.endPosition;
    this.commit(off, REC_END, 24);
    return true;
  }
}

/** 'message' staging: each item becomes one message of record tuples; group bytes go in one transferred ArrayBuffer. */
class MessageStaging {
  private readonly files = new FileIds();
  private readonly waker: Waker;

  constructor(
    private readonly port: MessagePort,
    ctl: Int32Array,
  ) {
    this.waker = new Waker(ctl);
  }

  pushGroup(group: WriteGroup): void {
    this.push({ kind: 'group', group, op: 0, buf: 0, bufOffset: 0, opDone: 0 });
  }

  push(item: Pending): void {
    const records: unknown[] = [];
    const transfer: ArrayBuffer[] = [];
    const idOf = (file: string, lazy = false): number => {
      let id = this.files.lookup(file);
      if (id < 0) {
        id = this.files.add(file);
        records.push([REC_FILE, id, file, lazy ? 1 : 0]);
      }
      return id;
    };
    switch (item.kind) {
      case 'group': {
        let total = 0;
        for (const op of item.group.ops) for (const b of op.buffers) total += b.length;
        const ab = new ArrayBuffer(total);
        const u8 = new Uint8Array(ab);
        let at = 0;
        for (const op of item.group.ops) {
          const start = at;
          for (const b of op.buffers) {
            u8.set(b, at);
            at += b.length;
          }
          records.push([REC_WRITE, idOf(op.file, op.lazySync === true), op.filePosition, u8.subarray(start, at)]);
        }
        records.push([REC_END, item.group.sync ? 1 : 0, item.group.endPosition]);
        transfer.push(ab);
        break;
      }
      case 'flush':
        records.push([REC_FLUSH, item.req]);
        break;
      case 'close':
        records.push([REC_CLOSE, item.req]);
        break;
      case 'truncate':
        records.push([REC_TRUNCATE, item.req, idOf(item.file), item.length]);
        break;
      case 'release':
        records.push([REC_RELEASE, item.req, this.files.remove(item.file)]);
        break;
    }
    this.port.postMessage(records, transfer);
    this.waker.wake(transfer[0]?.byteLength ?? 0);
  }
}

/**
 * Wakes the worker once per burst of pushes (at the end of the current task) rather than once
 * per push, or at once when a burst has staged WAKE_BYTES, so the worker writes while the main
 * thread is still copying.
 */
class Waker {
  private scheduled = false;
  private staged = 0;
  private readonly run = (): void => {
    this.scheduled = false;
    this.now();
  };

  constructor(private readonly ctl: Int32Array) {}

  wake(bytes: number): void {
    this.staged += bytes;
    if (this.staged >= WAKE_BYTES) this.now();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.run);
    }
  }

  private now(): void {
    this.staged = 0;
    Atomics.add(this.ctl, I32_SEQ, 1);
    if (Atomics.load(this.ctl, I32_SLEEPING) !== 0) Atomics.notify(this.ctl, I32_SEQ);
  }
}
