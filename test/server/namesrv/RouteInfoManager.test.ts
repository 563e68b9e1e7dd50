import t from 'tap';
import { topicConfig, Perm } from '../../../protocol/body/TopicConfig.js';
import { RouteInfoManager, type RegisterBrokerInput } from '../../../server/namesrv/RouteInfoManager.js';

const topics = (...names: string[]) => new Map(names.map((n) => [n, topicConfig(n, { readQueueNums: 8, writeQueueNums: 8 })]));

function reg(over: Partial<RegisterBrokerInput>): RegisterBrokerInput {
  return {
    clusterName: 'RaftCluster',
    brokerAddr: '127.0.0.1:30911',
    brokerName: 'RaftNode00',
    brokerId: 0,
    haServerAddr: '127.0.0.1:30912',
    dataVersion: { timestamp: 1, counter: 1 },
    topicConfigTable: topics('T1'),
    filterServerList: [],
    channel: 'c0',
    now: 1000,
    ...over,
  };
}

const addrs = (r: RouteInfoManager, name = 'RaftNode00') => [...(r.brokerAddrTable.get(name)?.brokerAddrs ?? new Map())].sort((a, b) => a[0] - b[0]);

t.test('a DLedger group: master at id 0, followers at n+1, failover moves id 0', async (t) => {
  const r = new RouteInfoManager();
  r.registerBroker(reg({ brokerAddr: 'A:1', brokerId: 0, channel: 'a' }));
  const follower = r.registerBroker(reg({ brokerAddr: 'B:1', brokerId: 2, channel: 'b', topicConfigTable: topics('T1', 'IGNORED') }));
  r.registerBroker(reg({ brokerAddr: 'C:1', brokerId: 3, channel: 'c' }));
  t.same(follower, { masterAddr: 'A:1', haServerAddr: '127.0.0.1:30912' }, 'a follower learns the master address');
  t.notOk(r.getRouteInfo('IGNORED'), "a follower's topic configs are not routes");
  t.same(addrs(r), [[0, 'A:1'], [2, 'B:1'], [3, 'C:1']]);

  // B is elected: it registers as 0 first; A's old id 0 is replaced, not duplicated.
  r.registerBroker(reg({ brokerAddr: 'B:1', brokerId: 0, channel: 'b' }));
  t.same(addrs(r), [[0, 'B:1'], [3, 'C:1']], 'the same address never holds two ids');
  // A comes back as a follower.
  r.registerBroker(reg({ brokerAddr: 'A:1', brokerId: 1, channel: 'a' }));
  t.same(addrs(r), [[0, 'B:1'], [1, 'A:1'], [3, 'C:1']]);
  // A late unregister from A as id 0 must not remove the new master.
  r.unregisterBroker('RaftCluster', 'A:1', 'RaftNode00', 0);
  t.same(addrs(r)[0], [0, 'B:1'], 'stale unregister of the old master leaves the new one');
  t.ok(r.getRouteInfo('T1'));
});

t.test('topic configs are applied when the data version changes', async (t) => {
  const r = new RouteInfoManager();
  r.registerBroker(reg({ topicConfigTable: topics('T1') }));
  r.registerBroker(reg({ topicConfigTable: topics('T1', 'T2') }));
  t.notOk(r.getRouteInfo('T2'), 'same data version: the table is not re-read');
  r.registerBroker(reg({ topicConfigTable: topics('T1', 'T2'), dataVersion: { timestamp: 1, counter: 2 } }));
  t.same(r.getRouteInfo('T2')?.queueDatas, [{ brokerName: 'RaftNode00', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }]);
});

t.test('expiry after the timeout, measured with the given clock', async (t) => {
  const r = new RouteInfoManager(120_000);
  r.registerBroker(reg({ brokerAddr: 'A:1', now: 0 }));
  r.registerBroker(reg({ brokerAddr: 'B:1', brokerId: 2, now: 60_000, channel: 'b' }));
  t.same(r.scanNotActiveBroker(120_000), [], 'not yet: exactly at the limit is alive');
  t.same(r.scanNotActiveBroker(120_001), [{ addr: 'A:1', channel: 'c0' }]);
  t.same(addrs(r), [[2, 'B:1']], 'the route has no master until one registers');
  t.ok(r.getRouteInfo('T1'), 'the topic stays routed while one replica is alive');
  r.scanNotActiveBroker(180_001);
  t.notOk(r.brokerAddrTable.has('RaftNode00'));
  t.notOk(r.getRouteInfo('T1'), 'a topic with no broker left is gone');
  t.same([...r.clusterAddrTable.keys()], [], 'the empty cluster is gone');
});

t.test('a per-broker heartbeat timeout (5.x header) is honoured', async (t) => {
  const r = new RouteInfoManager(120_000);
  r.registerBroker(reg({ now: 0, timeoutMillis: 10_000 }));
  t.equal(r.scanNotActiveBroker(10_001).length, 1);
});

t.test('closing a channel removes what registered on it', async (t) => {
  const r = new RouteInfoManager();
  r.registerBroker(reg({ brokerAddr: 'A:1', channel: 'chanA' }));
  r.registerBroker(reg({ brokerAddr: 'B:1', brokerId: 2, channel: 'chanB' }));
  t.same(r.addrsOfChannel('chanA'), ['A:1']);
  r.removeBrokerAddr('A:1');
  t.same(addrs(r), [[2, 'B:1']]);
});

t.test('topics by cluster, all topics, write permission, delete', async (t) => {
  const r = new RouteInfoManager();
  r.registerBroker(reg({ topicConfigTable: topics('T1', 'T2') }));
  r.registerBroker(reg({ clusterName: 'Other', brokerName: 'b2', brokerAddr: 'X:1', topicConfigTable: topics('T3') }));
  t.same(r.getTopicsByCluster('RaftCluster').sort(), ['T1', 'T2']);
  t.same(r.getTopicsByCluster('nope'), []);
  t.same(r.getAllTopicList().sort(), ['T1', 'T2', 'T3']);
  t.equal(r.setWritePerm('RaftNode00', false), 2);
  t.equal((r.getRouteInfo('T1')?.queueDatas[0]?.perm ?? 0) & Perm.WRITE, 0, 'write permission wiped');
  t.equal(r.setWritePerm('RaftNode00', true), 2);
  t.equal((r.getRouteInfo('T1')?.queueDatas[0]?.perm ?? 0) & Perm.WRITE, Perm.WRITE);
  r.deleteTopic('T1', 'Other');
  t.ok(r.getRouteInfo('T1'), 'deleting in another cluster leaves it');
  r.deleteTopic('T1', 'RaftCluster');
  t.notOk(r.getRouteInfo('T1'));
});

t.test('data version queries refresh liveness', async (t) => {
  const r = new RouteInfoManager(100);
  r.registerBroker(reg({ now: 0 }));
  t.same(r.queryDataVersion('127.0.0.1:30911', { timestamp: 1, counter: 1 }, 90), { changed: false, current: { timestamp: 1, counter: 1 } });
  t.equal(r.queryDataVersion('127.0.0.1:30911', { timestamp: 1, counter: 2 }, 95).changed, true);
  t.same(r.scanNotActiveBroker(150), [], 'the query counted as a sign of life');
  t.equal(r.queryDataVersion('nobody:1', { timestamp: 1, counter: 1 }, 0).changed, true);
});
