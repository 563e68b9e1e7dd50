// RocketMQ-on-DLedger end to end with ali-ons (issue 6, checks 1-3): produce and consume across
// a 3-node group (clusterList: one master, two followers); kill -9 the leader while a producer
// sends with several sends in flight: every send the producer saw succeed is consumed, a message
// is stored twice only if the producer saw a send of it fail, and consumption goes on from the
// committed offsets; the killed node comes back and its queues equal the others'.
import t from 'tap';
import { createTopic } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { OnsClient, type OnsReceived } from '../helpers/ons.js';
import { eventually, startGroup } from '../dledger/groupKit.js';
import { BROKER_NAME, addr, clusterList, committedOffsets, continuousProducer, expectIdenticalReplicas, waitRegistered } from './kit.js';

const TOPIC = 'DLedgerE2E';
const QUEUES = 4;
const GROUP = 'GID_DLEDGER_E2E';
const GROUP_B = 'GID_DLEDGER_E2E_B';

t.test('ali-ons across a DLedger group; kill -9 of the leader under load; the killed node catches up', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const g = await startGroup(t, namesrvAddr);
  const admin = g.admin;
  const master = await g.master(60_000);
  await waitRegistered(g, master);

  // --- 1. clusterList: one master (BID 0) and two followers (n + 1)
  const rows = await clusterList(namesrvAddr);
  t.same(
    rows.map((r) => `${r[1]} ${r[2]} ${r[3]}`).sort(),
    g.nodes.map((n) => `${BROKER_NAME} ${n === master ? 0 : Number(n.id.slice(1)) + 1} ${addr(n)}`).sort(),
    'clusterList: the leader at BID 0, each follower at n + 1',
  );
  t.equal(rows.filter((r) => r[2] === '0').length, 1, 'exactly one master');

  await createTopic(addr(master), namesrvAddr, TOPIC, QUEUES);
  const ons = await OnsClient.start(t, namesrvAddr, { name: 'ons', persistConsumerOffsetInterval: 300, pollNameServerInteval: 500, rebalanceInterval: 2000 });
  const pre = Array.from({ length: 40 }, (_, i) => ({ tags: 'TagA', keys: [`pre-${i}`], body: `before the failover ${i}` }));
  const { sent } = await ons.produce(TOPIC, 'PID_DLEDGER_E2E', pre);
  t.ok(sent.length === pre.length && sent.every((s) => s.sendStatus === 'SEND_OK'), 'ali-ons: every send SEND_OK through the master');
  await ons.consume({ group: GROUP, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }, 30_000);
  await ons.waitForCount(pre.length, 30_000);
  const firstRound = new Map<string, number>();
  for (const m of ons.received) firstRound.set(m.keys ?? '', (firstRound.get(m.keys ?? '') ?? 0) + 1);
  t.same([...firstRound.keys()].sort(), pre.map((m) => m.keys[0]!).sort(), 'ali-ons consumed every message sent before the failover');

  // --- 2. kill -9 the leader while 6 sends are in flight. GROUP's consumer lives through the
  // failover; GROUP_B's consumer process is killed just before the leader and a new one starts
  // after it, from the offsets committed before
  const onsB = await OnsClient.start(t, namesrvAddr, { name: 'onsB', persistConsumerOffsetInterval: 300, pollNameServerInteval: 500, rebalanceInterval: 2000 });
  await onsB.consume({ group: GROUP_B, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }, 30_000);
  const live = continuousProducer(namesrvAddr, TOPIC, QUEUES, 'live', 6);
  await eventually('150 sends succeed before the kill', async () => live.okAttempts().length >= 150, 60_000);
  // let the consumers get ahead and commit
  const liveSeen = (c: OnsClient): number => c.received.filter((m) => (m.keys ?? '').startsWith('live-')).length;
  await eventually('the consumers received the first live messages', async () => liveSeen(ons) >= 75 && liveSeen(onsB) >= 75, 30_000);
  onsB.child.kill('SIGKILL');
  await new Promise<void>((resolve) => (onsB.child.exitCode !== null || onsB.child.signalCode !== null ? resolve() : onsB.child.once('exit', () => resolve())));
  // commits are oneway and the master writes them to the log within its flush interval (100 ms):
  // "committed" is what reached the followers, which apply only committed log entries
  const followers = g.nodes.filter((n) => n !== master);
  let committedB: number[] = [];
  await eventually(
    `${GROUP_B}'s last commits reached both followers`,
    async () => {
      committedB = await committedOffsets(admin, master, GROUP_B, TOPIC, QUEUES);
      for (const f of followers) if ((await committedOffsets(admin, f, GROUP_B, TOPIC, QUEUES)).join() !== committedB.join()) return false;
      return true;
    },
    30_000,
  );
  const committedBefore = await committedOffsets(admin, followers[0]!, GROUP, TOPIC, QUEUES);
  t.comment(`committed offsets before the kill (as ${followers[0]!.id} has them): ${GROUP} ${committedBefore.join(',')}; ${GROUP_B} (its consumer killed) ${committedB.join(',')}`);
  const killedAt = Date.now();
  master.proc!.child.kill('SIGKILL');
  await master.proc!.exited;
  const next = await g.master(60_000, master.id);
  t.comment(`new master ${next.id} routed ${Date.now() - killedAt} ms after kill -9`);
  // read at once, before the surviving consumer commits anything to the new master
  const nextCommitted = await committedOffsets(admin, next, GROUP, TOPIC, QUEUES);
  for (let q = 0; q < QUEUES; q++) t.ok(nextCommitted[q]! >= committedBefore[q]!, `${GROUP} queue ${q}: the new master holds the offset committed before the kill (${nextCommitted[q]} >= ${committedBefore[q]})`);
  t.same(await committedOffsets(admin, next, GROUP_B, TOPIC, QUEUES), committedB, `${GROUP_B}: the new master holds exactly the offsets committed on the old one`);
  const onsB2 = await OnsClient.start(t, namesrvAddr, { name: 'onsB2', persistConsumerOffsetInterval: 300, pollNameServerInteval: 500, rebalanceInterval: 2000 });
  await onsB2.consume({ group: GROUP_B, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }, 30_000);
  await eventually('150 sends succeed through the new master', async () => live.okAttempts().filter((a) => a.addr === addr(next)).length >= 150, 60_000);
  await live.stop();
  const attempts = live.producer.attempts;
  const failed = attempts.filter((a) => !a.ok);
  t.comment(`${attempts.length} send attempts, ${failed.length} failed: ${[...new Set(failed.map((a) => a.error))].slice(0, 5).join(' | ')}`);

  const okKeys = [...live.perKey].filter(([, as]) => as.some((a) => a.ok)).map(([k]) => k);
  const keyOf = (m: OnsReceived): string => m.keys ?? '';
  const allAcked = (all: OnsReceived[]): boolean => {
    const got = new Set(all.map(keyOf));
    return okKeys.every((k) => got.has(k));
  };
  await ons.waitFor('every acknowledged live message', allAcked, 60_000);
  t.pass(`${GROUP} (its consumer lived through the failover) consumed every one of the ${okKeys.length} acknowledged sends`);
  await onsB2.waitFor('every acknowledged live message, with what the killed consumer got', (all) => allAcked([...onsB.received, ...all]), 60_000);
  t.pass(`${GROUP_B} (consumer killed, then restarted after the failover) consumed every acknowledged send`);

  // stored copies of a key are its distinct queue positions; more than one only after a failed send
  const copies = new Map<string, Set<string>>();
  for (const m of [...ons.received, ...onsB.received, ...onsB2.received]) {
    const s = copies.get(keyOf(m)) ?? new Set<string>();
    s.add(`${m.queueId}@${m.queueOffset}`);
    copies.set(keyOf(m), s);
  }
  const badDup: string[] = [];
  const tooMany: string[] = [];
  for (const [k, as] of live.perKey) {
    const n = copies.get(k)?.size ?? 0;
    if (n > 1 && as.every((a) => a.ok)) badDup.push(`${k} x${n}`);
    if (n > as.length) tooMany.push(`${k}: ${n} copies of ${as.length} attempts`);
  }
  t.same(badDup, [], 'no message stored twice unless the producer saw a send of it fail');
  t.same(tooMany, [], 'no message stored more often than it was sent');
  t.comment(`messages stored twice after a failed send: ${[...copies.values()].filter((s) => s.size > 1).length}`);

  // consumption went on from the committed offsets: nothing below them was delivered again
  for (let q = 0; q < QUEUES; q++) {
    const after = ons.received.filter((m) => m.at > killedAt && m.queueId === q && m.queueTopic === TOPIC).map((m) => m.queueOffset);
    const lowest = Math.min(...after);
    t.ok(after.length === 0 || lowest >= committedBefore[q]!, `${GROUP} queue ${q}: after the kill, deliveries start at ${lowest}, not below the committed offset ${committedBefore[q]}`);
    const resumed = onsB2.received.filter((m) => m.queueId === q && m.queueTopic === TOPIC).map((m) => m.queueOffset);
    t.equal(Math.min(...resumed), committedB[q], `${GROUP_B} queue ${q}: the restarted consumer resumes exactly at the committed offset ${committedB[q]}`);
  }
  await onsB2.exit();

  // --- 3. the killed node restarts, catches up, and serves the same queues as the others
  await g.start(master);
  await waitRegistered(g, next);
  const view = await expectIdenticalReplicas(t, admin, g.nodes, TOPIC, QUEUES, okKeys.length);
  const storedCount = new Map<string, number>();
  for (const l of view.flat()) storedCount.set(l.split(' ')[2]!, (storedCount.get(l.split(' ')[2]!) ?? 0) + 1);
  t.ok(okKeys.every((k) => storedCount.has(k)), 'every acknowledged send is in the replicated queues');
  const storedBad = [...live.perKey].filter(([k, as]) => (storedCount.get(k) ?? 0) > (as.every((a) => a.ok) ? 1 : as.length)).map(([k]) => k);
  t.same(storedBad, [], 'in the replicated queues too: a message more than once only after a failed send, never more often than sent');
  t.ok(pre.every((m) => storedCount.get(m.keys[0]!) === 1), 'the ali-ons messages from before the failover are stored once each');
  const rows2 = await clusterList(namesrvAddr);
  t.equal(rows2.filter((r) => r[2] === '0').length, 1, 'clusterList after the restart: one master');
  t.same(rows2.find((r) => r[2] === '0')?.[3], addr(next), 'the restarted node did not take the master id');
  await ons.exit();
});
