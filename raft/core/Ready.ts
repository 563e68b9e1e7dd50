// What the caller must do, in this order: persist hardState (fsync), truncate the log from
// truncateFrom, append entries (as durable as the flush policy demands); only then send
// messages (they may depend on all of the above); apply committed; call advance(ready).
//
// One exception: a leader's appends and heartbeats may be sent as soon as hardState is persisted
// and the entries are placed in the log (pos and bodyCrc filled in on the Ready's entry objects,
// which the appends share), before the entries' write completes. The leader's own entries count
// toward a quorum only after advance(); the followers' answers come after their own writes.
import type { HardState } from './HardState.js';
import type { PendingEntry, RaftEntry } from './RaftEntry.js';
import type { RaftMessage } from './RaftMessage.js';

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  role: Role;
  leaderId: string | null;
  term: number;
  commitIndex: number;
}

export interface Ready {
  /** present when term or vote changed since the last persisted record */
  hardState?: HardState;
  truncateFrom?: number;
  entries: PendingEntry[];
  messages: RaftMessage[];
  /** committed entries to apply, in index order, continuing from the last applied */
  committed: RaftEntry[];
  softState: SoftState;
  /**
   * Followers that need entries from before this leader's first log index (retention dropped
   * them): the caller copies segments to them (catch-up outside Raft). Present when non-empty;
   * repeated about once per heartbeat while the follower stays behind.
   */
  behindLogStart?: string[];
}
