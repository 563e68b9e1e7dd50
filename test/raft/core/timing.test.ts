// dLegerPeers parsing and the millisecond <-> tick mapping under DLedger's key names.
import t from 'tap';
import {
  DEFAULT_RAFT_TIMING,
  RaftConfigError,
  RaftCore,
  SeededRandom,
  electionTimeoutRangeMs,
  msToTicks,
  parseDLedgerPeers,
  parsePreferredLeaderIds,
  resolveTiming,
  timingFromProperties,
  timingToCoreOptions,
} from '../../../raft/core/index.js';
import { MemoryLog } from '../helpers/MemoryLog.js';

t.test('dLegerPeers as the sample broker-n0.conf writes it', async (t) => {
  const peers = parseDLedgerPeers('n0-127.0.0.1:40911;n1-127.0.0.1:40912;n2-127.0.0.1:40913', 'n1');
  t.same(peers.map((p) => [p.id, p.host, p.port, p.address]), [
    ['n0', '127.0.0.1', 40911, '127.0.0.1:40911'],
    ['n1', '127.0.0.1', 40912, '127.0.0.1:40912'],
    ['n2', '127.0.0.1', 40913, '127.0.0.1:40913'],
  ]);
  t.same(parseDLedgerPeers(' n0-broker-a.example:1 ; n1-[::1]:2 ;').map((p) => [p.id, p.host, p.port]), [['n0', 'broker-a.example', 1], ['n1', '::1', 2]], 'host names with dashes, IPv6 in brackets, a trailing ;');
});

t.test('dLegerPeers errors name the offending part', async (t) => {
  const bad: [string, string | undefined, RegExp][] = [
    ['', undefined, /empty/],
    ['n0-127.0.0.1', undefined, /no host:port/],
    ['n0127.0.0.1:1', undefined, /<id>-<host>:<port>/],
    ['n0-127.0.0.1:0', undefined, /port "0"/],
    ['n0-127.0.0.1:70000', undefined, /port "70000"/],
    ['n0-h:1;n0-h:2', undefined, /"n0" appears twice/],
    ['n0-h:1;n1-h:1', undefined, /h:1 appears twice/],
    ['x0-h:1', undefined, /n<digits>/],
    ['n0-h:1;n1-h:2', 'n2', /self id "n2"/],
    ['n0-::1:5', undefined, /brackets/],
  ];
  for (const [text, self, msg] of bad) t.throws(() => parseDLedgerPeers(text, self), { name: 'RaftConfigError', message: msg }, JSON.stringify(text));
});

t.test('preferredLeaderIds', async (t) => {
  t.same(parsePreferredLeaderIds(null), []);
  t.same(parsePreferredLeaderIds(''), []);
  t.same(parsePreferredLeaderIds('n1;n2,n1'), ['n1', 'n2']);
  t.throws(() => parsePreferredLeaderIds('n5', ['n0', 'n1']), RaftConfigError);
  t.throws(() => parsePreferredLeaderIds('leader'), RaftConfigError);
  t.throws(() => new RaftCore({ id: 'n0', peers: ['n0', 'n1', 'n2'], log: new MemoryLog(), random: new SeededRandom(1), preferredLeaderIds: ['n3'] }), /preferredLeaderIds/);
});

t.test('default timing: a dead leader is noticed in about one second', async (t) => {
  const o = timingToCoreOptions();
  t.same(
    { e: o.electionTicks, j: o.electionJitterTicks, h: o.heartbeatTicks, tr: o.transferTimeoutTicks, b: o.batchTicks },
    { e: 16, j: 8, h: 2, tr: 20, b: 0 },
    '50 ms ticks: heartbeat 100 ms, election 800-1200 ms, transfer pause at most 1 s, no batching',
  );
  t.same(electionTimeoutRangeMs(), { minMs: 800, maxMs: 1200 });
  t.equal(DEFAULT_RAFT_TIMING.heartBeatTimeIntervalMs, 100);
  const core = new RaftCore({ id: 'n0', peers: ['n0', 'n1', 'n2'], log: new MemoryLog(), random: new SeededRandom(3), ...o });
  t.equal(core.limits.electionTicks, 16);
  t.equal(core.limits.electionJitterTicks, 8);
  // a follower that hears nothing campaigns within [16, 24) ticks
  let ticks = 0;
  while (core.role === 'follower' && ticks < 100) {
    core.tick();
    ticks++;
  }
  t.ok(ticks >= 16 && ticks < 24, `campaigned after ${ticks} ticks`);
});

t.test("DLedger's own defaults map to its 6-7 s failover", async (t) => {
  const dledger = { tickIntervalMs: 10, heartBeatTimeIntervalMs: 2000, maxHeartBeatLeak: 3, minVoteIntervalMs: 300, maxVoteIntervalMs: 1000, isEnableBatchPush: true, maxBatchPushSize: 4096, maxBatchAppendIntervalMs: 1000 };
  t.same(electionTimeoutRangeMs(dledger), { minMs: 6300, maxMs: 7000 });
  const o = timingToCoreOptions(dledger);
  t.equal(o.heartbeatTicks, 200);
  t.equal(o.batchTicks, 100);
  t.equal(o.batchBytes, 4096);
});

t.test('timing is read from broker.conf keys and validated', async (t) => {
  const props = { heartBeatTimeIntervalMs: '200', maxHeartBeatLeak: '4', preferredLeaderId: 'n1', enableBatchPush: 'true', maxBatchAppendIntervalMs: '100', brokerName: 'RaftNode00' };
  const got = timingFromProperties(props);
  t.same(got, { heartBeatTimeIntervalMs: 200, maxHeartBeatLeak: 4, maxBatchAppendIntervalMs: 100, preferredLeaderIds: 'n1', isEnableBatchPush: true });
  const o = timingToCoreOptions(got, ['n0', 'n1', 'n2']);
  t.same(o.preferredLeaderIds, ['n1']);
  t.equal(o.heartbeatTicks, 4);
  t.equal(o.batchTicks, 2);
  t.throws(() => timingFromProperties({ maxHeartBeatLeak: 'three' }), /maxHeartBeatLeak=three/);
  t.throws(() => timingFromProperties({ enableBatchPush: 'yes' }), /enableBatchPush/);
  t.throws(() => resolveTiming({ heartBeatTimeIntervalMs: 20 }), /below one tick/);
  t.throws(() => resolveTiming({ minVoteIntervalMs: 500, maxVoteIntervalMs: 500 }), /maxVoteIntervalMs/);
  t.throws(() => resolveTiming({ maxHeartBeatLeak: 1 }), /at least 2/);
  t.throws(() => resolveTiming({ tickIntervalMs: 0 }), RaftConfigError);
  t.throws(() => timingToCoreOptions({ preferredLeaderIds: 'n9' }, ['n0', 'n1']), /not among the peers/);
  t.equal(msToTicks(1, 50), 1, 'a duration shorter than a tick is one tick');
  t.equal(msToTicks(101, 50), 3, 'rounded up');
});
