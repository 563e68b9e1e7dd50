// Drives a RaftCore with real timers, the SegmentedLog (DLedger's layout under
// <storeDir>/dledger-<selfId>), the fsynced currterm file and the TCP transport.
//
// The Ready loop, one Ready at a time: term and vote fsynced, then the log truncated and
// appended (written to the OS, or fsynced in SYNC_FLUSH), then messages sent, committed entries
// handed to the apply queue, advance(). Messages and proposals that arrive meanwhile are stepped
// into the core and ride in the next Ready, so disk writes group by themselves.
//
// propose() resolves once its entries are committed (with index and log position), or fails:
// NotLeaderError, TermChangedError, ProposalTimeoutError, RaftNodeBusyError. Committed entries
// (no-ops included: filter by magic) reach onApply in index order; a promise returned by onApply
// holds back later entries, and a full apply queue holds back the Ready loop (backpressure).
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ENTRY_OVERHEAD,
  RaftCore,
  SeededRandom,
  type PendingEntry,
  type RaftEntry,
  type RaftLimits,
  type RaftMessage,
  type RandomSource,
  type RaftCoreCounters,
  type Ready,
  type Role,
} from '../core/index.js';
import { EntryMagic } from '../../storage/log/entryCodec.js';
import { SegmentedLog, type AppendEntry } from '../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../storage/log/SyncLogWriter.js';
import { syncAndTrim } from '../../storage/log/backgroundSync.js';
import { cacheWindowFor, type CacheWindow } from '../../storage/log/pageCache.js';
import { readCurrTerm, writeCheckpoint, writeCurrTerm } from '../../storage/log/termFiles.js';
import { WorkerLogWriter, type FlushDiskType } from '../../storage/log/WorkerLogWriter.js';
import type { LogWriter } from '../../storage/log/LogWriter.js';
import { RaftTransport, formatAddress, parseDLegerPeers, type PeerAddress, type RaftTransportOptions, type TransportStats } from '../transport/index.js';
import { toCoreMessage } from '../transport/messageTypes.js';
import type { RaftWireMessage, WireCopyChunk } from '../../protocol/raft/index.js';
import { asBuffer } from '../../protocol/bytes.js';
import { CopyAbortedError, CopyReceiver, CopySender, DEFAULT_COPY_IDLE_MS, finishPendingCopy, readInstalledCopy, type AppSnapshot, type CopyResult, type InstalledCopy } from './SegmentCopy.js';
import { LeaderTransferRefusedError, LeaderTransferringError, NotLeaderError, ProposalTimeoutError, RaftNodeBusyError, RaftNodeClosedError, TermChangedError } from './errors.js';
import { NodeMetrics } from './NodeMetrics.js';
import { resolveTiming, type RaftTiming } from './RaftTiming.js';
import { ReplicationLatency } from './ReplicationLatency.js';
import { RangeQueue, type IndexRange } from './RangeQueue.js';
import { StoredLogView } from './StoredLogView.js';

export const MESSAGE_MAGIC = 1;

export interface RoleChange {
  role: Role;
  previousRole: Role;
  term: number;
  leaderId: string | null;
}

export interface ProposedEntry {
  index: number;
  /** the entry's byte position in the log (a message's physical offset is pos + 48) */
  pos: number;
}

export type TransportLimits = Pick<
  RaftTransportOptions,
  'maxQueueMessages' | 'maxQueueBytes' | 'maxSocketBufferBytes' | 'reconnectMinMs' | 'reconnectMaxMs' | 'connectTimeoutMs' | 'maxFrameBytes'
>;

export interface RaftNodeOptions {
  /** dLegerGroup; peers of another group are refused */
  group?: string;
  /** dLegerSelfId */
  selfId: string;
  /** dLegerPeers text or id -> address, this node included */
  peers: string | ReadonlyMap<string, PeerAddress>;
  /** storePathRootDir; the log is `<storeDir>/dledger-<selfId>` */
  storeDir: string;
  /** ASYNC_FLUSH (default): an entry counts as persisted once written to the OS; SYNC_FLUSH: once fsynced */
  flushDiskType?: FlushDiskType;
  timing?: Partial<RaftTiming>;
  /** last index the state machine applied before this start (its checkpoint); default -1 */
  appliedIndex?: number;
  onApply: (entries: readonly RaftEntry[]) => void | Promise<void>;
  onRoleChange?: (c: RoleChange) => void;
  /**
   * preferredLeaderIds: called when this leader is about to hand over to a preferred peer (the
   * core announces it one check period ahead); the node starts the transfer once it settles (a
   * failure is logged and the transfer goes on). Without it the core transfers at once.
   */
  beforePreferredTransfer?: (target: string) => Promise<void>;
  /**
   * Segment copy, leader side: the application's state to send with the log to a follower
   * that is behind this node's first index (for the broker: its metadata). Without it the
   * follower gets the log only.
   */
  takeSnapshot?: () => Promise<AppSnapshot>;
  /**
   * Segment copy, follower side (and at start, when the log begins past the state machine's
   * appliedIndex): the log now starts at `firstIndex`; make the state count as applied up to
   * firstIndex - 1 from the snapshot, before anything later is applied.
   */
  onInstall?: (c: InstalledCopy) => Promise<void>;
  /** a segment copy with no progress for this long is abandoned (and retried) */
  copyIdleMs?: number;
  /** entries proposed and not yet committed, at most (DLedger maxPendingRequestsNum) */
  maxPendingRequestsNum?: number;
  /** bytes (48-byte headers included) proposed and not yet committed, at most */
  maxPendingBytes?: number;
  /** committed entries waiting for onApply, at most, before the Ready loop waits */
  maxApplyQueueEntries?: number;
  /** recent entries kept in memory for replication and apply */
  maxCachedEntries?: number;
  maxCachedBytes?: number;
  /** applied entries the cache keeps below the newest applied one (the rest leave it, young) */
  cacheKeepApplied?: number;
  core?: Partial<RaftLimits>;
  transport?: TransportLimits;
  /** 'worker' (default): a writer thread does the disk I/O; 'main': writes on this thread (no thread hop, fsyncs block) */
  logWriter?: 'worker' | 'main';
  /** the writer thread polls this long for more work before it sleeps */
  writerSpinMicros?: number;
  dataSegmentSize?: number;
  /** the newest bytes of the data log kept in the page cache; older fsynced pages are dropped (0 or unset: the kernel decides) */
  cacheWindow?: number;
  /** listen here instead of this node's dLegerPeers address */
  listen?: PeerAddress;
  random?: RandomSource;
  log?: (line: string) => void;
}

export interface PeerProgress {
  id: string;
  /** highest index known to be on that member (-1: none yet) */
  matchIndex: number;
  nextIndex: number;
  /** entries the member is behind this leader's last index */
  lag: number;
  state: 'probe' | 'replicate';
  /** heard from within the current or the last closed check-quorum round (one to two election timeouts) */
  recentActive: boolean;
}

export interface RaftNodeStatus {
  selfId: string;
  role: Role;
  term: number;
  leaderId: string | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  pendingProposals: number;
  applyQueueEntries: number;
}

interface PendingProposal extends IndexRange {
  term: number;
  bytes: number;
  deadline: number;
  /** propose() answers with each entry's position; proposeEntries() with the range only */
  positions: boolean;
  hook: WriteHookRange | undefined;
  resolve: (r: CommittedRange) => void;
  reject: (e: Error) => void;
}

/** The proposer's write hook for a range of entries (one proposal), in index order. */
interface WriteHookRange extends IndexRange {
  term: number;
  hook: (i: number, index: number, pos: number) => void;
  /** the proposal failed: its entries, if ever written, are not this proposer's */
  dead: boolean;
}

/** The entries of one proposal, committed. */
export interface CommittedRange {
  firstIndex: number;
  lastIndex: number;
  /** each entry's index and position; propose() only (proposeEntries() leaves it null) */
  entries: ProposedEntry[] | null;
}

/** Entries one onApply call gets at most when it takes several queued batches together. */
const MAX_APPLY_CALL_ENTRIES = 4096;

/** A tick timer firing this close to its due time counts as on time (libuv's clock has 1 ms steps). */
const TIMER_SLACK_MS = 1;

export const DEFAULT_NODE_LIMITS = Object.freeze({
  maxPendingRequestsNum: 10000,
  maxPendingBytes: 256 * 1024 * 1024,
  maxApplyQueueEntries: 65536,
  maxCachedEntries: 65536,
  maxCachedBytes: 64 * 1024 * 1024,
  cacheKeepApplied: 256,
});

export class RaftNode extends EventEmitter<{ roleChange: [RoleChange]; applied: [number]; fatal: [Error] }> {
  readonly selfId: string;
  readonly group: string;
  readonly dir: string;
  readonly timing: RaftTiming;
  private readonly peers: ReadonlyMap<string, PeerAddress>;
  private transport!: RaftTransport;
  /** proposals not yet settled, oldest first; `entries` counts their log entries */
  private readonly pending = new RangeQueue<PendingProposal>();
  private pendingBytes = 0;
  private readonly applyQueue: RaftEntry[][] = [];
  private applyQueued = 0;
  private applying = false;
  private _applied: number;
  private applySpaceWaiter: (() => void) | null = null;
  private readyScheduled = false;
  private looping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private role: Role;
  private term: number;
  private leaderId: string | null;
  /** the core's last announced hand-over to a preferred peer, as observePreferred saw it */
  private preferredAnnounced: string | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** the tick timer (armTick), when it is due (performance.now() ms), and when the core's last tick was due */
  private tickTimer: NodeJS.Timeout | null = null;
  private tickTimerAt = Infinity;
  private lastTickAt = 0;
  private ticking = false;
  private readonly onTickBound = (): void => this.onTick();
  private checkpointing = false;
  private syncing = false;
  private readonly cacheWindow: CacheWindow | null;
  /** when a message from each peer last arrived (performance.now()) */
  private readonly lastHeard = new Map<string, number>();
  /** the background timer fsyncs the newest files (the main-thread writer has no flusher of its own) */
  private mainWriterSync = false;
  private readonly syncFlush: boolean;
  private lastCheckpoint = '';
  private closed = false;
  private failure: Error | undefined;
  private readonly logLine: (line: string) => void;
  /** messages the core does not handle yet (timeoutNow before leadership transfer lands) */
  droppedMessages = 0;
  /** per follower: AppendEntries sent -> acknowledged (ms), for dledger_replicate_entry_latency */
  readonly replication = new ReplicationLatency();
  /** append batches and apply tasks, for DLedger's histograms */
  readonly metrics = new NodeMetrics();
  /** counters for metrics and bench/raft */
  readonly counters = { readies: 0, entriesPersisted: 0, persistWaits: 0, persistWaitMicros: 0, messagesSent: 0, entriesApplied: 0, proposals: 0, ticks: 0, tickWakeups: 0 };

  /** segment copies this leader is sending, by follower */
  private readonly copySenders = new Map<string, CopySender>();
  /** followers behind this leader's first index, with when a copy to them was last started */
  private readonly copyWanted = new Map<string, number>();
  private copySeq = 0;
  /** the copy this follower is receiving */
  private copyReceiver: CopyReceiver | null = null;
  private copyChain: Promise<void> = Promise.resolve();
  /** the log is being replaced by a copy: inputs are dropped until it is done */
  private installing = false;
  /** segment copies sent and installed (metrics, tests) */
  readonly copyStats = { sent: 0, sendFailures: 0, installed: 0, receiveFailures: 0, lastSent: null as CopyResult | null };

  private constructor(
    private readonly o: RaftNodeOptions,
    private core: RaftCore,
    private log: SegmentedLog,
    private view: StoredLogView,
    timing: RaftTiming,
    peers: ReadonlyMap<string, PeerAddress>,
    dir: string,
  ) {
    super();
    this.selfId = o.selfId;
    this.group = o.group ?? 'default';
    this.dir = dir;
    this.timing = timing;
    this.peers = peers;
    this._applied = core.appliedIndex;
    this.role = core.role;
    this.term = core.term;
    this.leaderId = core.leaderId;
    this.syncFlush = o.flushDiskType === 'SYNC_FLUSH';
    this.logLine = o.log ?? ((l) => process.stderr.write(`raft/node ${o.selfId} ${l}\n`));
    this.cacheWindow = cacheWindowFor(o.cacheWindow, this.logLine);
    if (o.onRoleChange) this.on('roleChange', o.onRoleChange);
  }

  static async start(o: RaftNodeOptions): Promise<RaftNode> {
    const peers = typeof o.peers === 'string' ? parseDLegerPeers(o.peers) : o.peers;
    if (!peers.has(o.selfId)) throw new Error(`dLegerSelfId ${o.selfId} is not among dLegerPeers ${[...peers.keys()].join(',')}`);
    const { timing } = resolveTiming(o.timing);
    const dir = path.join(o.storeDir, `dledger-${o.selfId}`);
    fs.mkdirSync(dir, { recursive: true });
    const logLine = o.log ?? ((l: string) => process.stderr.write(`raft/node ${o.selfId} ${l}\n`));
    await finishPendingCopy(dir, logLine);
    const opened = await RaftNode.openState(o, peers, dir, o.appliedIndex ?? -1);
    let node: RaftNode | undefined;
    try {
      node = new RaftNode(o, opened.core, opened.log, opened.view, timing, peers, dir);
      node.transport = await RaftTransport.start({
        ...o.transport,
        group: node.group,
        selfId: o.selfId,
        peers,
        listen: o.listen,
        onMessage: (m) => node!.onWire(m),
        log: o.log,
      });
      node.startTimers(opened.backgroundSync);
      return node;
    } catch (e) {
      await opened.log.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Opens the log and builds a core on it (at start, and again after a segment copy). When the
   * log starts past what the application applied (a copy, or retention after a lost index),
   * the application takes in the snapshot kept beside the log first.
   */
  private static async openState(
    o: RaftNodeOptions,
    peers: ReadonlyMap<string, PeerAddress>,
    dir: string,
    appliedIndex: number,
  ): Promise<{ core: RaftCore; log: SegmentedLog; view: StoredLogView; backgroundSync: boolean }> {
    const { timing, electionTicks, heartbeatTicks } = resolveTiming(o.timing);
    const flushDiskType = o.flushDiskType ?? 'ASYNC_FLUSH';
    const writer: LogWriter =
      o.logWriter === 'main'
        ? // coalescing: a Ready's appends are written at writeNow(), after a leader's appends went out
          new SyncLogWriter({ coalesce: true })
        : new WorkerLogWriter({ flushDiskType, flushIntervalCommitLog: timing.flushIntervalCommitLog, spinMicros: o.writerSpinMicros ?? 0 });
    const log = await SegmentedLog.open({ dir, writer, dataSegmentSize: o.dataSegmentSize, log: o.log });
    try {
      const hard = await readCurrTerm(dir);
      const view = new StoredLogView(log, {
        maxCachedEntries: o.maxCachedEntries ?? DEFAULT_NODE_LIMITS.maxCachedEntries,
        maxCachedBytes: o.maxCachedBytes ?? DEFAULT_NODE_LIMITS.maxCachedBytes,
        keepApplied: o.cacheKeepApplied ?? DEFAULT_NODE_LIMITS.cacheKeepApplied,
      });
      if (appliedIndex < log.firstIndex - 1 && o.onInstall && log.lastIndex >= log.firstIndex) {
        await o.onInstall(await readInstalledCopy(dir, log.firstIndex, log.entryAt(log.firstIndex).pos));
      }
      const applied = Math.max(appliedIndex, log.firstIndex - 1);
      if (applied > log.lastIndex) throw new Error(`appliedIndex ${applied} is past the log's last index ${log.lastIndex}`);
      const core = new RaftCore({
        ...(o.beforePreferredTransfer ? { announcePreferredTransfer: true } : {}),
        ...o.core,
        id: o.selfId,
        peers: [...peers.keys()],
        log: view,
        random: o.random ?? new SeededRandom((Math.random() * 0x7fffffff) | 0),
        hardState: hard ? { term: hard.currTerm, votedFor: hard.voteLeader } : undefined,
        applied,
        electionTicks,
        heartbeatTicks,
      });
      return { core, log, view, backgroundSync: o.logWriter === 'main' && flushDiskType === 'ASYNC_FLUSH' };
    } catch (e) {
      await log.close().catch(() => undefined);
      throw e;
    }
  }

  // ---- public API ----------------------------------------------------------------------

  /**
   * Proposes entries (one per body) as one batch. Resolves once all are committed, with each
   * entry's index and log position.
   */
  propose(bodies: readonly Uint8Array[], magic: number = MESSAGE_MAGIC): Promise<ProposedEntry[]> {
    const r = this.proposeEntries(
      bodies.map((body) => ({ magic, body })),
      undefined,
      true,
    );
    return r.accepted ? r.committed.then((c) => c.entries ?? []) : Promise.reject(r.error);
  }

  /**
   * Proposes entries of any kind as one batch and says at once whether the core took them.
   * `beforeWrite(i, index, pos)` runs on the leader just before entry i is written to the local
   * log, once its position is known and before it is sent to a follower: the broker patches a
   * message's physical offset (pos + 48) into the record there, so every replica stores the same bytes.
   */
  proposeEntries(
    proposals: ReadonlyArray<{ magic: number; body: Uint8Array }>,
    beforeWrite?: (i: number, index: number, pos: number) => void,
    positions = false,
  ): { accepted: true; committed: Promise<CommittedRange> } | { accepted: false; error: Error } {
    if (this.closed) return { accepted: false, error: this.failure ?? new RaftNodeClosedError('raft node is closed') };
    if (proposals.length === 0) return { accepted: true, committed: Promise.resolve({ firstIndex: -1, lastIndex: -1, entries: [] }) };
    // a bad entry must be refused here: the log refuses it later only by stopping the node
    let bytes = 0;
    for (const p of proposals) {
      if (!(p.magic === MESSAGE_MAGIC || (p.magic >= EntryMagic.METADATA_MIN && p.magic <= EntryMagic.METADATA_MAX))) {
        return { accepted: false, error: new RangeError(`magic ${p.magic} is not a message (1) or metadata (16..65535) entry kind`) };
      }
      if (p.body.byteLength + ENTRY_OVERHEAD > this.log.maxEntrySize) {
        return { accepted: false, error: new RangeError(`an entry of ${p.body.byteLength} bytes exceeds the largest entry of ${this.log.maxEntrySize} bytes (header included)`) };
      }
      bytes += p.body.byteLength + ENTRY_OVERHEAD;
    }
    const max = this.o.maxPendingRequestsNum ?? DEFAULT_NODE_LIMITS.maxPendingRequestsNum;
    const maxBytes = this.o.maxPendingBytes ?? DEFAULT_NODE_LIMITS.maxPendingBytes;
    if (this.core.role === 'leader') {
      if (this.pending.entries + proposals.length > max) return { accepted: false, error: new RaftNodeBusyError('maxPendingRequestsNum', max) };
      if (this.pendingBytes + bytes > maxBytes) return { accepted: false, error: new RaftNodeBusyError('maxPendingBytes', maxBytes) };
    }
    this.catchUpTicks();
    const r = this.core.propose(proposals);
    if (!r.ok) {
      if (r.reason === 'NOT_LEADER') return { accepted: false, error: this.notLeader(r.leaderId) };
      if (r.reason === 'LEADER_TRANSFERRING') return { accepted: false, error: new LeaderTransferringError(r.transferee) };
      return { accepted: false, error: new RaftNodeBusyError(r.limit, r.value) };
    }
    let hook: WriteHookRange | undefined;
    if (beforeWrite) {
      hook = { first: r.firstIndex, last: r.lastIndex, term: r.term, hook: beforeWrite, dead: false };
      this.writeHooks.push(hook);
    }
    this.scheduleReady();
    this.armTick();
    this.counters.proposals++;
    const committed = new Promise<CommittedRange>((resolve, reject) => {
      this.pending.push({ first: r.firstIndex, last: r.lastIndex, term: r.term, bytes, deadline: Date.now() + this.timing.maxWaitAckTimeMs, positions, hook, resolve, reject });
      this.pendingBytes += bytes;
    });
    return { accepted: true, committed };
  }

  /** The log this node keeps (for reads: entries by position, the stored message records). */
  get storage(): SegmentedLog {
    return this.log;
  }

  // ---- observability hooks (server/http): peer progress, core counters, leadership transfer

  /** What the leader knows of each other member (empty on a follower or candidate). */
  peerProgress(): PeerProgress[] {
    if (this.core.role !== 'leader') return [];
    const last = this.core.lastIndex;
    const out: PeerProgress[] = [];
    for (const id of this.peers.keys()) {
      if (id === this.selfId) continue;
      const p = this.core.progressOf(id);
      if (!p) continue;
      out.push({ id, matchIndex: p.match, nextIndex: p.next, lag: Math.max(0, last - p.match), state: p.state, recentActive: p.inTouch });
    }
    return out;
  }

  /** Member ids, this node included, in dLegerPeers order. */
  get memberIds(): string[] {
    return [...this.peers.keys()];
  }

  get coreCounters(): Readonly<RaftCoreCounters> {
    return this.core.counters;
  }

  /**
   * Hands leadership to `targetId` (leader only): resolves once this node hears of the target
   * leading, rejects with LeaderTransferRefusedError when the core refuses or the transfer ends
   * otherwise (aborted, timed out).
   */
  transferLeadership(targetId: string, timeoutMs = this.timing.electionTimeoutMs * 3): Promise<void> {
    if (this.closed) return Promise.reject(new RaftNodeClosedError('raft node is closed'));
    this.catchUpTicks();
    const r = this.core.transferLeadership(targetId);
    this.armTick();
    if (!r.ok) {
      const why = r.reason === 'NOT_LEADER' ? `not the leader${r.leaderId ? ` (the leader is ${r.leaderId})` : ''}`
        : r.reason === 'TRANSFER_IN_PROGRESS' ? `a transfer to ${r.transferee} is under way`
        : r.reason === 'TARGET_TOO_FAR_BEHIND' ? `${r.peer} is ${r.lag} entries behind (limit ${r.limit})`
        : `${r.peer} ${r.reason === 'SELF' ? 'is this node' : 'is not a member'}`;
      return Promise.reject(new LeaderTransferRefusedError(r.reason, why));
    }
    this.scheduleReady();
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null): void => {
        clearInterval(check);
        clearTimeout(timer);
        this.off('roleChange', onRole);
        if (err) reject(err);
        else resolve();
      };
      const onRole = (c: RoleChange): void => {
        if (c.leaderId === targetId && c.role !== 'leader') done(null);
      };
      this.on('roleChange', onRole);
      const check = setInterval(() => {
        if (this.closed) done(new RaftNodeClosedError('raft node closed during a leadership transfer'));
        else if (this.core.role === 'leader' && this.core.transferee === null) done(new LeaderTransferRefusedError('ABORTED', `the transfer to ${targetId} was aborted`));
        else if (this.core.role !== 'leader' && this.core.leaderId === targetId) done(null);
      }, this.timing.tickIntervalMs);
      const timer = setTimeout(() => done(new LeaderTransferRefusedError('TIMEOUT', `${targetId} did not take over within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  status(): RaftNodeStatus {
    return {
      selfId: this.selfId,
      role: this.core.role,
      term: this.core.term,
      leaderId: this.core.leaderId,
      commitIndex: this.core.commitIndex,
      appliedIndex: this._applied,
      lastIndex: this.core.lastIndex,
      pendingProposals: this.pending.size,
      applyQueueEntries: this.applyQueued,
    };
  }

  /** `host:port` of a member's Raft port. */
  addressOf(id: string): string | null {
    const a = this.peers.get(id);
    return a ? formatAddress(a) : null;
  }

  get address(): PeerAddress {
    return this.transport.address;
  }

  transportStats(): TransportStats {
    return this.transport.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.tickTimer !== null) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    for (const c of this.copySenders.values()) c.abort('the node is closing');
    await this.copyChain.catch(() => undefined);
    await this.copyReceiver?.discard().catch(() => undefined);
    await this.transport.close();
    // a Ready loop waiting for apply space would wait forever: the apply queue stops with the node
    const w = this.applySpaceWaiter;
    this.applySpaceWaiter = null;
    w?.();
    await this.loopDone.catch(() => undefined);
    this.rejectAll(this.failure ?? new RaftNodeClosedError('raft node closed'));
    await this.writeCheckpoint().catch(() => undefined);
    await this.log.close().catch((e: Error) => this.logLine(`closing the log: ${e.message}`));
  }

  // ---- inputs --------------------------------------------------------------------------

  private onWire(m: RaftWireMessage): void {
    if (this.closed) return;
    this.lastHeard.set(m.from, performance.now());
    if (m.type === 'copyChunk') this.onCopyChunk(m);
    else if (m.type === 'copyAck') this.copySenders.get(m.from)?.onAck(m);
    else this.onMessage(toCoreMessage(m));
  }

  private onMessage(m: RaftMessage | null): void {
    if (this.closed || this.installing) return;
    if (m === null) {
      this.droppedMessages++;
      return;
    }
    if (m.type === 'appendResponse' && m.success) this.replication.acknowledged(m.from, m.index, performance.now());
    this.catchUpTicks();
    this.core.step(m);
    this.afterInput();
  }

  // ---- ticks ---------------------------------------------------------------------------
  // The core counts time in ticks, but most ticks only count: an idle follower acts once per
  // election timeout, an idle leader once per heartbeat. So instead of waking every tick, the
  // node sleeps until the core says the next tick can act (ticksUntilDue), and hands the core
  // the ticks that passed by the clock before every input, stopping short of the one that acts:
  // only the timer delivers that one (libuv runs due timers before I/O callbacks). Ticks beyond
  // the due one are dropped when the timer fires late (a blocked event loop), as an interval
  // timer drops them, so a leader that was paused does not count the pause against its
  // followers' liveness all at once.

  private onTick(): void {
    this.tickTimer = null;
    this.tickTimerAt = Infinity;
    if (this.closed) return;
    this.counters.tickWakeups++;
    if (!this.installing) {
      this.deliverTicks(this.core.ticksUntilDue(), TIMER_SLACK_MS, true);
      this.tickCopies(Date.now());
      this.expireProposals(Date.now());
      this.afterInput();
    } else this.lastTickAt = performance.now();
    this.armTick();
  }

  /**
   * Gives the core the ticks that passed by the clock, at most `max`. The timer drops the rest
   * (a late timer: the loop was blocked); an input leaves them for the timer, which comes next.
   */
  private deliverTicks(max: number, slackMs: number, dropRest: boolean): void {
    const now = performance.now();
    const tick = this.timing.tickIntervalMs;
    const elapsed = Math.floor((now - this.lastTickAt + slackMs) / tick);
    const n = Math.min(elapsed, max);
    for (let i = 0; i < n; i++) this.core.tick();
    this.counters.ticks += n;
    this.lastTickAt = dropRest && n < elapsed ? now : this.lastTickAt + n * tick;
  }

  /** Ticks up to (not including) the next one that acts, before an input is stepped. */
  private catchUpTicks(): void {
    this.deliverTicks(this.core.ticksUntilDue() - 1, 0, false);
  }

  /** Arms the tick timer for the next tick that can act, unless an earlier wake is armed. */
  private armTick(): void {
    if (this.closed || !this.ticking) return;
    let due = this.core.ticksUntilDue();
    // the node's own per-tick duties: proposal deadlines, segment copies
    if (this.pending.size > 0 || this.copySenders.size > 0 || this.copyReceiver !== null || this.copyWanted.size > 0 || this.installing) due = 1;
    const at = this.lastTickAt + due * this.timing.tickIntervalMs;
    if (this.tickTimer !== null) {
      if (this.tickTimerAt <= at) return; // it wakes first and arms again then
      clearTimeout(this.tickTimer);
    }
    this.tickTimerAt = at;
    this.tickTimer = setTimeout(this.onTickBound, Math.max(1, Math.ceil(at - performance.now())));
  }

  private afterInput(): void {
    this.observeRole();
    this.observePreferred();
    this.settleProposals();
    if (this.core.hasReady()) this.scheduleReady();
    this.armTick();
  }

  private startTimers(backgroundSync: boolean): void {
    this.ticking = true;
    this.lastTickAt = performance.now();
    this.armTick();
    this.timers.push(setInterval(() => void this.writeCheckpoint().catch((e: Error) => this.logLine(`checkpoint: ${e.message}`)), this.timing.checkPointInterval));
    this.mainWriterSync = backgroundSync;
    if (backgroundSync || this.cacheWindow) {
      // The main-thread writer has no background flusher of its own, and its flush() would block
      // this thread for the whole fsync: sync the recent files from the thread pool instead.
      // The same timer drops the page cache behind the cache window.
      this.timers.push(setInterval(() => void this.backgroundRound().catch((e: Error) => this.fail(e)), this.timing.flushIntervalCommitLog));
    }
  }

  // ---- the Ready loop ------------------------------------------------------------------

  private scheduleReady(): void {
    // a running loop looks at the core again when it ends (below)
    if (this.readyScheduled || this.looping || this.closed || this.installing) return;
    this.readyScheduled = true;
    // After the poll phase: every message that arrived in this turn is stepped before one Ready.
    setImmediate(() => {
      this.readyScheduled = false;
      if (this.looping || this.closed || this.installing) return;
      this.looping = true;
      this.loopDone = this.readyLoop().finally(() => {
        this.looping = false;
        // Something may have come after the loop's last look at the core: a proposal made in a
        // microtask once its last Ready settled (by whoever awaited a commit) found it running.
        if (this.core.hasReady()) this.scheduleReady();
      });
    });
  }

  private async readyLoop(): Promise<void> {
    try {
      while (!this.closed && !this.installing && this.core.hasReady()) {
        const rd = this.core.ready();
        this.counters.readies++;
        const io = this.persist(rd);
        let rest = rd.messages;
        if (io) {
          // persist sends a leader's appends and heartbeats before its write (Ready.ts); the
          // rest of the messages wait for the write
          this.counters.persistWaits++;
          const t0 = performance.now();
          rest = await io;
          this.counters.persistWaitMicros += Math.round((performance.now() - t0) * 1000);
        }
        if (this.closed) return;
        for (const m of rest) this.send(m);
        this.counters.messagesSent += rest.length;
        if (rest.length > 0) this.transport.flush();
        if (rd.committed.length > 0) {
          const wait = this.enqueueApply(rd.committed);
          if (wait) await wait;
        }
        if (rd.behindLogStart) for (const id of rd.behindLogStart) this.wantCopy(id);
        this.core.advance(rd);
        this.observeRole();
        this.settleProposals();
        this.armTick(); // a Ready may start what needs a tick (appends held for batching)
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Appends with entries start a replication-latency measurement. */
  private send(m: RaftMessage): void {
    if (m.type === 'append' && m.entries.length > 0) this.replication.sent(m.to, m.entries, performance.now());
    this.transport.send(m);
  }

  /** Sends the leader-originated messages of a Ready; returns the others. */
  private sendLeaderTraffic(messages: RaftMessage[]): RaftMessage[] {
    const rest: RaftMessage[] = [];
    let sent = 0;
    for (const m of messages) {
      if (m.type === 'append' || m.type === 'heartbeat') {
        this.send(m);
        sent++;
      } else rest.push(m);
    }
    if (sent > 0) {
      this.counters.messagesSent += sent;
      this.transport.flush();
    }
    return rest;
  }

  /**
   * Term/vote, truncation and appends of a Ready; a promise when something must be waited for,
   * which resolves with the messages still to send.
   */
  private persist(rd: Ready): Promise<RaftMessage[]> | null {
    if (!rd.hardState && rd.truncateFrom === undefined && rd.entries.length === 0) return null;
    return this.persistAsync(rd);
  }

  private async persistAsync(rd: Ready): Promise<RaftMessage[]> {
    if (rd.hardState) await writeCurrTerm(this.dir, { currTerm: rd.hardState.term, voteLeader: rd.hardState.votedFor });
    if (rd.truncateFrom !== undefined) {
      await this.log.truncateSuffix(rd.truncateFrom);
      this.view.truncated(rd.truncateFrom);
    }
    if (rd.entries.length === 0) return rd.messages;
    // The Ready's entry objects themselves go to the log, and then, completed with their position
    // and body CRC, to the view: two objects fewer per entry than copies for each (the garbage of
    // every entry shows in the followers' GC time). Nothing reads them as pending after this.
    const entries = rd.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!Buffer.isBuffer(e.body)) e.body = asBuffer(e.body);
    }
    let end = 0;
    for (let from = 0; from < entries.length; ) {
      const batch = this.batchSlice(entries, from) as readonly AppendEntry[];
      // only this node's own proposals (no position from a leader, this node's term) reach the proposer's hook
      const r =
        this.writeHooks.size > 0
          ? this.log.append(batch, { sync: this.syncFlush, beforeWrite: (i, index, pos) => batch[i]!.pos === undefined && this.runWriteHook(index, batch[i]!.term, pos) })
          : this.log.append(batch, { sync: this.syncFlush });
      for (let i = 0; i < batch.length; i++) {
        const e = entries[from + i]!;
        e.pos = r.positions[i]!;
        e.bodyCrc = r.bodyCrcs[i]!;
      }
      end = r.endPosition;
      from += batch.length;
    }
    const written = entries as RaftEntry[];
    // The entries are placed (the appends that share them now carry pos and bodyCrc): a leader's
    // appends and heartbeats go out before the write, so the followers write while this node does.
    const rest = rd.messages.length > 0 ? this.sendLeaderTraffic(rd.messages) : rd.messages;
    // the Ready is the batch: write it in this turn, not in the writer's next immediate (the
    // Ready loop runs in an immediate itself, so that one came a loop iteration later)
    this.log.writeNow();
    if (this.syncFlush) await this.log.whenDurable(end);
    else await this.log.whenWritten(end);
    this.view.persisted(written);
    this.counters.entriesPersisted += written.length;
    return rest;
  }

  private batchSlice(entries: readonly PendingEntry[], from: number): readonly PendingEntry[] {
    const maxN = this.log.maxBatchEntries;
    const maxB = this.log.maxBatchBytes;
    let bytes = 0;
    let n = 0;
    while (from + n < entries.length && n < maxN) {
      const b = 48 + entries[from + n]!.body.byteLength;
      if (n > 0 && bytes + b > maxB) break;
      bytes += b;
      n++;
    }
    return from === 0 && n === entries.length ? entries : entries.slice(from, from + n);
  }

  // ---- apply ---------------------------------------------------------------------------

  /** Queues committed entries; returns a promise when the queue is over its limit (the loop waits). */
  private enqueueApply(entries: RaftEntry[]): Promise<void> | null {
    this.applyQueue.push(entries);
    this.applyQueued += entries.length;
    if (!this.applying) this.drainApply();
    const max = this.o.maxApplyQueueEntries ?? DEFAULT_NODE_LIMITS.maxApplyQueueEntries;
    if (this.applyQueued <= max) return null;
    return new Promise<void>((resolve) => (this.applySpaceWaiter = resolve));
  }

  private drainApply(): void {
    while (this.applyQueue.length > 0 && !this.closed) {
      const [batch, batches] = this.nextApplyBatch();
      let r: void | Promise<void>;
      try {
        this.metrics.applyStarted();
        r = this.o.onApply(batch);
      } catch (e) {
        this.fail(new Error(`onApply failed at index ${batch[0]!.index}: ${(e as Error).message}`, { cause: e }));
        return;
      }
      if (r && typeof (r as Promise<void>).then === 'function') {
        this.applying = true;
        (r as Promise<void>).then(
          () => {
            this.applying = false;
            this.applied(batch, batches);
            this.drainApply();
          },
          (e: unknown) => this.fail(new Error(`onApply failed at index ${batch[0]!.index}: ${(e as Error).message}`, { cause: e })),
        );
        return;
      }
      this.applied(batch, batches);
    }
  }

  /**
   * What the next onApply call gets: every batch queued meanwhile, in order, up to
   * MAX_APPLY_CALL_ENTRIES (the first batch whole). An application that waits to batch its own
   * writes (the broker's apply coalescing) then sees one call for what piled up while its last
   * call ran, not one call per Ready in turn.
   */
  private nextApplyBatch(): [RaftEntry[], number] {
    const q = this.applyQueue;
    let n = 1;
    let count = q[0]!.length;
    while (n < q.length && count + q[n]!.length <= MAX_APPLY_CALL_ENTRIES) count += q[n++]!.length;
    return [n === 1 ? q[0]! : q.slice(0, n).flat(), n];
  }

  private applied(batch: RaftEntry[], batches: number): void {
    if (batches === 1) this.applyQueue.shift();
    else this.applyQueue.splice(0, batches);
    this.applyQueued -= batch.length;
    this._applied = batch[batch.length - 1]!.index;
    this.view.applied(this._applied);
    this.counters.entriesApplied += batch.length;
    this.metrics.applied(batch.length);
    this.emit('applied', this._applied);
    const max = this.o.maxApplyQueueEntries ?? DEFAULT_NODE_LIMITS.maxApplyQueueEntries;
    if (this.applySpaceWaiter && this.applyQueued <= max) {
      const w = this.applySpaceWaiter;
      this.applySpaceWaiter = null;
      w();
    }
  }

  // ---- proposals -----------------------------------------------------------------------

  private settleProposals(): void {
    if (this.pending.size === 0) return;
    const term = this.core.term;
    const leader = this.core.role === 'leader';
    const commit = this.core.commitIndex;
    for (let p = this.pending.peek(); p !== undefined; p = this.pending.peek()) {
      if (p.term !== term || !leader) this.finish(new TermChangedError(p.term, term));
      else if (p.last <= commit) this.finish(null);
      else break;
    }
  }

  /** Settles the oldest pending proposal. */
  private finish(err: Error | null): void {
    const p = this.pending.shift()!;
    this.pendingBytes -= p.bytes;
    if (err) {
      if (p.hook) p.hook.dead = true;
      return p.reject(err);
    }
    this.metrics.appendCommitted(p.last - p.first + 1, p.bytes);
    let entries: ProposedEntry[] | null = null;
    if (p.positions) {
      entries = new Array<ProposedEntry>(p.last - p.first + 1);
      for (let i = p.first; i <= p.last; i++) entries[i - p.first] = { index: i, pos: this.view.posAt(i) };
    }
    p.resolve({ firstIndex: p.first, lastIndex: p.last, entries });
  }

  private expireProposals(now: number): void {
    for (let p = this.pending.peek(); p !== undefined && p.deadline <= now; p = this.pending.peek()) {
      this.finish(new ProposalTimeoutError(p.first, this.timing.maxWaitAckTimeMs));
    }
  }

  private rejectAll(e: Error): void {
    while (this.pending.size > 0) this.finish(e);
  }

  /** The proposers' hooks, one range per proposal in index order; a leader's own proposals only. */
  private readonly writeHooks = new RangeQueue<WriteHookRange>();
  private runWriteHook(index: number, term: number, pos: number): void {
    const h = this.writeHooks.find(index);
    if (h && h.term === term) h.hook(index - h.first, index, pos);
  }

  private notLeader(leaderId: string | null): NotLeaderError {
    const known = leaderId && leaderId !== this.selfId ? leaderId : null;
    return new NotLeaderError(known, known ? this.addressOf(known) : null);
  }

  // ---- segment copy (SegmentCopy.ts) ---------------------------------------------------

  /** A follower needs entries before this leader's first index: copy the log to it. */
  private wantCopy(id: string): void {
    if (!this.copyWanted.has(id)) this.copyWanted.set(id, 0);
    this.tickCopies(Date.now());
  }

  /** Starts wanted copies (again after a failure, at most every two election timeouts), forgets those no longer needed. */
  private tickCopies(now: number): void {
    for (const c of this.copySenders.values()) c.checkIdle(now);
    const r = this.copyReceiver;
    if (r && now - r.lastChunkAt > (this.o.copyIdleMs ?? DEFAULT_COPY_IDLE_MS)) {
      // the leader went away mid-copy: drop what was received (a new copy starts from scratch)
      this.copyReceiver = null;
      this.copyChain = this.copyChain.then(() => r.discard()).catch(() => undefined);
      this.logLine(`copy from ${r.from} abandoned: no chunk for ${this.o.copyIdleMs ?? DEFAULT_COPY_IDLE_MS} ms`);
    }
    if (this.copyWanted.size === 0) return;
    if (this.core.role !== 'leader') {
      this.copyWanted.clear();
      return;
    }
    for (const [id, lastStart] of this.copyWanted) {
      const p = this.core.progressOf(id);
      if (!p || p.match >= this.log.firstIndex) {
        this.copyWanted.delete(id);
        continue;
      }
      if (this.copySenders.has(id) || now - lastStart < this.timing.electionTimeoutMs * 2) continue;
      this.copyWanted.set(id, now);
      this.startCopy(id);
    }
  }

  private startCopy(to: string): void {
    const sender = new CopySender({
      copy: Date.now() * 1000 + (this.copySeq++ % 1000),
      selfId: this.selfId,
      to,
      term: this.core.term,
      log: this.log,
      commitIndex: () => this.core.commitIndex,
      takeSnapshot: this.o.takeSnapshot,
      send: (m) => {
        this.transport.send(m);
        this.transport.flush();
      },
      idleMs: this.o.copyIdleMs ?? DEFAULT_COPY_IDLE_MS,
    });
    this.copySenders.set(to, sender);
    const term = this.core.term;
    this.logLine(`${to} needs entries before ${this.log.firstIndex}: copying the log to it`);
    const watch = (c: RoleChange): void => {
      if (c.role !== 'leader' || c.term !== term) sender.abort(`leadership changed (term ${c.term}, ${c.role})`);
    };
    this.on('roleChange', watch);
    sender.run().then(
      (r) => {
        this.copyStats.sent++;
        this.copyStats.lastSent = r;
        this.logLine(`copied entries ${r.manifest.firstIndex}..${r.manifest.lastIndex} (${r.bytes} bytes with the snapshot) to ${to} in ${r.ms} ms`);
      },
      (e: Error) => {
        this.copyStats.sendFailures++;
        this.logLine(`copy to ${to} failed: ${e.message}`);
      },
    ).finally(() => {
      this.off('roleChange', watch);
      if (this.copySenders.get(to) === sender) this.copySenders.delete(to);
      // the follower needs a moment to install it: the retry clock starts now
      if (this.copyWanted.has(to)) this.copyWanted.set(to, Date.now());
    });
  }

  /** Follower side: chunks are handled one after another, in arrival order. */
  private onCopyChunk(m: WireCopyChunk): void {
    if (this.installing) return;
    this.copyChain = this.copyChain.then(() => this.handleCopyChunk(m)).catch((e: Error) => this.logLine(`copy: ${e.message}`));
  }

  private async handleCopyChunk(m: WireCopyChunk): Promise<void> {
    if (this.closed || this.installing) return;
    const ack = (ok: boolean, reason = ''): void => {
      this.transport.send({ type: 'copyAck', from: this.selfId, to: m.from, term: this.core.term, copy: m.copy, seq: m.seq, ok, reason });
      this.transport.flush();
    };
    try {
      if (m.seq === 0) {
        // Only from the leader of this node's current term: a copy from anyone else could hold
        // entries that a newer leader has overwritten.
        if (this.core.role !== 'follower' || m.term !== this.core.term || this.core.leaderId !== m.from) {
          throw new CopyAbortedError(`not a follower of ${m.from} in term ${m.term} (this node: ${this.core.role} in term ${this.core.term}, leader ${this.core.leaderId ?? 'unknown'})`);
        }
        if (this.copyReceiver) await this.copyReceiver.discard();
        this.copyReceiver = null;
        const r = await CopyReceiver.begin(this.dir, m, this.log.dataSegmentSize);
        if (r.manifest.lastIndex < this._applied) {
          await r.discard();
          throw new CopyAbortedError(`the copy ends at ${r.manifest.lastIndex}, before what this node applied (${this._applied})`);
        }
        this.copyReceiver = r;
        this.logLine(`receiving a copy of ${m.from}'s log: entries ${r.manifest.firstIndex}..${r.manifest.lastIndex}, ${r.manifest.endPos - r.manifest.startPos} bytes and a ${r.manifest.snapshotBytes}-byte snapshot`);
        ack(true);
        return;
      }
      const r = this.copyReceiver;
      if (!r || r.copy !== m.copy || r.from !== m.from) throw new CopyAbortedError(`chunk ${m.seq} of copy ${m.copy}, which this node is not receiving`);
      const complete = await r.onChunk(m);
      ack(true);
      if (complete) {
        this.copyReceiver = null;
        await this.installCopy();
      }
    } catch (e) {
      this.copyStats.receiveFailures++;
      const r = this.copyReceiver;
      if (r && (m.seq === 0 || r.copy === m.copy)) {
        this.copyReceiver = null;
        await r.discard().catch(() => undefined);
      }
      ack(false, (e as Error).message);
      if (!(e instanceof CopyAbortedError)) throw e;
    }
  }

  /**
   * Replaces this follower's log with the received copy: the Ready loop and apply stop, the
   * log closes, the copy is swapped in, the log reopens, the application takes the snapshot,
   * and a new core starts on the new log with the same term and vote.
   */
  private async installCopy(): Promise<void> {
    this.installing = true;
    const t0 = Date.now();
    try {
      await this.loopDone.catch(() => undefined);
      while (this.applyQueue.length > 0 && !this.closed && !this.failure) await new Promise<void>((r) => setTimeout(r, 5));
      if (this.closed) return;
      this.rejectAll(new TermChangedError(this.core.term, this.core.term));
      this.writeHooks.clear();
      await this.log.close();
      await finishPendingCopy(this.dir, this.logLine);
      // nothing of the old state counts as applied: the application takes the snapshot (onInstall) before the new core starts
      const opened = await RaftNode.openState(this.o, this.peers, this.dir, -1);
      this.log = opened.log;
      this.view = opened.view;
      this.core = opened.core;
      this._applied = this.core.appliedIndex;
      this.lastCheckpoint = '';
      this.copyStats.installed++;
      this.logLine(`installed the copy: log ${this.log.firstIndex}..${this.log.lastIndex}, applied ${this._applied}, in ${Date.now() - t0} ms`);
    } catch (e) {
      this.fail(new Error(`installing a segment copy failed: ${(e as Error).message}`, { cause: e }));
      return;
    } finally {
      this.installing = false;
    }
    this.observeRole();
    this.scheduleReady();
  }

  // ---- roles, checkpoint, failure ------------------------------------------------------

  /** An announced hand-over to a preferred peer: the application's hook, then the transfer. */
  private observePreferred(): void {
    const target = this.core.preferredTransferAnnounced;
    if (target === this.preferredAnnounced) return;
    this.preferredAnnounced = target;
    const hook = this.o.beforePreferredTransfer;
    if (target === null || hook === undefined) return;
    void (async () => {
      try {
        await hook(target);
      } catch (e) {
        this.logLine(`before the hand-over to preferred leader ${target}: ${(e as Error).message}`);
      }
      // the core still wants it (no transfer started meanwhile, still leading)
      if (this.closed || this.core.preferredTransferAnnounced !== target) return;
      this.catchUpTicks();
      const r = this.core.transferLeadership(target, true);
      if (!r.ok) this.logLine(`hand-over to preferred leader ${target} refused: ${r.reason}`);
      this.scheduleReady();
      this.armTick();
    })();
  }

  private observeRole(): void {
    const c = this.core;
    if (c.role === this.role && c.term === this.term && c.leaderId === this.leaderId) return;
    const previousRole = this.role;
    if (c.role !== 'leader') this.replication.reset();
    this.role = c.role;
    this.term = c.term;
    this.leaderId = c.leaderId;
    if (previousRole !== c.role) this.logLine(`${previousRole} -> ${c.role} in term ${c.term}${c.leaderId ? `, leader ${c.leaderId}` : ''}`);
    this.emit('roleChange', { role: c.role, previousRole, term: c.term, leaderId: c.leaderId });
  }

  /** ASYNC_FLUSH with the main-thread writer: fdatasync the newest data and index files off this thread. */
  /**
   * One round of the background timer: the fsync of the newest files (main-thread writer,
   * ASYNC_FLUSH), then the page-cache trim behind the cache window. Public for tests.
   */
  async backgroundRound(): Promise<void> {
    // not while a copy is swapped in: the log is closed and its folders are being replaced
    if (this.syncing || this.closed || this.installing) return;
    this.syncing = true;
    try {
      const log = this.log;
      await syncAndTrim(log, { syncNewest: this.mainWriterSync, window: this.cacheWindow, current: () => this.log === log && !this.closed && !this.installing });
    } finally {
      this.syncing = false;
    }
  }

  /**
   * Whether this node leads and heard from a quorum (itself included) within the last `ms`. A
   * leader that was paused, or cut off, still thinks it leads until its next check-quorum tick;
   * what it tells the outside world as leader (the broker's name server registration) should
   * wait for this.
   */
  leadsWithQuorumWithin(ms: number, now: number = performance.now()): boolean {
    if (this.core.role !== 'leader') return false;
    let heard = 1;
    for (const id of this.peers.keys()) if (id !== this.selfId && (this.lastHeard.get(id) ?? -Infinity) >= now - ms) heard++;
    return heard * 2 > this.peers.size;
  }

  /** Bytes of the log behind the cache window whose pages were dropped; 0 without a window. */
  get pageCacheDroppedBytes(): number {
    return this.cacheWindow?.droppedBytes ?? 0;
  }

  private async writeCheckpoint(): Promise<void> {
    // not while a copy is swapped in: the old core's indexes do not describe the new log
    if (this.checkpointing || this.installing) return;
    const state = { committedIndex: Math.min(this.core.commitIndex, this.view.lastIndex), endIndex: this.view.lastIndex };
    const key = `${state.committedIndex}/${state.endIndex}`;
    if (key === this.lastCheckpoint) return;
    this.checkpointing = true;
    try {
      await writeCheckpoint(this.dir, state);
      this.lastCheckpoint = key;
    } finally {
      this.checkpointing = false;
    }
  }

  /** A log or apply failure: the node stops rather than run on with state it cannot trust. */
  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = new RaftNodeClosedError(`raft node stopped: ${e.message}`, { cause: e });
    this.logLine(this.failure.message);
    this.rejectAll(this.failure);
    if (this.listenerCount('fatal') > 0) this.emit('fatal', this.failure);
    void this.close();
  }
}
