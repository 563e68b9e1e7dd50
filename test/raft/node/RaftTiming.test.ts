import t from 'tap';
import { RaftTimingError, resolveTiming, timingFromProperties } from '../../../raft/node/index.js';

t.test('defaults: 10 ms ticks, a heartbeat every 100 ms, a campaign after 5 missed beats (about a second to detect)', async (t) => {
  const r = resolveTiming();
  t.same(r.timing, { tickIntervalMs: 10, heartBeatTimeIntervalMs: 100, maxHeartBeatLeak: 5, electionTimeoutMs: 500, maxWaitAckTimeMs: 2500, checkPointInterval: 3000, flushIntervalCommitLog: 500 });
  t.equal(r.heartbeatTicks, 10);
  t.equal(r.electionTicks, 50, 'the core campaigns after a random 50..99 ticks: 500..990 ms');
});

t.test("DLedger's keys set the timers; the election timeout follows heartbeat x leak unless given", async (t) => {
  const r = resolveTiming(timingFromProperties(new Map([['heartBeatTimeIntervalMs', '2000'], ['maxHeartBeatLeak', '3'], ['maxWaitAckTimeMs', '2500'], ['brokerName', 'x']])));
  t.equal(r.timing.electionTimeoutMs, 6000, "DLedger's own defaults give its 6 s");
  t.equal(r.electionTicks, 600);
  t.equal(resolveTiming({ electionTimeoutMs: 300 }).electionTicks, 30);
});

t.test('refused: a heartbeat not below the election timeout, non-integers, bad property values', async (t) => {
  t.throws(() => resolveTiming({ heartBeatTimeIntervalMs: 500, electionTimeoutMs: 500 }), RaftTimingError);
  t.throws(() => resolveTiming({ tickIntervalMs: 0 }), RaftTimingError);
  t.throws(() => resolveTiming({ maxWaitAckTimeMs: 1.5 }), RaftTimingError);
  t.throws(() => timingFromProperties(new Map([['tickIntervalMs', '10ms']])), RaftTimingError);
});
