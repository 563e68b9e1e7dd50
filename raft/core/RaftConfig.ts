// Core options and their defaults. Ticks are abstract: raft/node maps one tick to real time.
import type { HardState } from './HardState.js';
import type { LogView } from './LogView.js';
import type { RandomSource } from './SeededRandom.js';

export class RaftConfigError extends Error {
  override name = 'RaftConfigError';
}

export interface RaftCoreOptions {
  id: string;
  /** every member, this node included (DLedger's dLegerPeers ids) */
  peers: readonly string[];
  log: LogView;
  random: RandomSource;
  /** the persisted term and vote; absent on first boot */
  hardState?: HardState;
  /** last index the state machine has applied (restart point); -1 on first boot */
  applied?: number;
  /** base election timeout; the real one is random in [electionTicks, 2 * electionTicks) */
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** limits per AppendEntries message */
  maxEntriesPerAppend?: number;
  maxBytesPerAppend?: number;
  /** limits per follower on messages and bytes sent but not acknowledged */
  maxInflightAppends?: number;
  maxInflightBytes?: number;
  /** limits on committed entries handed out in one Ready */
  maxApplyEntries?: number;
  maxApplyBytes?: number;
  /** proposals are refused (OVERLOADED) while this many entries wait to be persisted */
  maxUnpersistedEntries?: number;
  /**
   * width of the election timeout's random part: the timeout is random in
   * [electionTicks, electionTicks + electionJitterTicks). Default: electionTicks.
   */
  electionJitterTicks?: number;
  /** a leadership transfer that has not completed after this many ticks is aborted. Default: electionTicks */
  transferTimeoutTicks?: number;
  /** a transfer is refused when the target is more entries behind than this (DLedger maxLeadershipTransferWaitIndex) */
  maxTransferLagEntries?: number;
  /** DLedger preferredLeaderIds: a leader not among them hands over to a caught-up one of them */
  preferredLeaderIds?: readonly string[];
  /** how often (ticks) a leader that is not preferred looks for a preferred peer. Default: electionTicks */
  preferredLeaderCheckTicks?: number;
  /**
   * A leader that finds a preferred peer to hand over to announces it (preferredTransferAnnounced)
   * and starts the transfer only at the next check if nobody did meanwhile: the application can
   * write what it must before writes pause, then start it itself. Default: false (at once).
   */
  announcePreferredTransfer?: boolean;
  /**
   * Batching by time: a leader holds new entries for a follower in the pipeline for up to
   * batchTicks ticks or until batchBytes are waiting. 0 (default) sends at once.
   */
  batchTicks?: number;
  batchBytes?: number;
  /**
   * Extra election timeouts a node with an empty log and no term waits before its first
   * campaign. When a store from an old group joins two new empty nodes, its holder campaigns
   * first and wins, and the empty nodes receive its log instead of electing each other. 0 (default): none.
   */
  freshStartElectionRounds?: number;
}

export type RaftLimits = Required<Omit<RaftCoreOptions, 'id' | 'peers' | 'log' | 'random' | 'hardState' | 'applied'>>;

export const DEFAULT_RAFT_LIMITS: Readonly<RaftLimits> = Object.freeze({
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 1024,
  maxBytesPerAppend: 1024 * 1024,
  maxInflightAppends: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxApplyEntries: 4096,
  maxApplyBytes: 16 * 1024 * 1024,
  maxUnpersistedEntries: 65536,
  electionJitterTicks: 10,
  transferTimeoutTicks: 10,
  maxTransferLagEntries: 1000,
  preferredLeaderIds: Object.freeze([]) as readonly string[],
  preferredLeaderCheckTicks: 10,
  announcePreferredTransfer: false,
  batchTicks: 0,
  batchBytes: 64 * 1024,
  freshStartElectionRounds: 0,
});

/** Options whose default is electionTicks (so that changing electionTicks alone scales them). */
const FOLLOW_ELECTION_TICKS = ['electionJitterTicks', 'transferTimeoutTicks', 'preferredLeaderCheckTicks'] as const;

/** The most members a static group may have; Raft groups beyond 7 pay in latency for nothing. */
export const MAX_PEERS = 9;
const PEER_ID = /^n\d{1,9}$/;

/** Static membership as dLegerPeers gives it: ids `n<digits>`, unique, self among them. */
export function validateMembership(selfId: string, peers: readonly string[]): void {
  if (peers.length === 0) throw new RaftConfigError('the peer list is empty');
  if (peers.length > MAX_PEERS) throw new RaftConfigError(`${peers.length} peers exceed the limit of ${MAX_PEERS}`);
  const seen = new Set<string>();
  for (const p of peers) {
    if (!PEER_ID.test(p)) throw new RaftConfigError(`peer id "${p}" is not of the form n<digits> (dLegerPeers)`);
    if (seen.has(p)) throw new RaftConfigError(`peer id "${p}" appears twice`);
    seen.add(p);
  }
  if (!seen.has(selfId)) throw new RaftConfigError(`self id "${selfId}" (dLegerSelfId) is not among the peers ${peers.join(',')}`);
}

export function resolveLimits(opts: RaftCoreOptions): RaftLimits {
  const l: RaftLimits = { ...DEFAULT_RAFT_LIMITS };
  for (const k of Object.keys(l) as (keyof RaftLimits)[]) {
    const v = opts[k];
    if (v !== undefined) (l as unknown as Record<string, unknown>)[k] = v;
  }
  const positive: (keyof RaftLimits)[] = ['electionTicks', 'heartbeatTicks', 'maxEntriesPerAppend', 'maxBytesPerAppend', 'maxInflightAppends', 'maxInflightBytes', 'maxApplyEntries', 'maxApplyBytes', 'maxUnpersistedEntries'];
  for (const k of positive) checkInt(k, l[k], 1);
  for (const k of FOLLOW_ELECTION_TICKS) {
    if (opts[k] === undefined) l[k] = l.electionTicks;
    checkInt(k, l[k], 1);
  }
  checkInt('maxTransferLagEntries', l.maxTransferLagEntries, 0);
  checkInt('batchTicks', l.batchTicks, 0);
  checkInt('freshStartElectionRounds', l.freshStartElectionRounds, 0);
  checkInt('batchBytes', l.batchBytes, 0);
  if (l.heartbeatTicks >= l.electionTicks) throw new RaftConfigError(`heartbeatTicks (${l.heartbeatTicks}) must be below electionTicks (${l.electionTicks})`);
  if (typeof l.announcePreferredTransfer !== 'boolean') throw new RaftConfigError(`announcePreferredTransfer must be true or false, got ${String(l.announcePreferredTransfer)}`);
  if (!Array.isArray(l.preferredLeaderIds)) throw new RaftConfigError('preferredLeaderIds must be a list of peer ids');
  const peers = new Set(opts.peers);
  for (const p of l.preferredLeaderIds) {
    if (!peers.has(p)) throw new RaftConfigError(`preferred leader "${p}" (preferredLeaderIds) is not among the peers ${opts.peers.join(',')}`);
  }
  l.preferredLeaderIds = Object.freeze([...new Set(l.preferredLeaderIds)]);
  return l;
}

function checkInt(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RaftConfigError(`${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${String(v)}`);
  }
}
