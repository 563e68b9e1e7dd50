// Reconnect delays: exponential from minMs, capped at maxMs, with jitter in [delay/2, delay]
// so that peers that lost a link at the same moment do not redial in lock step.

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** a value in [0, 1) */
  random: () => number;
}

/** Delay before reconnect attempt number `attempt` (0 = the first retry after a failure). */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const exp = Math.min(o.maxMs, o.minMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(exp / 2 + (exp / 2) * o.random()));
}
