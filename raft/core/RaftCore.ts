// The Raft state machine. Pure: step() and tick() change state and queue output; ready() hands
// the output over, advance() acknowledges it. No I/O, no clock, randomness from a RandomSource.
import { INITIAL_HARD_STATE, type HardState } from './HardState.js';
import { Progress } from './Progress.js';
import { resolveLimits, validateMembership, type RaftCoreOptions, type RaftLimits } from './RaftConfig.js';
import { NOOP_MAGIC, entrySize, type PendingEntry, type Proposal, type RaftEntry } from './RaftEntry.js';
import { invariant } from './RaftInvariantError.js';
import { RaftLog } from './RaftLog.js';
import type { AppendRequest, AppendResponse, Heartbeat, RaftMessage, VoteRequest, VoteResponse } from './RaftMessage.js';
import type { Ready, Role, SoftState } from './Ready.js';
import type { RandomSource } from './SeededRandom.js';

export type ProposeResult =
  | { ok: true; term: number; firstIndex: number; lastIndex: number }
  | { ok: false; reason: 'NOT_LEADER'; leaderId: string | null }
  | { ok: false; reason: 'OVERLOADED'; limit: 'maxUnpersistedEntries'; value: number }
  /** a leadership transfer is under way; writes pause until it ends (bounded by transferTimeoutTicks) */
  | { ok: false; reason: 'LEADER_TRANSFERRING'; transferee: string };

export type TransferResult =
  | { ok: true; transferee: string }
  | { ok: false; reason: 'NOT_LEADER'; leaderId: string | null }
  | { ok: false; reason: 'SELF' | 'UNKNOWN_PEER'; peer: string }
  | { ok: false; reason: 'TRANSFER_IN_PROGRESS'; transferee: string }
  | { ok: false; reason: 'TARGET_TOO_FAR_BEHIND'; peer: string; lag: number; limit: number };

/** Counters for metrics and tests; they only grow. */
export interface RaftCoreCounters {
  transfersStarted: number;
  transfersCompleted: number;
  transfersAborted: number;
  preferredTransfers: number;
  /** appends held back by batchTicks/batchBytes and later flushed */
  batchFlushes: number;
}

export class RaftCore {
  readonly id: string;
  readonly peers: readonly string[];
  readonly limits: Readonly<RaftLimits>;
  private readonly others: readonly string[];
  private readonly quorum: number;
  private readonly random: RandomSource;
  private readonly log: RaftLog;

  private _term: number;
  private _votedFor: string | null;
  private _role: Role = 'follower';
  private _leaderId: string | null = null;
  private _commit: number;
  private _applied: number;
  private persisted: HardState;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<string, boolean>();
  private readonly progress = new Map<string, Progress>();
  private outbox: RaftMessage[] = [];
  private outstanding: Ready | null = null;
  /** messages dropped because they were malformed or not addressed to us */
  droppedMessages = 0;
  readonly counters: RaftCoreCounters = { transfersStarted: 0, transfersCompleted: 0, transfersAborted: 0, preferredTransfers: 0, batchFlushes: 0 };

  private _transferee: string | null = null;
  private transferElapsed = 0;
  /** TimeoutNow went out to the transferee in this transfer */
  private timeoutNowSent = false;
  private preferredElapsed = 0;
  /** the peer announced at the last preferred check (announcePreferredTransfer) */
  private preferredAnnounced: string | null = null;
  /** ticks between preferred-leader checks: doubles after each failed hand-over (at most 16 periods) */
  private preferredWait = 0;
  /** the running transfer was started by the preferred-leader rule */
  private transferForPreference = false;
  private batchTicks: number;
  private batchBytes: number;
  /** ticks since appends were first held back for batching; -1 when nothing is held */
  private batchAge = -1;
  private flushingBatch = false;
  /** followers that need entries before our log's first index (bounded by the peer count) */
  private readonly behind = new Set<string>();
  /** reported since the last heartbeat: a peer is named at most once per heartbeat period */
  private readonly reportedBehind = new Set<string>();

  constructor(opts: RaftCoreOptions) {
    validateMembership(opts.id, opts.peers);
    this.id = opts.id;
    this.peers = [...opts.peers].sort();
    this.others = this.peers.filter((p) => p !== opts.id);
    this.quorum = Math.floor(this.peers.length / 2) + 1;
    this.limits = Object.freeze(resolveLimits(opts));
    this.random = opts.random;
    this.log = new RaftLog(opts.log);
    const hs = opts.hardState ?? INITIAL_HARD_STATE;
    invariant(hs.votedFor === null || this.peers.includes(hs.votedFor), `persisted vote for unknown peer ${hs.votedFor}`);
    this._term = hs.term;
    this._votedFor = hs.votedFor;
    this.persisted = { term: hs.term, votedFor: hs.votedFor };
    // Entries before the log's first index were dropped by retention after they were applied, or
    // came as copied segments whose effect the caller rebuilt: either way they count as applied.
    this._applied = Math.max(opts.applied ?? -1, this.log.firstIndex - 1);
    invariant(this._applied <= this.log.lastIndex, `applied ${this._applied} is past the log's last index ${this.log.lastIndex}`);
    this.preferredWait = this.limits.preferredLeaderCheckTicks;
    this.batchTicks = this.limits.batchTicks;
    this.batchBytes = this.limits.batchBytes;
    // Applied entries were committed; everything else is learned again from a leader.
    this._commit = this._applied;
    this.resetTimers();
    // a node that never held anything lets nodes with data campaign first
    if (this.log.lastIndex < 0 && this._term === 0 && this.limits.freshStartElectionRounds > 0) {
      this.electionElapsed = -this.limits.freshStartElectionRounds * this.limits.electionTicks;
    }
  }

  get term(): number {
    return this._term;
  }
  get votedFor(): string | null {
    return this._votedFor;
  }
  get role(): Role {
    return this._role;
  }
  get leaderId(): string | null {
    return this._leaderId;
  }
  get commitIndex(): number {
    return this._commit;
  }
  get appliedIndex(): number {
    return this._applied;
  }
  get lastIndex(): number {
    return this.log.lastIndex;
  }
  get lastTerm(): number {
    return this.log.lastTerm;
  }
  termAt(index: number): number {
    return this.log.termAt(index);
  }
  /** The leader's view of a follower (tests, metrics). */
  progressOf(peer: string): Readonly<Progress> | undefined {
    return this.progress.get(peer);
  }
  /** The peer a leadership transfer is handing over to, or null. */
  get transferee(): string | null {
    return this._transferee;
  }
  /** With announcePreferredTransfer: the preferred peer this leader will hand over to at its next check, unless a transfer starts before. */
  get preferredTransferAnnounced(): string | null {
    return this._role === 'leader' && this._transferee === null ? this.preferredAnnounced : null;
  }
  /** First index of the log (0 unless retention dropped a prefix). */
  get firstIndex(): number {
    return this.log.firstIndex;
  }
  softState(): SoftState {
    return { role: this._role, leaderId: this._leaderId, term: this._term, commitIndex: this._commit };
  }

  // ---- input ---------------------------------------------------------------------------

  tick(): void {
    if (this._role === 'leader') {
      this.heartbeatElapsed++;
      this.electionElapsed++;
      if (this.electionElapsed >= this.limits.electionTicks) {
        this.electionElapsed = 0;
        if (this.limits.checkQuorum && !this.quorumActive()) {
          this.becomeFollower(this._term, null);
          return;
        }
      }
      if (this._transferee !== null && ++this.transferElapsed >= this.limits.transferTimeoutTicks) this.abortTransfer();
      if (++this.preferredElapsed >= this.preferredWait) {
        this.preferredElapsed = 0;
        this.maybeTransferToPreferred();
      }
      if (this.batchAge >= 0 && ++this.batchAge >= this.batchTicks) this.flushAppends();
      if (this.heartbeatElapsed >= this.limits.heartbeatTicks) {
        this.heartbeatElapsed = 0;
        this.broadcastHeartbeat();
      }
      return;
    }
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  /**
   * How many tick() calls from now the first one that can act is (a heartbeat, a check-quorum
   * round, an election, a transfer timeout, a preferred-leader check, a batch flush), if no input
   * comes before: the ticks before it only count. Lets a driver sleep instead of ticking idly.
   */
  ticksUntilDue(): number {
    let due: number;
    if (this._role === 'leader') {
      due = Math.min(this.limits.heartbeatTicks - this.heartbeatElapsed, this.limits.electionTicks - this.electionElapsed, this.preferredWait - this.preferredElapsed);
      if (this._transferee !== null) due = Math.min(due, this.limits.transferTimeoutTicks - this.transferElapsed);
      if (this.batchAge >= 0) due = Math.min(due, this.batchTicks - this.batchAge);
    } else due = this.randomizedElectionTimeout - this.electionElapsed;
    return Math.max(1, due);
  }

  /** Starts an election now (tests, leadership hand-over later). */
  campaign(): void {
    if (this._role === 'leader') return;
    if (this.limits.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  propose(proposals: readonly Proposal[]): ProposeResult {
    if (this._role !== 'leader') return { ok: false, reason: 'NOT_LEADER', leaderId: this._leaderId };
    if (this._transferee !== null) return { ok: false, reason: 'LEADER_TRANSFERRING', transferee: this._transferee };
    if (this.log.unstableCount + proposals.length > this.limits.maxUnpersistedEntries) {
      return { ok: false, reason: 'OVERLOADED', limit: 'maxUnpersistedEntries', value: this.limits.maxUnpersistedEntries };
    }
    const first = this.log.lastIndex + 1;
    // pos and bodyCrc are the log's to fill in; present from the start, so every entry object has one shape
    const entries: PendingEntry[] = proposals.map((p, i) => ({ index: first + i, term: this._term, magic: p.magic, pos: undefined, body: p.body, bodyCrc: undefined }));
    this.log.append(entries);
    return { ok: true, term: this._term, firstIndex: first, lastIndex: this.log.lastIndex };
  }

  /**
   * Leadership transfer (leader only): refuse proposals, bring `to` up to date, then send it a
   * TimeoutNow so it campaigns at once. Aborted after transferTimeoutTicks, or when we stop
   * leading. Asking again for the same peer while it runs is a no-op that answers ok.
   */
  transferLeadership(to: string, forPreference = false): TransferResult {
    if (this._role !== 'leader') return { ok: false, reason: 'NOT_LEADER', leaderId: this._leaderId };
    if (to === this.id) return { ok: false, reason: 'SELF', peer: to };
    const pr = this.progress.get(to);
    if (!pr) return { ok: false, reason: 'UNKNOWN_PEER', peer: to };
    if (this._transferee !== null) {
      return this._transferee === to ? { ok: true, transferee: to } : { ok: false, reason: 'TRANSFER_IN_PROGRESS', transferee: this._transferee };
    }
    const lag = this.log.lastIndex - pr.match;
    if (lag > this.limits.maxTransferLagEntries) return { ok: false, reason: 'TARGET_TOO_FAR_BEHIND', peer: to, lag, limit: this.limits.maxTransferLagEntries };
    this._transferee = to;
    // a hand-over to a preferred peer (here or, after an announcement, by the application) backs off when it fails
    this.transferForPreference = forPreference;
    if (forPreference) this.counters.preferredTransfers++;
    this.preferredAnnounced = null;
    this.transferElapsed = 0;
    this.timeoutNowSent = false;
    this.counters.transfersStarted++;
    if (pr.match === this.log.lastIndex) this.sendTimeoutNow(to);
    else {
      this.flushingBatch = true;
      let sent = false;
      while (this.sendAppend(to, false)) sent = true;
      this.flushingBatch = false;
      // Everything is already out (maybe lost): probe now rather than wait for a heartbeat.
      if (!sent) this.probeStalled(to);
    }
    return { ok: true, transferee: to };
  }

  /** Gives up a transfer under way (the caller's own deadline); writes are accepted again. */
  abortTransfer(): void {
    if (this._transferee === null) return;
    this._transferee = null;
    this.counters.transfersAborted++;
    // A preferred peer that cannot take over must not pause writes every check period.
    if (this.transferForPreference) {
      this.preferredWait = Math.min(this.preferredWait * 2, this.limits.preferredLeaderCheckTicks * 16);
      this.preferredElapsed = 0;
    }
  }

  /**
   * Batching by time, changeable at run time: hold new entries for up to `ticks` ticks or until
   * `bytes` wait for a follower. ticks = 0 sends at once (and flushes what is held).
   */
  setBatching(ticks: number, bytes: number): void {
    if (!Number.isSafeInteger(ticks) || ticks < 0 || !Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`batching needs non-negative integers, got ticks ${ticks}, bytes ${bytes}`);
    }
    this.batchTicks = ticks;
    this.batchBytes = bytes;
    if (ticks === 0) this.flushAppends();
  }

  /** Sends every append held back for batching now (leader only; otherwise nothing). */
  flushAppends(): void {
    this.batchAge = -1;
    if (this._role !== 'leader') return;
    this.flushingBatch = true;
    let sent = false;
    for (const p of this.others) while (this.sendAppend(p, false)) sent = true;
    this.flushingBatch = false;
    if (sent) this.counters.batchFlushes++;
  }

  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id || !this.peers.includes(m.from) || !Number.isSafeInteger(m.term) || m.term < 0) {
      this.droppedMessages++;
      return;
    }
    if (m.term > this._term) {
      if (m.type === 'vote') {
        // Check-quorum lease: while we hear from a leader, a higher-term candidate is an isolated
        // node coming back; it must not disrupt the group.
        const inLease = this.limits.checkQuorum && this._leaderId !== null && this.electionElapsed < this.limits.electionTicks;
        if (inLease && m.transfer !== true) {
          if (m.pre) this.send({ type: 'voteResponse', from: this.id, to: m.from, term: this._term, pre: true, granted: false });
          return;
        }
      }
      const keepTerm = (m.type === 'vote' && m.pre) || (m.type === 'voteResponse' && m.pre && m.granted);
      if (!keepTerm) {
        const leader = m.type === 'append' || m.type === 'heartbeat' ? m.from : null;
        this.becomeFollower(m.term, leader);
      }
    } else if (m.term < this._term) {
      if ((m.type === 'append' || m.type === 'heartbeat') && (this.limits.checkQuorum || this.limits.preVote)) {
        // A stale leader would otherwise never learn our term (we ignore its traffic); answer so it steps down.
        this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this._term, success: false, index: -1, conflictTerm: -1, conflictIndex: -1 });
      } else if (m.type === 'vote' && m.pre) {
        this.send({ type: 'voteResponse', from: this.id, to: m.from, term: this._term, pre: true, granted: false });
      }
      return;
    }

    switch (m.type) {
      case 'vote':
        this.handleVote(m);
        return;
      case 'voteResponse':
        this.handleVoteResponse(m);
        return;
      case 'append':
      case 'heartbeat':
        if (this._role === 'leader') {
          // Two leaders in one term cannot happen; a malformed or forged message can.
          this.droppedMessages++;
          return;
        }
        if (this._role !== 'follower') this.becomeFollower(this._term, m.from);
        this._leaderId = m.from;
        this.electionElapsed = 0;
        if (m.type === 'append') this.handleAppend(m);
        else this.handleHeartbeat(m);
        return;
      case 'appendResponse':
        if (this._role === 'leader') this.handleAppendResponse(m);
        return;
      case 'heartbeatResponse':
        if (this._role === 'leader') this.handleHeartbeatResponse(m.from, m.lastIndex);
        return;
      case 'timeoutNow':
        // The leader of our term hands over: campaign at once, no pre-vote, past the voters' lease.
        if (this._role !== 'leader') this.becomeCandidate(true);
        return;
    }
  }

  // ---- output --------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.outstanding) return false;
    return (
      this.outbox.length > 0 ||
      this.behind.size > 0 ||
      this.hardStateChanged() ||
      this.log.unstableCount > 0 ||
      this.log.truncateFrom !== undefined ||
      this._applied < Math.min(this._commit, this.log.stableLastIndex)
    );
  }

  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance()');
    if (this._role === 'leader' && this.log.unstableCount > 0) {
      // The proposals of this turn go out in the Ready that persists them: one append per
      // follower for all of them, sent by the caller once its log has placed them.
      for (const p of this.others) while (this.sendAppend(p, false)) {}
    }
    const rd: Ready = {
      entries: this.log.pendingEntries(),
      messages: this.outbox,
      committed: this.log.stableEntries(this._applied + 1, Math.min(this.limits.maxApplyEntries, this._commit - this._applied), this.limits.maxApplyBytes),
      softState: this.softState(),
    };
    if (this.hardStateChanged()) rd.hardState = { term: this._term, votedFor: this._votedFor };
    if (this.behind.size > 0) {
      rd.behindLogStart = [...this.behind].sort();
      this.behind.clear();
    }
    const tf = this.log.truncateFrom;
    if (tf !== undefined) {
      // Conflicts are checked against the commit index when they arrive (handleAppend); the entries
      // now committed may be the replacements, still pending. Applied ones came from this log.
      invariant(tf > this._applied, `truncation from ${tf} would remove applied entries (applied ${this._applied})`);
      rd.truncateFrom = tf;
    }
    this.outbox = [];
    this.outstanding = rd;
    return rd;
  }

  /** The caller did everything `rd` asked. */
  advance(rd: Ready): void {
    invariant(rd === this.outstanding, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = null;
    if (rd.hardState) this.persisted = rd.hardState;
    this.log.stableTo(rd.entries);
    const last = rd.committed[rd.committed.length - 1];
    if (last) {
      invariant(last.index <= this._commit && rd.committed[0]!.index === this._applied + 1, 'applied entries out of order');
      this._applied = last.index;
    }
    if (this._role === 'leader' && rd.entries.length > 0) {
      // Our own entries are durable now: they count toward the quorum. (They went out with this
      // Ready already, where the pipeline let them; what it held back goes now.)
      this.maybeCommit();
      for (const p of this.others) while (this.sendAppend(p, false)) {}
    }
  }

  // ---- roles ---------------------------------------------------------------------------

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.limits.electionTicks + this.random.int(this.limits.electionJitterTicks);
  }

  private becomeFollower(term: number, leader: string | null): void {
    invariant(term >= this._term, `term going back from ${this._term} to ${term}`);
    if (term > this._term) {
      this._term = term;
      this._votedFor = null;
    }
    this._role = 'follower';
    this._leaderId = leader;
    this.votes.clear();
    this.progress.clear();
    this.leaveLeadership();
    this.resetTimers();
  }

  private becomePreCandidate(): void {
    this._role = 'preCandidate';
    this._leaderId = null;
    this.votes.clear();
    this.progress.clear();
    this.leaveLeadership();
    this.resetTimers();
    this.requestVotes(true, this._term + 1);
  }

  private becomeCandidate(transfer = false): void {
    this._term++;
    this._votedFor = this.id;
    this._role = 'candidate';
    this._leaderId = null;
    this.votes.clear();
    this.progress.clear();
    this.leaveLeadership();
    this.resetTimers();
    this.requestVotes(false, this._term, transfer);
  }

  /** Vote for ourselves; a single-node group has won at once, else ask every peer. */
  private requestVotes(pre: boolean, term: number, transfer = false): void {
    this.votes.set(this.id, true);
    if (this.tally() === 'won') {
      if (pre) this.becomeCandidate();
      else this.becomeLeader();
      return;
    }
    for (const p of this.others) {
      const m: VoteRequest = { type: 'vote', from: this.id, to: p, term, pre, lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm };
      if (transfer) m.transfer = true;
      this.send(m);
    }
  }

  /** Leader-only state goes when we stop leading; a transfer that ends this way has done its job. */
  private leaveLeadership(): void {
    if (this._transferee !== null) {
      this._transferee = null;
      if (this.timeoutNowSent) this.counters.transfersCompleted++;
      else this.counters.transfersAborted++;
    }
    this.timeoutNowSent = false;
    this.batchAge = -1;
    this.behind.clear();
    this.reportedBehind.clear();
  }

  private becomeLeader(): void {
    this._role = 'leader';
    this._leaderId = this.id;
    this.votes.clear();
    this.resetTimers();
    this.preferredElapsed = 0;
    this.preferredWait = this.limits.preferredLeaderCheckTicks;
    this.preferredAnnounced = null;
    const next = this.log.lastIndex + 1;
    this.progress.clear();
    for (const p of this.others) this.progress.set(p, new Progress(next, this.limits.maxInflightAppends, this.limits.maxInflightBytes));
    // Entries of earlier terms commit only under one of ours (Raft 5.4.2): append a no-op now.
    this.log.append([{ index: next, term: this._term, magic: NOOP_MAGIC, pos: undefined, body: new Uint8Array(0), bodyCrc: undefined }]);
    // Announce ourselves and probe where each follower's log matches.
    for (const p of this.others) this.sendAppend(p, true, true);
  }

  // ---- elections -----------------------------------------------------------------------

  private handleVote(m: VoteRequest): void {
    const canVote = this._votedFor === m.from || (this._votedFor === null && this._leaderId === null) || (m.pre && m.term > this._term);
    const lastTerm = this.log.lastTerm;
    const upToDate = m.lastTerm > lastTerm || (m.lastTerm === lastTerm && m.lastIndex >= this.log.lastIndex);
    if (canVote && upToDate) {
      // A pre-vote answer carries the asked term so the pre-candidate does not take it for stale.
      this.send({ type: 'voteResponse', from: this.id, to: m.from, term: m.pre ? m.term : this._term, pre: m.pre, granted: true });
      if (!m.pre) {
        this.electionElapsed = 0;
        this._votedFor = m.from; // goes out in the same Ready, persisted before the response is sent
      }
    } else {
      this.send({ type: 'voteResponse', from: this.id, to: m.from, term: this._term, pre: m.pre, granted: false });
    }
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expectPre = this._role === 'preCandidate';
    if ((this._role !== 'candidate' && !expectPre) || m.pre !== expectPre) return;
    if (!this.votes.has(m.from)) this.votes.set(m.from, m.granted);
    const r = this.tally();
    if (r === 'won') {
      if (expectPre) this.becomeCandidate();
      else this.becomeLeader();
    } else if (r === 'lost') this.becomeFollower(this._term, null);
  }

  private tally(): 'won' | 'lost' | 'pending' {
    let yes = 0;
    let no = 0;
    for (const g of this.votes.values()) g ? yes++ : no++;
    if (yes >= this.quorum) return 'won';
    if (no >= this.quorum || no > this.peers.length - this.quorum) return 'lost';
    return 'pending';
  }

  // ---- replication: follower side ------------------------------------------------------

  private handleAppend(m: AppendRequest): void {
    if (!this.wellFormed(m)) {
      this.droppedMessages++;
      return;
    }
    let prevIndex = m.prevIndex;
    let prevTerm = m.prevTerm;
    let entries = m.entries;
    if (prevIndex < this._commit) {
      // What we committed matches the leader already; keep only what lies beyond it.
      const skip = Math.min(entries.length, this._commit - prevIndex);
      // (prevTerm is not looked at again: at or below our commit index the logs match.)
      prevTerm = skip > 0 ? entries[skip - 1]!.term : m.prevTerm;
      entries = entries.slice(skip);
      prevIndex = this._commit;
      if (prevIndex > m.prevIndex + m.entries.length) {
        this.replyAppend(m.from, true, m.prevIndex + m.entries.length);
        return;
      }
    }
    if (prevIndex > this.log.lastIndex) {
      this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this._term, success: false, index: m.prevIndex, conflictTerm: -1, conflictIndex: this.log.lastIndex + 1 });
      return;
    }
    // At or below our commit index the logs match (the leader holds every committed entry), and
    // below our first index we could not look anyway.
    const ourTerm = prevIndex <= this._commit ? prevTerm : this.log.termAt(prevIndex);
    if (ourTerm !== prevTerm) {
      // Fast back-up: name our conflicting term and where it starts, so the leader skips it whole.
      const first = this.log.firstIndexWithTermAtLeast(ourTerm, this._commit + 1, prevIndex);
      this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this._term, success: false, index: m.prevIndex, conflictTerm: ourTerm, conflictIndex: first });
      return;
    }
    let k = 0;
    while (k < entries.length && entries[k]!.index <= this.log.lastIndex && this.log.termAt(entries[k]!.index) === entries[k]!.term) k++;
    if (k < entries.length) {
      invariant(entries[k]!.index > this._commit, `leader ${m.from} conflicts with committed entry ${entries[k]!.index}`);
      this.log.append(entries.slice(k));
    }
    const lastNew = prevIndex + entries.length;
    this.commitTo(Math.min(m.commit, lastNew));
    this.replyAppend(m.from, true, lastNew);
  }

  private replyAppend(to: string, success: boolean, index: number): void {
    this.send({ type: 'appendResponse', from: this.id, to, term: this._term, success, index, conflictTerm: -1, conflictIndex: -1 });
  }

  private wellFormed(m: AppendRequest): boolean {
    if (!Number.isSafeInteger(m.prevIndex) || m.prevIndex < -1 || !Number.isSafeInteger(m.commit)) return false;
    let term = m.prevTerm;
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.index !== m.prevIndex + 1 + i || e.term < term || e.term > m.term || !Number.isSafeInteger(e.pos)) return false;
      term = e.term;
    }
    return true;
  }

  private handleHeartbeat(m: Heartbeat): void {
    this.commitTo(Math.min(m.commit, this.log.lastIndex));
    this.send({ type: 'heartbeatResponse', from: this.id, to: m.from, term: this._term, lastIndex: this.log.lastIndex });
  }

  private commitTo(index: number): void {
    if (index > this._commit) {
      invariant(index <= this.log.lastIndex, `commit ${index} past the last index ${this.log.lastIndex}`);
      this._commit = index;
    }
  }

  // ---- replication: leader side --------------------------------------------------------

  /**
   * Sends the next append to `to` if its pipeline allows; an empty one only when `allowEmpty`.
   * `probeLogStart`: when the follower needs entries before our first index, send one empty
   * probe at the first index (did a segment copy reach it meanwhile?); callers pass it at most
   * once per heartbeat, so a follower left behind costs one message per heartbeat.
   */
  private sendAppend(to: string, allowEmpty: boolean, probeLogStart = false): boolean {
    const pr = this.progress.get(to)!;
    const first = this.log.firstIndex;
    if (first > 0 && pr.next <= first) {
      // We no longer hold entry next - 1 (or its term): the caller must copy segments to it.
      if (!this.reportedBehind.has(to)) {
        this.reportedBehind.add(to);
        this.behind.add(to);
      }
      if (pr.state === 'replicate') pr.becomeProbe(pr.next);
      if (probeLogStart && first <= this.log.stableLastIndex) {
        pr.next = first + 1;
        this.send({ type: 'append', from: this.id, to, term: this._term, prevIndex: first, prevTerm: this.log.termAt(first), entries: [], commit: this._commit });
      }
      pr.probeSent = true;
      return false;
    }
    if (pr.isPaused()) return false;
    // Pending entries too (Raft thesis 10.2.1, etcd's order): the caller writes them while the
    // followers do; the leader counts itself toward a quorum only once they are persisted.
    const entries = this.log.entries(pr.next, this.limits.maxEntriesPerAppend, this.limits.maxBytesPerAppend);
    if (entries.length === 0 && !allowEmpty) return false;
    if (entries.length > 0 && this.batchTicks > 0 && !this.flushingBatch && pr.state === 'replicate' && this.holdForBatch(entries)) return false;
    const prevIndex = pr.next - 1;
    this.send({ type: 'append', from: this.id, to, term: this._term, prevIndex, prevTerm: this.log.termAt(prevIndex), entries, commit: this._commit });
    if (entries.length > 0) {
      let bytes = 0;
      for (const e of entries) bytes += entrySize(e);
      pr.sentEntries(entries[entries.length - 1]!.index, bytes);
    } else if (pr.state === 'probe') pr.probeSent = true;
    return true;
  }

  /** True when the entries ready for a follower are all there is and still below batchBytes: wait for more. */
  private holdForBatch(entries: readonly RaftEntry[]): boolean {
    if (entries.length >= this.limits.maxEntriesPerAppend || entries[entries.length - 1]!.index < this.log.lastIndex) return false;
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    if (bytes >= this.batchBytes) return false;
    if (this.batchAge < 0) this.batchAge = 0;
    return true;
  }

  private sendTimeoutNow(to: string): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this._term });
    this.timeoutNowSent = true;
  }

  /** Every preferredLeaderCheckTicks: a leader not preferred hands over to the least-lagging live preferred peer. */
  private maybeTransferToPreferred(): void {
    const preferred = this.limits.preferredLeaderIds;
    if (preferred.length === 0 || preferred.includes(this.id)) return;
    let best: string | null = null;
    let bestLag = Infinity;
    for (const p of preferred) {
      const pr = this.progress.get(p);
      if (!pr) continue;
      const heard = pr.heardSinceCheck;
      pr.heardSinceCheck = false;
      const lag = this.log.lastIndex - pr.match;
      if (heard && pr.state === 'replicate' && lag <= this.limits.maxTransferLagEntries && lag < bestLag) {
        best = p;
        bestLag = lag;
      }
    }
    if (best === null || this._transferee !== null) {
      this.preferredAnnounced = null;
      return;
    }
    if (this.limits.announcePreferredTransfer && this.preferredAnnounced !== best) {
      // one check period for the application to write what it must and start the transfer itself
      this.preferredAnnounced = best;
      return;
    }
    this.preferredAnnounced = null;
    this.transferLeadership(best, true);
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.progress.get(m.from)!;
    pr.recentActive = true;
    pr.heardSinceCheck = true;
    if (!m.success) {
      let hint: number;
      if (m.conflictTerm < 0) hint = m.conflictIndex;
      else {
        const hi = Math.min(m.index, this.log.lastIndex);
        const lo = Math.max(pr.match + 1, this.log.firstIndex);
        const i = this.log.lastIndexWithTermAtMost(m.conflictTerm, lo, hi);
        hint = i >= lo && this.log.termAt(i) === m.conflictTerm ? i + 1 : m.conflictIndex;
      }
      if (pr.maybeDecrTo(m.index, hint)) this.sendAppend(m.from, true);
      return;
    }
    invariant(m.index <= this.log.lastIndex, `${m.from} acknowledged ${m.index}, past our last index ${this.log.lastIndex}`);
    if (pr.maybeUpdate(m.index) && pr.state === 'probe') pr.becomeReplicate();
    // A new commit index rides on the next append or heartbeat; nothing extra is sent for it.
    this.maybeCommit();
    if (m.from === this._transferee && !this.timeoutNowSent && pr.match === this.log.lastIndex) this.sendTimeoutNow(m.from);
    while (this.sendAppend(m.from, false)) {}
  }

  private handleHeartbeatResponse(from: string, lastIndex: number | undefined): void {
    const pr = this.progress.get(from)!;
    pr.recentActive = true;
    if (lastIndex !== undefined && Number.isSafeInteger(lastIndex) && lastIndex < pr.match) {
      // The follower holds less than it acknowledged: its data was wiped or its unsynced tail lost.
      // (A late response from before its last ack looks the same; one extra probe sorts that out.)
      pr.lostEntries(lastIndex);
    }
    pr.heardSinceCheck = true;
    if (pr.match >= this.log.lastIndex) {
      // Caught up and still in our term: a TimeoutNow we sent was lost, send it again.
      if (from === this._transferee && pr.match === this.log.lastIndex) this.sendTimeoutNow(from);
      return;
    }
    const first = this.log.firstIndex;
    if (pr.state === 'probe' || (first > 0 && pr.next - 1 < first)) {
      pr.probeSent = false;
      this.sendAppend(from, true, true);
    } else if (!pr.progressed) {
      this.probeStalled(from);
    } else {
      while (this.sendAppend(from, false)) {}
    }
  }

  /**
   * The pipeline to `to` made no progress: an append may be lost. An empty append at next-1
   * either succeeds or is rejected and sends the follower back to probing.
   */
  private probeStalled(to: string): void {
    const pr = this.progress.get(to)!;
    if (pr.state === 'probe') {
      if (!pr.probeSent) this.sendAppend(to, true, true);
      return;
    }
    const prev = pr.next - 1;
    if (this.log.firstIndex > 0 && prev < this.log.firstIndex) {
      this.sendAppend(to, true, true);
      return;
    }
    this.send({ type: 'append', from: this.id, to, term: this._term, prevIndex: prev, prevTerm: this.log.termAt(prev), entries: [], commit: this._commit });
  }

  private broadcastHeartbeat(): void {
    this.reportedBehind.clear();
    for (const p of this.others) {
      const pr = this.progress.get(p)!;
      this.send({ type: 'heartbeat', from: this.id, to: p, term: this._term, commit: Math.min(pr.match, this._commit) });
      pr.progressed = false;
    }
  }

  private quorumActive(): boolean {
    let active = 1;
    for (const p of this.others) {
      const pr = this.progress.get(p)!;
      if (pr.recentActive) active++;
      pr.activeLastRound = pr.recentActive;
      pr.recentActive = false;
    }
    return active >= this.quorum;
  }

  /** Commits the highest index a quorum holds, but only if it is of our term (Raft 5.4.2). */
  private maybeCommit(): boolean {
    const matches = [this.log.stableLastIndex];
    for (const p of this.others) matches.push(this.progress.get(p)!.match);
    matches.sort((a, b) => b - a);
    const q = matches[this.quorum - 1]!;
    if (q > this._commit && this.log.termAt(q) === this._term) {
      this._commit = q;
      return true;
    }
    return false;
  }

  private hardStateChanged(): boolean {
    return this._term !== this.persisted.term || this._votedFor !== this.persisted.votedFor;
  }

  private send(m: RaftMessage): void {
    this.outbox.push(m);
  }
}
