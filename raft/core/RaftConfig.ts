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
});

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
  for (const k of positive) {
    const v = l[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new RaftConfigError(`${k} must be a positive integer, got ${String(v)}`);
  }
  if (l.heartbeatTicks >= l.electionTicks) throw new RaftConfigError(`heartbeatTicks (${l.heartbeatTicks}) must be below electionTicks (${l.electionTicks})`);
  return l;
}
