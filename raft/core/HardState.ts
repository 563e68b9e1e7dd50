// Term and vote: one record, persisted (fsynced) before any message that depends on it is sent.

export interface HardState {
  term: number;
  /** the peer this node voted for in `term`, or null */
  votedFor: string | null;
}

export const INITIAL_HARD_STATE: HardState = Object.freeze({ term: 0, votedFor: null });
