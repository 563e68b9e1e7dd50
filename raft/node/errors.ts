// Why a proposal failed. A caller tells them apart by class or by `code`.

/** This node is not the leader. leaderId / leaderAddress name the leader when it is known. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  readonly code = 'NOT_LEADER';
  constructor(
    readonly leaderId: string | null,
    /** `host:port` of the leader's Raft port (dLegerPeers) */
    readonly leaderAddress: string | null,
  ) {
    super(leaderId ? `not the leader; the leader is ${leaderId} at ${leaderAddress ?? 'an unknown address'}` : 'not the leader; no leader is known');
  }
}

/**
 * The term changed, or this node stopped leading, before the proposal committed (DLedger's TERM_CHANGED, 501). The outcome is
 * unknown: the entries may still commit under the new leader, or be replaced.
 */
export class TermChangedError extends Error {
  override readonly name = 'TermChangedError';
  readonly code = 'TERM_CHANGED';
  constructor(
    readonly proposedTerm: number,
    readonly currentTerm: number,
  ) {
    super(
      proposedTerm === currentTerm
        ? `leadership of term ${proposedTerm} was lost before the proposal committed; it may or may not commit`
        : `term changed from ${proposedTerm} to ${currentTerm} before the proposal committed; it may or may not commit`,
    );
  }
}

/** No quorum acknowledged the proposal within maxWaitAckTimeMs (DLedger's WAIT_QUORUM_ACK_TIMEOUT, 502). The outcome is unknown. */
export class ProposalTimeoutError extends Error {
  override readonly name = 'ProposalTimeoutError';
  readonly code = 'PROPOSAL_TIMEOUT';
  constructor(
    readonly firstIndex: number,
    readonly timeoutMs: number,
  ) {
    super(`proposal at index ${firstIndex} did not commit within ${timeoutMs} ms (maxWaitAckTimeMs)`);
  }
}

/** A limit on waiting work was hit (DLedger's LEADER_PENDING_FULL, 503); nothing was proposed. */
export class RaftNodeBusyError extends Error {
  override readonly name = 'RaftNodeBusyError';
  readonly code = 'BUSY';
  constructor(
    readonly limit: string,
    readonly value: number,
  ) {
    super(`raft node busy: ${limit} (${value}) reached`);
  }
}

/** Writes pause while leadership moves to `transferee` (bounded by the election timeout); retry on the new leader. */
export class LeaderTransferringError extends Error {
  override readonly name = 'LeaderTransferringError';
  readonly code = 'LEADER_TRANSFERRING';
  constructor(readonly transferee: string) {
    super(`leadership is being transferred to ${transferee}; writes pause until it takes office`);
  }
}

/** The node is closed or failed (a log write failed: it stops rather than diverge). */
export class RaftNodeClosedError extends Error {
  override readonly name = 'RaftNodeClosedError';
  readonly code = 'CLOSED';
}

/** A leadership transfer did not happen: refused by the core (NOT_LEADER, SELF, UNKNOWN_PEER, TRANSFER_IN_PROGRESS, TARGET_TOO_FAR_BEHIND), ABORTED or TIMEOUT. */
export class LeaderTransferRefusedError extends Error {
  override readonly name = 'LeaderTransferRefusedError';
  readonly code = 'TRANSFER_REFUSED';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`leadership transfer refused: ${message}`);
  }
}
