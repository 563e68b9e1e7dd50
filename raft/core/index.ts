// raft/core: the pure Raft state machine and the types raft/node needs to drive it.
export { RaftCore, type ProposeResult, type TransferResult, type RaftCoreCounters } from './RaftCore.js';
export type { Ready, Role, SoftState } from './Ready.js';
export type { LogView } from './LogView.js';
export { NOOP_MAGIC, ENTRY_OVERHEAD, entrySize, type RaftEntry, type PendingEntry, type Proposal } from './RaftEntry.js';
export type { RaftMessage, VoteRequest, VoteResponse, AppendRequest, AppendResponse, Heartbeat, HeartbeatResponse, TimeoutNow } from './RaftMessage.js';
export { INITIAL_HARD_STATE, type HardState } from './HardState.js';
export { DEFAULT_RAFT_LIMITS, MAX_PEERS, RaftConfigError, validateMembership, type RaftCoreOptions, type RaftLimits } from './RaftConfig.js';
export { SeededRandom, type RandomSource } from './SeededRandom.js';
export { RaftInvariantError } from './RaftInvariantError.js';
export { Progress, type ProgressState } from './Progress.js';
export { parseDLedgerPeers, parsePreferredLeaderIds, type DLedgerPeer } from './DLedgerPeers.js';
export {
  DEFAULT_RAFT_TIMING,
  electionTimeoutRangeMs,
  msToTicks,
  resolveTiming,
  ticksToMs,
  timingFromProperties,
  timingToCoreOptions,
  type RaftTimingConfig,
} from './RaftTiming.js';
