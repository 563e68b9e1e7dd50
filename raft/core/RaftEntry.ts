// Entry shapes the core handles. Indexes start at 0 as in DLedger; "no entry" is index -1, term -1.

/** Entry kind values, equal to storage/log/entryCodec.ts EntryMagic (checked by a test). */
export const NOOP_MAGIC = 2;

/** An entry already placed in some log: `pos` was assigned by the leader's log and is identical on every replica. */
export interface RaftEntry {
  index: number;
  term: number;
  magic: number;
  pos: number;
  body: Uint8Array;
  /**
   * The body's CRC-32 (signed) as the log that placed the entry stores it, when known; absent or
   * 0 when not. The core never reads it: it travels with the entry so that a follower's log stores
   * the leader's CRC instead of hashing the body again.
   */
  bodyCrc?: number;
}

/**
 * An entry the caller must append. `pos` is set for entries replicated from a leader (the local
 * log must place it exactly there) and absent for the leader's own proposals (its log assigns it).
 */
export interface PendingEntry {
  index: number;
  term: number;
  magic: number;
  pos?: number;
  body: Uint8Array;
  /** as in RaftEntry: set on entries replicated from a leader that sent it */
  bodyCrc?: number;
}

/** What a client proposes: the leader fills in term and index. */
export interface Proposal {
  magic: number;
  body: Uint8Array;
}

/** Bytes an entry takes on disk and on the wire (DLedger's 48-byte header + body): the unit of every byte limit. */
export const ENTRY_OVERHEAD = 48;

export function entrySize(e: { body: Uint8Array }): number {
  return ENTRY_OVERHEAD + e.body.byteLength;
}
