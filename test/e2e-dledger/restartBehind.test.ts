// RocketMQ-on-DLedger end to end (issue 6, check 4): the whole group stops (SIGTERM) with one
// node's log behind the others' (it was stopped first and missed acknowledged sends), and all
// three start again together: an up-to-date node becomes the leader, the lagging node catches
// up, and no acknowledged message disappears.
import t from 'tap';
import type { AdminApi } from '../../client/AdminApi.js';
import { createTopic } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { eventually, startGroup, type GroupNode } from '../dledger/groupKit.js';
import { addr, expectIdenticalReplicas, maxOffsets, sendKeyedSeries, waitRegistered } from './kit.js';

const TOPIC = 'DLedgerRestart';
const QUEUES = 4;

const sendAll = (admin: AdminApi, to: GroupNode, prefix: string, n: number): Promise<string[]> => sendKeyedSeries(admin, to, TOPIC, QUEUES, prefix, n);

t.test('all three restart with one log behind: an up-to-date node leads, nothing acknowledged is lost', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const g = await startGroup(t, namesrvAddr);
  const admin = g.admin;
  const master = await g.master(60_000);
  await waitRegistered(g, master);
  await createTopic(addr(master), namesrvAddr, TOPIC, QUEUES);

  const a = await sendAll(admin, master, 'a', 40);
  t.equal(a.length, 40, 'batch a: every send acknowledged by the full group');
  const lag = g.nodes.find((n) => n !== master)!;
  await eventually('the follower to stop has batch a', async () => (await maxOffsets(admin, lag, TOPIC, QUEUES)).every((o) => o === 10), 60_000);
  t.equal(await lag.proc!.stop(), 0, `${lag.id} (a follower) exits 0 on SIGTERM`);

  const b = await sendAll(admin, master, 'b', 40);
  t.equal(b.length, 40, `batch b: every send acknowledged by the two nodes left (${lag.id} is down)`);
  const upToDate = g.nodes.filter((n) => n !== lag);
  await eventually('both running nodes applied batch b', async () => {
    for (const n of upToDate) if (!(await maxOffsets(admin, n, TOPIC, QUEUES)).every((o) => o === 20)) return false;
    return true;
  }, 60_000);
  const codes = await Promise.all(upToDate.map((n) => n.proc!.stop()));
  t.same(codes, [0, 0], 'the other two exit 0 on SIGTERM');

  // all three start together on their stores; the lagging log must not win
  await Promise.all(g.nodes.map((n) => g.start(n)));
  const leader = await g.master(60_000);
  t.not(leader.id, lag.id, `an up-to-date node leads (${leader.id}), not the one that missed batch b (${lag.id})`);
  await waitRegistered(g, leader);
  const info = await admin.getClusterInfo();
  t.equal(info.brokerAddrTable.get('RaftNode00')?.brokerAddrs.get(0), addr(leader), 'still the same master once everyone registered');

  // a registered master (broker id 0) has applied its no-op: it takes sends at once
  const c = await sendAll(admin, leader, 'c', 20);
  t.equal(c.length, 20, 'batch c: the new leader acknowledges every send');
  const view = await expectIdenticalReplicas(t, admin, g.nodes, TOPIC, QUEUES, a.length + b.length + c.length);
  const stored = view.flat().map((l) => l.split(' ')[2]!);
  const want = [...a, ...b, ...c];
  t.same(stored.slice().sort(), want.slice().sort(), 'every acknowledged message is stored, each once, on every replica');
  t.same(view.map((q) => q.length), [25, 25, 25, 25], 'queue offsets continue after the restart');
});
