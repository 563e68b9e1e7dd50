// Messages between cores. Plain values: raft/transport encodes them (protobufjs schema in protocol/).
import type { RaftEntry } from './RaftEntry.js';

interface Envelope {
  from: string;
  to: string;
  term: number;
}

/** RequestVote; `pre` marks a pre-vote, sent with the term the candidate would use (no term change anywhere). */
export interface VoteRequest extends Envelope {
  type: 'vote';
  pre: boolean;
  lastIndex: number;
  lastTerm: number;
}

export interface VoteResponse extends Envelope {
  type: 'voteResponse';
  pre: boolean;
  granted: boolean;
}

export interface AppendRequest extends Envelope {
  type: 'append';
  prevIndex: number;
  prevTerm: number;
  entries: RaftEntry[];
  commit: number;
}

/**
 * success: `index` is the last index now known to match the leader's log.
 * rejection: `index` is the rejected prevIndex; conflictTerm is the follower's term there (-1 if
 * its log is shorter) and conflictIndex the first index of that term (or its lastIndex + 1).
 */
export interface AppendResponse extends Envelope {
  type: 'appendResponse';
  success: boolean;
  index: number;
  conflictTerm: number;
  conflictIndex: number;
}

/** `commit` is min(follower's match, leader's commit), so a follower never commits past what it matched. */
export interface Heartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResponse';
}

export type RaftMessage = VoteRequest | VoteResponse | AppendRequest | AppendResponse | Heartbeat | HeartbeatResponse;
