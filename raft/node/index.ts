// raft/node: a RaftCore driven by timers, the storage log and the TCP transport.
export { RaftNode, MESSAGE_MAGIC, DEFAULT_NODE_LIMITS, type RaftNodeOptions, type RaftNodeStatus, type RoleChange, type ProposedEntry, type TransportLimits } from './RaftNode.js';
export { LeaderTransferRefusedError, LeaderTransferringError, NotLeaderError, TermChangedError, ProposalTimeoutError, RaftNodeBusyError, RaftNodeClosedError } from './errors.js';
export { RangeQueue, type IndexRange } from './RangeQueue.js';
export { DEFAULT_TIMING, RaftTimingError, resolveTiming, timingFromProperties, type RaftTiming } from './RaftTiming.js';
