// raft/core's RaftMessage and protocol/raft's RaftWireMessage describe the same messages; the
// assignments below fail to compile if the two drift apart.
import type { RaftMessage } from '../core/index.js';
import type { RaftWireMessage } from '../../protocol/raft/index.js';

type CoreTypes = RaftMessage['type'];

// every core message can be encoded
const _coreToWire = (m: RaftMessage): RaftWireMessage => m;
void _coreToWire;

/** A decoded message as the core takes it, or null for a kind the core does not handle yet. */
export function toCoreMessage(m: RaftWireMessage): RaftMessage | null {
  return CORE_TYPES.has(m.type) ? (m as Extract<RaftWireMessage, { type: CoreTypes }>) : null;
}

const CORE_TYPES: ReadonlySet<string> = new Set<CoreTypes>(['vote', 'voteResponse', 'append', 'appendResponse', 'heartbeat', 'heartbeatResponse', 'timeoutNow']);
