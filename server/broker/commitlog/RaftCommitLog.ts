// The commit log of a broker group on DLedger (enableDLegerCommitLog=true): the Raft log of
// dLegerGroup, driven by a RaftNode. The leader plans queue offsets, proposes the records as
// entries and patches physical offset, queue offset and store time into each record just
// before it is written (so every replica stores the same bytes); every replica applies
// committed entries through the same CommitApplier into its own IndexStore.
//
// The leader takes writes only once its own no-op entry is applied: by then everything an
// earlier leader committed is in the index, and queue offsets continue from there.
import { performance } from 'node:perf_hooks';
import { asBuffer } from '../../../protocol/bytes.js';
import { NOOP_MAGIC, type RaftEntry, type Role } from '../../../raft/core/index.js';
import { LeaderTransferringError, NotLeaderError, ProposalTimeoutError, RaftNodeBusyError, TermChangedError } from '../../../raft/node/errors.js';
import { RaftNode, type RaftNodeOptions, type RoleChange } from '../../../raft/node/RaftNode.js';
import type { RaftTiming } from '../../../raft/node/RaftTiming.js';
import { RangeQueue, type IndexRange } from '../../../raft/node/RangeQueue.js';
import type { PeerAddress } from '../../../raft/transport/index.js';
import { IndexStore } from '../../../storage/index/IndexStore.js';
import { dispatchFromMessageRecord, type DispatchOptions, type DispatchRequest } from '../../../storage/index/DispatchRequest.js';
import type { MetadataDecoder } from '../../../storage/LogIndexer.js';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import type { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import type { FlushDiskType } from '../../../storage/log/WorkerLogWriter.js';
import { AppendPlan } from './AppendPlan.js';
import { CommitApplier, DEFAULT_APPLY_COALESCE_MS, type DecodedEntry } from './CommitApplier.js';
import type { AppendOptions, AppendRecord, AppendResult, AppliedListener, CommitLog, CommitLogStats, IndexReader, WriteHold } from './CommitLog.js';
import { CommitLogBusyError, CommitLogError, CommitLogStorageError, DiskFullError, NotWritableError } from './CommitLogError.js';
import { CommitLogReads } from './logReads.js';
import { LogRetentionSource } from '../../../storage/LogRetention.js';
import type { SegmentSource } from '../../../storage/retention/DiskSpace.js';
import type { DiskGuard, RetainFloor } from '../../../storage/retention/RetentionPolicy.js';
import { QueueOffsetAssigner } from './QueueOffsetAssigner.js';
import type { InstalledCopy } from '../../../raft/node/SegmentCopy.js';
import { snapshotDispatches, takeMetadataSnapshot, type MetadataDispatch } from './metadataSnapshot.js';

/** What the broker hears about this node's part in the group. */
export interface CommitLogRole {
  /** leader: takes writes (its no-op applied); follower/candidate: does not */
  role: 'leader' | 'follower' | 'candidate';
  term: number;
  leaderId: string | null;
}

export interface RaftCommitLogOptions {
  group: string;
  selfId: string;
  peers: string | ReadonlyMap<string, PeerAddress>;
  /** storePathRootDir: the log is <storeDir>/dledger-<selfId> */
  storeDir: string;
  indexDir: string;
  flushDiskType?: FlushDiskType;
  timing?: Partial<RaftTiming>;
  preferredLeaderIds?: readonly string[];
  decodeMetadata?: MetadataDecoder;
  dispatchOptions?: DispatchOptions;
  /** proposals waiting for their commit, at most (DLedger maxPendingRequestsNum) */
  maxPendingRequestsNum?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** told on every change of the broker-visible role, in order */
  onRole?: (r: CommitLogRole) => void;
  /**
   * Who writes the log: 'main' (this thread, page-cache writes; the background fsync runs in the
   * thread pool) or 'worker' (the writer thread). Default: 'main' for ASYNC_FLUSH, where it
   * measured 0.4 ms propose-to-commit against 1.4-2.5 ms for the thread hops, and 'worker' for
   * SYNC_FLUSH, whose fsyncs must not block the event loop.
   */
  logWriter?: 'main' | 'worker';
  /** the retention service's guard; appends are refused while the disk is full */
  diskGuard?: () => DiskGuard;
  /** extra RaftNode options (tests, benches) */
  node?: Partial<RaftNodeOptions>;
  /** how long a few committed entries wait to share an index write (CommitApplier coalesceMs; default 1) */
  applyCoalesceMs?: number;
  /** holds ordinary writes while it gives a reason (a classic import under way) */
  writeHold?: WriteHold;
  /** this node has data outside the Raft log (a classic commit log to import): it campaigns without the fresh-start wait */
  hasOutsideData?: boolean;
}

/** Entries whose planned dispatches are kept for apply, at most (beyond that, apply decodes them). */
const MAX_OWN_DECODED = 65536;

/** A proposal's entries as the leader decoded them: entry `first + k` is `decoded[k]`. */
interface OwnDecoded extends IndexRange {
  term: number;
  decoded: readonly DecodedEntry[];
}

const TRACE = process.env.RAFTMQ_TRACE_COMMIT === '1';
const traced: number[] = [];
let lastCounters = { readies: 0, persistWaits: 0, persistWaitMicros: 0 };
function traceCommit(ms: number, c: { readies: number; persistWaits: number; persistWaitMicros: number }): void {
  traced.push(ms);
  if (traced.length >= 500) {
    traced.sort((a, b) => a - b);
    const waits = c.persistWaits - lastCounters.persistWaits;
    const avgWait = waits > 0 ? (c.persistWaitMicros - lastCounters.persistWaitMicros) / waits : 0;
    process.stderr.write(
      `propose->commit p50 ${traced[250]!.toFixed(3)} ms p99 ${traced[495]!.toFixed(3)} ms; readies per commit ${((c.readies - lastCounters.readies) / 500).toFixed(1)}, leader persist wait avg ${avgWait.toFixed(0)} us\n`,
    );
    lastCounters = { readies: c.readies, persistWaits: c.persistWaits, persistWaitMicros: c.persistWaitMicros };
    traced.length = 0;
  }
}

/** Refusals of the Raft layer as the codes Java's DLedger broker answers (spec dledger.md §2.6). */
function mapProposeError(e: Error): CommitLogError {
  if (e instanceof NotLeaderError) return new NotWritableError(`[PC_SYNCHRONIZED]broker busy: not the leader (${e.message})`, { cause: e });
  if (e instanceof LeaderTransferringError) return new CommitLogBusyError('leaderTransfer', `[PC_SYNCHRONIZED]broker busy: ${e.message}`, { cause: e });
  if (e instanceof RaftNodeBusyError) return new CommitLogBusyError(e.limit, `[PC_SYNCHRONIZED]broker busy: ${e.message}`, { cause: e });
  if (e instanceof ProposalTimeoutError) return new CommitLogStorageError(`in-sync replicas not enough: ${e.message}`, { cause: e });
  if (e instanceof TermChangedError) return new CommitLogStorageError(`UNKNOWN_ERROR: ${e.message}`, { cause: e });
  if (e instanceof CommitLogError) return e;
  return new CommitLogStorageError(e.message, { cause: e });
}

export class RaftCommitLog extends CommitLogReads implements CommitLog {
  private node!: RaftNode;
  private readonly assigner: QueueOffsetAssigner;
  private readonly applier: CommitApplier;
  private readonly now: () => number;
  private lastStoreTimestamp = 0;
  /** the term whose no-op this node applied as leader: writes are taken in that term only */
  private readyTerm = -1;
  private brokerRole: CommitLogRole = { role: 'candidate', term: -1, leaderId: null };
  private closing: Promise<void> | null = null;
  private failure: Error | null = null;
  private pending = 0;
  private readonly resetListeners: Array<() => Promise<void>> = [];
  private readonly handOverListeners: Array<() => Promise<void>> = [];
  /** What this leader decoded when it planned its proposals, one range per proposal, until applied. */
  private readonly own = new RangeQueue<OwnDecoded>();

  private constructor(
    indexStore: IndexStore,
    private readonly opts: RaftCommitLogOptions,
  ) {
    super(indexStore);
    this.onWarmerOff = opts.log;
    this.now = opts.now ?? Date.now;
    this.assigner = new QueueOffsetAssigner(indexStore);
    this.applier = new CommitApplier(indexStore, {
      coalesceMs: opts.applyCoalesceMs ?? DEFAULT_APPLY_COALESCE_MS,
      log: opts.log,
      onFailure: (e) => (this.failure = e),
    });
    this.lastStoreTimestamp = indexStore.lastIndexed.storeTimestamp;
  }

  static async open(opts: RaftCommitLogOptions): Promise<RaftCommitLog> {
    const index = await IndexStore.open(opts.indexDir);
    const cl = new RaftCommitLog(index, opts);
    try {
      cl.node = await RaftNode.start({
        logWriter: opts.logWriter ?? ((opts.flushDiskType ?? 'ASYNC_FLUSH') === 'ASYNC_FLUSH' ? 'main' : 'worker'),
        ...opts.node,
        group: opts.group,
        selfId: opts.selfId,
        peers: opts.peers,
        storeDir: opts.storeDir,
        flushDiskType: opts.flushDiskType,
        timing: opts.timing,
        appliedIndex: index.applied.index,
        maxPendingRequestsNum: opts.maxPendingRequestsNum,
        // an empty node lets a node with data (an upgraded store) win the first election
        core: { freshStartElectionRounds: opts.hasOutsideData ? 0 : 3, ...opts.node?.core, ...(opts.preferredLeaderIds ? { preferredLeaderIds: opts.preferredLeaderIds } : {}) },
        onApply: (entries) => cl.apply(entries),
        takeSnapshot: () => takeMetadataSnapshot(index),
        onInstall: (c) => cl.install(c),
        onRoleChange: (c) => cl.roleChanged(c),
        beforePreferredTransfer: (target) => {
          opts.log?.(`handing over to preferred leader ${target}`);
          return cl.handingOver(target);
        },
        log: opts.log,
      });
    } catch (e) {
      await index.close().catch(() => undefined);
      throw e;
    }
    return cl;
  }

  get raft(): RaftNode {
    return this.node;
  }

  get role(): CommitLogRole {
    return this.brokerRole;
  }

  get isWritable(): boolean {
    return this.takesWrites && this.opts.writeHold?.() === undefined;
  }

  /** leader, open, not failed: writes are taken, or only the holder's while a write hold holds */
  get takesWrites(): boolean {
    return this.closing === null && this.failure === null && this.brokerRole.role === 'leader';
  }

  get appliedIndex(): number {
    return this.applier.appliedIndex;
  }

  get index(): IndexReader {
    return this.indexStore;
  }

  append(records: readonly AppendRecord[], options?: AppendOptions): Promise<AppendResult> {
    if (!this.takesWrites) {
      const leader = this.brokerRole.leaderId;
      return Promise.reject(
        this.closing !== null
          ? new NotWritableError('commit log is closing')
          : this.failure !== null
            ? new CommitLogStorageError(`commit log stopped after a failure: ${this.failure.message}`)
            : new CommitLogBusyError('notLeader', `[REJECTREQUEST]system busy: this node is not the leader${leader ? ` (the leader is ${leader})` : ''}`),
      );
    }
    const held = options?.pastHold === true ? undefined : this.opts.writeHold?.();
    if (held !== undefined) return Promise.reject(new CommitLogBusyError('writeHold', `[REJECTREQUEST]system busy: ${held}`));
    if (records.length === 0) return Promise.resolve({ firstIndex: -1, lastIndex: -1, records: [] });
    const guard = this.opts.diskGuard?.();
    if (guard !== undefined && !guard.writable) return Promise.reject(new DiskFullError(guard.reason ?? 'the disk is full'));
    let plan: AppendPlan;
    const storage = this.node.storage;
    const term = this.brokerRole.term;
    const ts = Math.max(this.now(), this.lastStoreTimestamp);
    try {
      plan = new AppendPlan(records, {
        assigner: this.assigner,
        limits: { maxEntrySize: storage.maxEntrySize, maxBatchEntries: storage.maxBatchEntries, maxBatchBytes: storage.maxBatchBytes },
        term: this.brokerRole.term,
        storeTimestamp: ts,
        decodeMetadata: this.opts.decodeMetadata,
        dispatchOptions: this.opts.dispatchOptions,
      });
      // check every record now: once proposed, a record the index cannot take would stop apply on every replica
      for (let i = 0; i < records.length; i++) plan.beforeWrite(i, 0, 0);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    // checked and patched above; at the write only the physical offset (pos + 48) is new
    // the plan's entries have one body each (a record or a metadata body), never gathered parts
    const r = this.node.proposeEntries(plan.entries as ReadonlyArray<{ magic: number; body: Buffer }>, (i, index, pos) => {
      plan.placed(i, index, pos);
      // the first entry's write is where the proposal's indexes are known
      if (i === 0 && this.own.entries + plan.decoded.length <= MAX_OWN_DECODED) {
        this.own.push({ first: index, last: index + plan.decoded.length - 1, term, decoded: plan.decoded });
      }
    });
    if (!r.accepted) return Promise.reject(mapProposeError(r.error));
    plan.accepted();
    options?.onAccepted?.();
    this.lastStoreTimestamp = ts;
    this.pending++;
    const t0 = TRACE ? performance.now() : 0;
    return r.committed.then(
      (entries) => {
        if (TRACE) traceCommit(performance.now() - t0, this.node.counters);
        this.pending--;
        return { firstIndex: entries.firstIndex, lastIndex: entries.lastIndex, records: plan.results };
      },
      (e: Error) => {
        this.pending--;
        throw mapProposeError(e);
      },
    );
  }

  /** Committed entries, in order, from the node: decoded and applied like the local log's. */
  private apply(entries: readonly RaftEntry[]): Promise<void> {
    for (const e of entries) {
      let dispatches: readonly DispatchRequest[] = [];
      const own = this.own.size > 0 ? this.own.find(e.index) : undefined;
      if (own !== undefined && own.term === e.term) {
        // this leader's own proposal (same index and term: the same entry), decoded when it was planned
        dispatches = own.decoded[e.index - own.first]!.dispatches;
      } else if (e.magic === EntryMagic.MESSAGE) {
        dispatches = [dispatchFromMessageRecord(e.index, e.pos, asBuffer(e.body), this.opts.dispatchOptions)];
      } else if (e.magic >= EntryMagic.METADATA_MIN && this.opts.decodeMetadata) {
        dispatches = this.opts.decodeMetadata({ magic: e.magic, index: e.index, term: e.term, pos: e.pos, body: asBuffer(e.body) });
      }
      const d: DecodedEntry = { index: e.index, pos: e.pos, dispatches };
      this.applier.add(d);
    }
    const last = entries[entries.length - 1];
    if (!last) return Promise.resolve();
    this.applier.commit(last.index);
    return this.applier.drained().then(() => this.afterApply(entries));
  }

  /**
   * A segment copy replaced the log (or the log starts past the index at open): the index is
   * reset to the leader's metadata snapshot, applied up to the entry before the new log start.
   */
  private async install(c: InstalledCopy): Promise<void> {
    const at = { index: c.firstIndex - 1, pos: c.startPos };
    let metadata: MetadataDispatch[] = [];
    if (c.snapshot) metadata = snapshotDispatches(c.snapshot, at);
    else {
      this.opts.log?.(
        `the log starts at entry ${c.firstIndex} but the index had applied only up to ${this.indexStore.applied.index}, and no snapshot is kept: ` +
          `topics, groups and offsets written before entry ${c.firstIndex} are not known to this node`,
      );
    }
    await this.applier.drained();
    this.own.clear();
    await this.indexStore.resetTo(at, metadata);
    this.applier.resetTo(at.index);
    this.lastStoreTimestamp = 0;
    this.opts.log?.(`index reset to entry ${at.index} with ${metadata.length} metadata records from the leader's snapshot`);
    for (const l of this.resetListeners) await l();
  }

  onReset(listener: () => Promise<void>): void {
    this.resetListeners.push(listener);
  }

  /**
   * Runs before this leader hands over leadership, whether the operator asked (handOver) or
   * the node hands over to a preferred leader by itself: what must reach the log before writes
   * pause (the broker's consumer offsets reach it every 100 ms; a transfer stops this node's
   * writes at once and by the next flush it is a follower whose log takes nothing).
   */
  beforeHandOver(listener: () => Promise<void>): void {
    this.handOverListeners.push(listener);
  }

  /**
   * Hands leadership to `target` (mqadmin transferLeadership, the HTTP admin API) after the
   * beforeHandOver listeners; resolves once the target leads (RaftNode.transferLeadership).
   */
  async handOver(target: string): Promise<void> {
    await this.handingOver(target);
    await this.node.transferLeadership(target);
  }

  /** The beforeHandOver listeners; one that fails is logged and the transfer goes on. */
  private async handingOver(target: string): Promise<void> {
    for (const l of this.handOverListeners) {
      try {
        await l();
      } catch (e) {
        this.opts.log?.(`before the transfer to ${target}, a hand-over step failed (transferring anyway): ${(e as Error).message}`);
      }
    }
  }

  /** A leader whose own no-op was just applied starts taking writes. */
  private afterApply(entries: readonly RaftEntry[]): void {
    const st = this.node.status();
    if (st.role !== 'leader' || this.readyTerm === st.term) return;
    if (!entries.some((e) => e.magic === NOOP_MAGIC && e.term === st.term)) return;
    this.readyTerm = st.term;
    this.assigner.reset();
    this.setRole({ role: 'leader', term: st.term, leaderId: this.opts.selfId });
  }

  private roleChanged(c: RoleChange): void {
    const role: Role = c.role;
    if (role === 'leader') {
      // not yet: writes start once the no-op of this term is applied (afterApply)
      if (this.brokerRole.role === 'leader' && this.brokerRole.term !== c.term) this.setRole({ role: 'candidate', term: c.term, leaderId: null });
      return;
    }
    this.readyTerm = -1;
    this.setRole({ role: role === 'follower' ? 'follower' : 'candidate', term: c.term, leaderId: c.leaderId });
  }

  private setRole(r: CommitLogRole): void {
    const prev = this.brokerRole;
    if (prev.role === r.role && prev.term === r.term && prev.leaderId === r.leaderId) return;
    this.brokerRole = r;
    this.opts.onRole?.(r);
  }

  onApplied(listener: AppliedListener): () => void {
    return this.applier.onApplied(listener);
  }

  get storage(): SegmentedLog {
    return this.node.storage;
  }

  get logDir(): string {
    return this.node.dir;
  }

  /**
   * Retention keeps what a follower that is still in touch (recently active) needs; a follower
   * that went silent holds nothing back and, once behind the log start, is told so by the core.
   */
  retentionSource(): SegmentSource {
    return new LogRetentionSource(() => this.node.storage, this.indexStore, {
      log: this.opts.log,
      holdBack: () => {
        const floors: RetainFloor[] = [];
        const storage = this.node.storage;
        for (const p of this.node.peerProgress()) {
          if (!p.recentActive || p.matchIndex >= storage.lastIndex) continue;
          const next = Math.max(p.matchIndex + 1, storage.firstIndex);
          floors.push({ position: storage.entryAt(next).pos, holder: `follower ${p.id} (next entry ${next})` });
        }
        return floors;
      },
    });
  }

  stats(): CommitLogStats {
    const st = this.node.status();
    return {
      pendingAppends: st.pendingProposals,
      maxPendingAppends: this.opts.maxPendingRequestsNum ?? 10_000,
      lastIndex: st.lastIndex,
      committedIndex: st.commitIndex,
      appliedIndex: this.applier.appliedIndex,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.node.close();
      await this.applier.drained();
      await this.indexStore.close();
    })();
    return this.closing;
  }
}
