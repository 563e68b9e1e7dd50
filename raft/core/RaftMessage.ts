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
  /**
   * true when the candidate campaigns because the leader handed over (TimeoutNow): voters then
   * grant even while they still hear from that leader (its lease). Absent means false.
   */
  transfer?: boolean;
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

/**
 * `lastIndex` is the follower's last log index (-1 when empty). It lets the leader notice a
 * follower that lost entries it had acknowledged (data wiped, unsynced tail lost in a crash) and
 * resend them while the group is idle. Absent (an older sender) means unknown.
 */
export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResponse';
  lastIndex?: number;
}

/**
 * Leadership transfer: the leader tells a caught-up follower to campaign at once, skipping
 * pre-vote (sent in the leader's term; a stale one is ignored by the usual term check).
 */
export interface TimeoutNow extends Envelope {
  type: 'timeoutNow';
}

export type RaftMessage = VoteRequest | VoteResponse | AppendRequest | AppendResponse | Heartbeat | HeartbeatResponse | TimeoutNow;
