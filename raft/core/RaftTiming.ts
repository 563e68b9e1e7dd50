// Real time <-> core ticks. The core counts ticks of tickIntervalMs; raft/node hands them over by the clock.
// Operators configure milliseconds with DLedger's key names where DLedger has one, so a
// RocketMQ-on-DLedger broker.conf keeps its meaning (only the defaults are faster).
import { parsePreferredLeaderIds } from './DLedgerPeers.js';
import { RaftConfigError, type RaftCoreOptions } from './RaftConfig.js';

export interface RaftTimingConfig {
  /** (ours) real time of one core tick */
  tickIntervalMs: number;
  /** DLedger heartBeatTimeIntervalMs: leader heartbeat period (DLedger default 2000) */
  heartBeatTimeIntervalMs: number;
  /** DLedger maxHeartBeatLeak: heartbeat periods without a leader before a follower campaigns, and without a quorum before a leader steps down (DLedger default 3) */
  maxHeartBeatLeak: number;
  /** DLedger minVoteIntervalMs / maxVoteIntervalMs: the random part added to the election timeout (DLedger 300 / 1000) */
  minVoteIntervalMs: number;
  maxVoteIntervalMs: number;
  /** DLedger leadershipTransferWaitTimeout: a transfer not done by then is aborted and writes resume (DLedger 1000) */
  leadershipTransferWaitTimeout: number;
  /** DLedger maxLeadershipTransferWaitIndex: refuse a transfer to a peer further behind (DLedger 1000) */
  maxLeadershipTransferWaitIndex: number;
  /** DLedger preferredLeaderIds (`;`-separated; RocketMQ's broker key is preferredLeaderId) */
  preferredLeaderIds: string | null;
  /** (ours) how often a leader that is not preferred looks for a preferred peer (DLedger: fixed 1 s) */
  preferredLeaderCheckIntervalMs: number;
  /** DLedger isEnableBatchPush (RocketMQ broker key enableBatchPush): hold appends to batch them */
  isEnableBatchPush: boolean;
  /** DLedger maxBatchPushSize: bytes that end a batch at once (DLedger 4096) */
  maxBatchPushSize: number;
  /** DLedger 0.4 maxBatchAppendIntervalMs: the longest an append is held (DLedger 1000) */
  maxBatchAppendIntervalMs: number;
}

/**
 * Defaults: a dead leader is noticed after 6 missed 100 ms heartbeats plus 200-600 ms of
 * random delay, so a follower campaigns 0.8-1.2 s after the leader's last heartbeat.
 */
export const DEFAULT_RAFT_TIMING: Readonly<RaftTimingConfig> = Object.freeze({
  tickIntervalMs: 50,
  heartBeatTimeIntervalMs: 100,
  maxHeartBeatLeak: 6,
  minVoteIntervalMs: 200,
  maxVoteIntervalMs: 600,
  leadershipTransferWaitTimeout: 1000,
  maxLeadershipTransferWaitIndex: 1000,
  preferredLeaderIds: null,
  preferredLeaderCheckIntervalMs: 1000,
  isEnableBatchPush: false,
  maxBatchPushSize: 64 * 1024,
  maxBatchAppendIntervalMs: 50,
});

/** Whole ticks covering ms (at least one). */
export function msToTicks(ms: number, tickIntervalMs: number): number {
  if (!(tickIntervalMs > 0)) throw new RaftConfigError(`tickIntervalMs must be positive, got ${tickIntervalMs}`);
  if (!Number.isFinite(ms) || ms < 0) throw new RaftConfigError(`a duration must be a non-negative number of ms, got ${ms}`);
  return Math.max(1, Math.ceil(ms / tickIntervalMs));
}

export function ticksToMs(ticks: number, tickIntervalMs: number): number {
  return ticks * tickIntervalMs;
}

const NUMBER_KEYS = [
  'tickIntervalMs',
  'heartBeatTimeIntervalMs',
  'maxHeartBeatLeak',
  'minVoteIntervalMs',
  'maxVoteIntervalMs',
  'leadershipTransferWaitTimeout',
  'maxLeadershipTransferWaitIndex',
  'preferredLeaderCheckIntervalMs',
  'maxBatchPushSize',
  'maxBatchAppendIntervalMs',
] as const;

/** Upper bound on every duration key: an hour is already far past anything sensible. */
const MAX_MS = 3_600_000;

/** Fills defaults and checks ranges and relations; errors name the key. */
export function resolveTiming(partial: Partial<RaftTimingConfig> = {}): RaftTimingConfig {
  const t: RaftTimingConfig = { ...DEFAULT_RAFT_TIMING };
  for (const k of Object.keys(t) as (keyof RaftTimingConfig)[]) {
    const v = partial[k];
    if (v !== undefined) (t as unknown as Record<string, unknown>)[k] = v;
  }
  for (const k of NUMBER_KEYS) {
    const v = t[k];
    const min = k === 'minVoteIntervalMs' || k === 'maxLeadershipTransferWaitIndex' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || (k !== 'maxLeadershipTransferWaitIndex' && k !== 'maxBatchPushSize' && v > MAX_MS)) {
      throw new RaftConfigError(`${k} must be an integer in ${min}..${MAX_MS}, got ${String(v)}`);
    }
  }
  if (t.heartBeatTimeIntervalMs < t.tickIntervalMs) throw new RaftConfigError(`heartBeatTimeIntervalMs (${t.heartBeatTimeIntervalMs}) is below one tick (tickIntervalMs ${t.tickIntervalMs})`);
  if (t.maxHeartBeatLeak < 2) throw new RaftConfigError(`maxHeartBeatLeak must be at least 2, got ${t.maxHeartBeatLeak}`);
  if (t.maxVoteIntervalMs <= t.minVoteIntervalMs) throw new RaftConfigError(`maxVoteIntervalMs (${t.maxVoteIntervalMs}) must be above minVoteIntervalMs (${t.minVoteIntervalMs})`);
  if (typeof t.isEnableBatchPush !== 'boolean') throw new RaftConfigError(`isEnableBatchPush must be true or false, got ${String(t.isEnableBatchPush)}`);
  parsePreferredLeaderIds(t.preferredLeaderIds);
  return t;
}

/** The core options a timing config stands for (spread them into RaftCoreOptions). */
export function timingToCoreOptions(timing: Partial<RaftTimingConfig> = {}, peers?: readonly string[]): Partial<RaftCoreOptions> {
  const t = resolveTiming(timing);
  const tick = t.tickIntervalMs;
  const heartbeatTicks = msToTicks(t.heartBeatTimeIntervalMs, tick);
  const electionTicks = Math.max(heartbeatTicks + 1, msToTicks(t.heartBeatTimeIntervalMs * t.maxHeartBeatLeak + t.minVoteIntervalMs, tick));
  return {
    heartbeatTicks,
    electionTicks,
    electionJitterTicks: msToTicks(t.maxVoteIntervalMs - t.minVoteIntervalMs, tick),
    transferTimeoutTicks: msToTicks(t.leadershipTransferWaitTimeout, tick),
    maxTransferLagEntries: t.maxLeadershipTransferWaitIndex,
    preferredLeaderIds: parsePreferredLeaderIds(t.preferredLeaderIds, peers),
    preferredLeaderCheckTicks: msToTicks(t.preferredLeaderCheckIntervalMs, tick),
    batchTicks: t.isEnableBatchPush ? msToTicks(t.maxBatchAppendIntervalMs, tick) : 0,
    batchBytes: t.maxBatchPushSize,
  };
}

/** When a follower campaigns after the leader's last heartbeat, in ms: [min, max). */
export function electionTimeoutRangeMs(timing: Partial<RaftTimingConfig> = {}): { minMs: number; maxMs: number } {
  const t = resolveTiming(timing);
  const o = timingToCoreOptions(t);
  return { minMs: ticksToMs(o.electionTicks!, t.tickIntervalMs), maxMs: ticksToMs(o.electionTicks! + o.electionJitterTicks!, t.tickIntervalMs) };
}

/**
 * Reads the timing keys from a properties map (broker.conf). Accepts RocketMQ's broker-side
 * spellings too: preferredLeaderId, enableBatchPush. Unknown keys are ignored (they belong to
 * other parts of the broker); present keys must parse.
 */
export function timingFromProperties(props: Readonly<Record<string, string | undefined>>): Partial<RaftTimingConfig> {
  const out: Partial<RaftTimingConfig> = {};
  for (const k of NUMBER_KEYS) {
    const v = props[k];
    if (v === undefined) continue;
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isSafeInteger(n)) throw new RaftConfigError(`${k}=${v} is not an integer`);
    out[k] = n;
  }
  const pref = props['preferredLeaderIds'] ?? props['preferredLeaderId'];
  if (pref !== undefined) out.preferredLeaderIds = pref.trim() === '' ? null : pref.trim();
  const batch = props['isEnableBatchPush'] ?? props['enableBatchPush'];
  if (batch !== undefined) {
    const b = batch.trim().toLowerCase();
    if (b !== 'true' && b !== 'false') throw new RaftConfigError(`enableBatchPush=${batch} is not true or false`);
    out.isEnableBatchPush = b === 'true';
  }
  return out;
}
