// Timers of a node in milliseconds, named after DLedger's keys where DLedger has one, and their
// translation into the core's ticks. Defaults detect a dead leader in about a second: with a
// heartbeat every 100 ms and 5 missed beats, a follower campaigns after a random 500..1000 ms
// of silence (the core draws the timeout in [electionTicks, 2 * electionTicks)).

export interface RaftTiming {
  /** one core tick (DLedger's state loop runs every 10 ms) */
  tickIntervalMs: number;
  /** leader heartbeat period (DLedger heartBeatTimeIntervalMs, there 2000) */
  heartBeatTimeIntervalMs: number;
  /** missed heartbeats before a follower campaigns (DLedger maxHeartBeatLeak, there 3) */
  maxHeartBeatLeak: number;
  /** base election timeout; default heartBeatTimeIntervalMs * maxHeartBeatLeak. Also the leader's check-quorum period */
  electionTimeoutMs: number;
  /** a proposal fails with ProposalTimeoutError after this (DLedger maxWaitAckTimeMs) */
  maxWaitAckTimeMs: number;
  /** the `checkpoint` file (committedIndex, endIndex) is rewritten this often (DLedger checkPointInterval) */
  checkPointInterval: number;
  /** background fsync period in ASYNC_FLUSH (RocketMQ flushIntervalCommitLog) */
  flushIntervalCommitLog: number;
}

export const DEFAULT_TIMING: Readonly<Omit<RaftTiming, 'electionTimeoutMs'>> = Object.freeze({
  tickIntervalMs: 10,
  heartBeatTimeIntervalMs: 100,
  maxHeartBeatLeak: 5,
  maxWaitAckTimeMs: 2500,
  checkPointInterval: 3000,
  flushIntervalCommitLog: 500,
});

export class RaftTimingError extends Error {
  override name = 'RaftTimingError';
}

export interface TimingTicks {
  timing: RaftTiming;
  electionTicks: number;
  heartbeatTicks: number;
}

export function resolveTiming(t: Partial<RaftTiming> = {}): TimingTicks {
  const merged = { ...DEFAULT_TIMING, ...definedOnly(t) };
  const timing: RaftTiming = { ...merged, electionTimeoutMs: t.electionTimeoutMs ?? merged.heartBeatTimeIntervalMs * merged.maxHeartBeatLeak };
  for (const [k, v] of Object.entries(timing)) {
    if (!Number.isInteger(v) || v < 1 || v > 3_600_000) throw new RaftTimingError(`${k} must be an integer number of ms in 1..3600000, got ${String(v)}`);
  }
  const heartbeatTicks = Math.max(1, Math.round(timing.heartBeatTimeIntervalMs / timing.tickIntervalMs));
  const electionTicks = Math.max(1, Math.round(timing.electionTimeoutMs / timing.tickIntervalMs));
  if (heartbeatTicks >= electionTicks) {
    throw new RaftTimingError(`heartBeatTimeIntervalMs (${timing.heartBeatTimeIntervalMs}) must be below the election timeout (${timing.electionTimeoutMs}) by at least one tick (${timing.tickIntervalMs} ms)`);
  }
  return { timing, electionTicks, heartbeatTicks };
}

/** Reads the timing keys from properties (a broker or node config file); unknown keys are ignored. */
export function timingFromProperties(p: ReadonlyMap<string, string>): Partial<RaftTiming> {
  const out: Partial<RaftTiming> = {};
  const keys: (keyof RaftTiming)[] = ['tickIntervalMs', 'heartBeatTimeIntervalMs', 'maxHeartBeatLeak', 'electionTimeoutMs', 'maxWaitAckTimeMs', 'checkPointInterval', 'flushIntervalCommitLog'];
  for (const k of keys) {
    const v = p.get(k);
    if (v === undefined) continue;
    if (!/^\d+$/.test(v.trim())) throw new RaftTimingError(`${k}=${v} is not a whole number of ms`);
    out[k] = Number(v.trim());
  }
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
