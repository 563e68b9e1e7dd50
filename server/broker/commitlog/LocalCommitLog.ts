// The single-node commit log (enableDLegerCommitLog=false): the segmented log on DLedger's
// layout, written by the writer worker, applied into the IndexStore. "Committed" is the local
// disk's answer as flushDiskType says (written to the OS, or fsynced), which is what a quorum
// of one gives; the Raft log will keep everything else here (AppendPlan, QueueOffsetAssigner,
// CommitApplier) and only change who says "committed".
import { IndexStore } from '../../../storage/index/IndexStore.js';
import type { DispatchOptions } from '../../../storage/index/DispatchRequest.js';
import { LogIndexer, type MetadataDecoder } from '../../../storage/LogIndexer.js';
import type { LogWriter } from '../../../storage/log/LogWriter.js';
import { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { WorkerLogWriter, WriterBusyError, type FlushDiskType } from '../../../storage/log/WorkerLogWriter.js';
import type { DiskGuard } from '../../../storage/retention/RetentionPolicy.js';
import { AppendPlan } from './AppendPlan.js';
import { CommitApplier, DEFAULT_APPLY_COALESCE_MS } from './CommitApplier.js';
import type { AppendOptions, AppendRecord, AppendResult, AppliedListener, CommitLog, CommitLogStats, IndexReader, WriteHold } from './CommitLog.js';
import { CommitLogBusyError, CommitLogError, CommitLogStorageError, DiskFullError, MessageTooLargeError, NotWritableError } from './CommitLogError.js';
import { QueueOffsetAssigner } from './QueueOffsetAssigner.js';
import { CommitLogReads } from './logReads.js';
import { syncAndTrim } from '../../../storage/log/backgroundSync.js';
import { cacheWindowFor, type CacheWindow } from '../../../storage/log/pageCache.js';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';
import { LogRetentionSource } from '../../../storage/LogRetention.js';
import type { SegmentSource } from '../../../storage/retention/DiskSpace.js';

export interface LocalCommitLogOptions {
  /** the log folder, `<storePathRootDir>/dledger-<selfId>` (DLedger's layout) */
  logDir: string;
  /** the RocksDB index folder */
  indexDir: string;
  /** SYNC_FLUSH: an append commits once fsynced; ASYNC_FLUSH (default): once written to the OS */
  flushDiskType?: FlushDiskType;
  /** default: see logWriter. The log owns (and closes) it. */
  writer?: LogWriter;
  flushIntervalCommitLog?: number;
  /** the newest bytes of the data log kept in the page cache; older fsynced pages are dropped (0 or unset: the kernel decides) */
  cacheWindow?: number;
  /** without `writer`: 'main' (this thread; default for ASYNC_FLUSH) or 'worker' (the writer thread; default for SYNC_FLUSH) */
  logWriter?: 'main' | 'worker';
  dataSegmentSize?: number;
  indexSegmentSize?: number;
  maxEntrySize?: number;
  /** appends accepted but not yet applied, past which append() refuses with SYSTEM_BUSY (default 10000, RocketMQ's send queue) */
  maxPendingAppends?: number;
  /** entries per apply step */
  maxApplyEntries?: number;
  /** how long a few committed entries wait to share an index write (CommitApplier coalesceMs; default 1) */
  applyCoalesceMs?: number;
  decodeMetadata?: MetadataDecoder;
  dispatchOptions?: DispatchOptions;
  /** the retention service's guard (RetentionService.guard); asked per append */
  diskGuard?: () => DiskGuard;
  /** store time source (tests); store times never go backwards whatever it says */
  now?: () => number;
  log?: (line: string) => void;
  /** holds ordinary writes while it gives a reason (a classic import under way) */
  writeHold?: WriteHold;
}

export const DEFAULT_MAX_PENDING_APPENDS = 10_000;

export class LocalCommitLog extends CommitLogReads implements CommitLog {
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<unknown> | null = null;
  /** the background timer fsyncs the newest files (the main-thread writer has no flusher of its own) */
  private readonly mainWriterSync: boolean;
  private readonly cacheWindow: CacheWindow | null;
  readonly flushDiskType: FlushDiskType;
  readonly maxPendingAppends: number;
  private readonly assigner: QueueOffsetAssigner;
  private readonly applier: CommitApplier;
  private readonly now: () => number;
  private lastStoreTimestamp: number;
  /** appends waiting for their commit (close waits for them) */
  private pending = 0;
  /** last log index of each append accepted and not yet applied, oldest first: the busy limit counts these */
  private unapplied: number[] = [];
  private unappliedHead = 0;
  /** settles when no append is in flight (for close) */
  private idle: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private failure: Error | null = null;

  private constructor(
    private readonly log: SegmentedLog,
    indexStore: IndexStore,
    private readonly opts: LocalCommitLogOptions,
    backgroundSync = false,
  ) {
    super(indexStore);
    this.onWarmerOff = opts.log;
    this.flushDiskType = opts.flushDiskType ?? 'ASYNC_FLUSH';
    this.mainWriterSync = backgroundSync;
    this.cacheWindow = cacheWindowFor(opts.cacheWindow, opts.log);
    if (backgroundSync || this.cacheWindow) {
      this.syncTimer = setInterval(() => {
        if (this.syncing || this.closing !== null) return;
        this.syncing = this.backgroundRound()
          .catch((e: Error) => this.opts.log?.(`background fsync failed: ${e.message}`))
          .finally(() => (this.syncing = null));
      }, opts.flushIntervalCommitLog ?? 500);
      this.syncTimer.unref();
    }
    this.maxPendingAppends = opts.maxPendingAppends ?? DEFAULT_MAX_PENDING_APPENDS;
    this.now = opts.now ?? Date.now;
    this.lastStoreTimestamp = indexStore.lastIndexed.storeTimestamp;
    this.assigner = new QueueOffsetAssigner(indexStore);
    this.applier = new CommitApplier(indexStore, {
      maxEntries: opts.maxApplyEntries,
      coalesceMs: opts.applyCoalesceMs ?? DEFAULT_APPLY_COALESCE_MS,
      log: opts.log,
      onFailure: (e) => this.fail(e),
    });
    // registered first, so the limit is released before any listener runs
    this.applier.onApplied((b) => this.releaseApplied(b.lastIndex));
  }

  /** Opens log and index, recovers the log, replays into the index what it lacks; offsets continue from the index. */
  static async open(opts: LocalCommitLogOptions): Promise<LocalCommitLog> {
    const maxPending = opts.maxPendingAppends ?? DEFAULT_MAX_PENDING_APPENDS;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPendingAppends must be a positive integer, got ${maxPending}`);
    const flushDiskType = opts.flushDiskType ?? 'ASYNC_FLUSH';
    // ASYNC_FLUSH writes on this thread (the thread hop cost more than the write; the background
    // fsync runs in the thread pool); SYNC_FLUSH keeps its fsyncs off the event loop in the writer thread
    const mainThread = !opts.writer && (opts.logWriter ?? (flushDiskType === 'ASYNC_FLUSH' ? 'main' : 'worker')) === 'main';
    const writer = opts.writer ?? (mainThread ? new SyncLogWriter({ coalesce: true }) : new WorkerLogWriter({ flushDiskType, flushIntervalCommitLog: opts.flushIntervalCommitLog }));
    // SegmentedLog.open closes the writer when it fails
    const log = await SegmentedLog.open({
      dir: opts.logDir,
      writer,
      dataSegmentSize: opts.dataSegmentSize,
      indexSegmentSize: opts.indexSegmentSize,
      maxEntrySize: opts.maxEntrySize,
      log: opts.log,
    });
    let index: IndexStore | undefined;
    try {
      index = await IndexStore.open(opts.indexDir);
      await new LogIndexer(log, index, { decodeMetadata: opts.decodeMetadata, dispatchOptions: opts.dispatchOptions, log: opts.log }).catchUp();
      return new LocalCommitLog(log, index, opts, mainThread && flushDiskType === 'ASYNC_FLUSH');
    } catch (e) {
      await index?.close().catch(() => undefined);
      await log.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * One round of the background timer: the fsync of the newest files (main-thread writer,
   * ASYNC_FLUSH), then the page-cache trim behind the cache window. Public for tests.
   */
  async backgroundRound(): Promise<void> {
    await syncAndTrim(this.log, { syncNewest: this.mainWriterSync, window: this.cacheWindow });
  }

  /** Bytes of the log behind the cache window whose pages were dropped; 0 without a window. */
  get pageCacheDroppedBytes(): number {
    return this.cacheWindow?.droppedBytes ?? 0;
  }

  get isWritable(): boolean {
    return this.closing === null && this.failure === null && this.opts.writeHold?.() === undefined;
  }

  get appliedIndex(): number {
    return this.applier.appliedIndex;
  }

  get index(): IndexReader {
    return this.indexStore;
  }

  /** The log this commit log keeps (metrics: its size and flush position). */
  get storage(): SegmentedLog {
    return this.log;
  }

  append(records: readonly AppendRecord[], options?: AppendOptions): Promise<AppendResult> {
    // Everything up to log.append() runs synchronously: appends reach the log in call order.
    let plan: AppendPlan;
    let end: number;
    let lastIndex: number;
    try {
      this.checkWritable();
      const held = options?.pastHold === true ? undefined : this.opts.writeHold?.();
      if (held !== undefined) throw new CommitLogBusyError('writeHold', `[REJECTREQUEST]system busy: ${held}`);
      const unapplied = this.unapplied.length - this.unappliedHead;
      if (unapplied >= this.maxPendingAppends) {
        throw new CommitLogBusyError('maxPendingAppends', `commit log busy: ${unapplied} appends not yet applied, maxPendingAppends ${this.maxPendingAppends}`);
      }
      if (records.length === 0) return Promise.resolve({ firstIndex: this.log.lastIndex + 1, lastIndex: this.log.lastIndex, records: [] });
      // store times never go backwards, so the index's search by time stays a binary search
      const ts = Math.max(this.now(), this.lastStoreTimestamp);
      plan = new AppendPlan(records, {
        assigner: this.assigner,
        limits: this.log,
        term: Math.max(0, this.log.lastTerm),
        storeTimestamp: ts,
        decodeMetadata: this.opts.decodeMetadata,
        dispatchOptions: this.opts.dispatchOptions,
      });
      const r = this.appendToLog(plan);
      end = r.endPosition;
      lastIndex = r.lastIndex;
      this.lastStoreTimestamp = ts;
    } catch (e) {
      return Promise.reject(e as Error);
    }
    plan.accepted();
    options?.onAccepted?.();
    for (const d of plan.decoded) this.applier.add(d);
    this.pending++;
    this.unapplied.push(lastIndex);
    const committed = this.flushDiskType === 'SYNC_FLUSH' ? this.log.whenDurable(end) : this.log.whenWritten(end);
    return committed.then(
      () => {
        this.applier.commit(lastIndex);
        this.settled();
        return { firstIndex: plan.results[0]!.index, lastIndex, records: plan.results };
      },
      (e: Error) => {
        this.settled();
        this.fail(e);
        throw new CommitLogStorageError(`append not committed: ${e.message}`, { cause: e });
      },
    );
  }

  onApplied(listener: AppliedListener): () => void {
    return this.applier.onApplied(listener);
  }

  get logDir(): string {
    return this.opts.logDir;
  }

  retentionSource(): SegmentSource {
    return new LogRetentionSource(this.log, this.indexStore, { log: this.opts.log });
  }

  stats(): CommitLogStats {
    return {
      pendingAppends: this.unapplied.length - this.unappliedHead,
      maxPendingAppends: this.maxPendingAppends,
      lastIndex: this.log.lastIndex,
      committedIndex: this.applier.committedIndex,
      appliedIndex: this.applier.appliedIndex,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.syncTimer) clearInterval(this.syncTimer);
      await this.syncing;
      // appends in flight commit (or fail), then what they committed is applied
      if (this.pending > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      await this.applier.drained();
      const results = await Promise.allSettled([this.log.close(), this.indexStore.close()]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    })();
    return this.closing;
  }

  /** log.append with its refusals turned into the errors the broker answers with. */
  private appendToLog(plan: AppendPlan): { endPosition: number; lastIndex: number } {
    try {
      return this.log.append(plan.entries, { sync: this.flushDiskType === 'SYNC_FLUSH', beforeWrite: plan.beforeWrite });
    } catch (e) {
      if (e instanceof CommitLogError) throw e;
      if (e instanceof WriterBusyError) throw new CommitLogBusyError('writerQueuedBytes', e.message, { cause: e });
      // the plan checked sizes and counts already; a RangeError left is a limit we did not foresee
      if (e instanceof RangeError) throw new MessageTooLargeError(e.message, { cause: e });
      this.fail(e as Error);
      throw new CommitLogStorageError(`log refused the append: ${(e as Error).message}`, { cause: e });
    }
  }

  private checkWritable(): void {
    if (this.closing !== null) throw new NotWritableError('commit log is closing');
    if (this.failure !== null) throw new CommitLogStorageError(`commit log stopped after a storage failure: ${this.failure.message}`, { cause: this.failure });
    const guard = this.opts.diskGuard?.();
    if (guard !== undefined && !guard.writable) throw new DiskFullError(guard.reason ?? 'the disk is full');
  }

  private settled(): void {
    this.pending--;
    if (this.pending === 0 && this.idle !== null) {
      this.idle();
      this.idle = null;
    }
  }

  private releaseApplied(appliedIndex: number): void {
    const q = this.unapplied;
    while (this.unappliedHead < q.length && q[this.unappliedHead]! <= appliedIndex) this.unappliedHead++;
    if (this.unappliedHead === q.length) {
      q.length = 0;
      this.unappliedHead = 0;
    } else if (this.unappliedHead > 4096 && this.unappliedHead * 2 > q.length) {
      this.unapplied = q.slice(this.unappliedHead); // never drained under steady load: compact now and then
      this.unappliedHead = 0;
    }
  }

  private fail(e: Error): void {
    if (this.failure !== null) return;
    this.failure = e;
    this.opts.log?.(`commit log stops taking writes: ${e.message}`);
  }
}
