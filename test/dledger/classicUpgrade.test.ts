// Upgrading from a classic (master/slave) Java 4.9.8 broker: node n0 starts on the classic store
// folder (commitlog/ with 11 records, config/*.json) next to two empty nodes. n0 is elected,
// its commit log becomes the first messages of the group's log, every replica serves them at
// their Java queue offsets, the Java consumers' offsets are served, new messages continue the
// queues, and a restart of the whole group imports nothing twice.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import * as H from '../../protocol/header/broker.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { tempDir } from '../helpers/processes.js';
import { extractStore, manifestStore } from '../helpers/storeManifest.js';
import { eventually, startGroup, type GroupNode } from './groupKit.js';

const store = manifestStore('classic');
/** config/consumerOffset.json of the fixture */
const JAVA_OFFSETS: Array<[string, string, Record<number, number>]> = [
  ['FxConsumerGroup', 'FxTopic', { 0: 1, 1: 1, 2: 4, 3: 1, 4: 1, 5: 0, 6: 0, 7: 1 }],
  ['FxLitePullGroup', 'FxTopic', { 0: 1, 1: 1, 2: 4, 3: 1, 4: 1, 5: 0, 6: 0, 7: 1 }],
  ['FxConsumerGroup', '%RETRY%FxConsumerGroup', { 0: 1 }],
];

/** topic:queueId -> next offset after the Java records */
const javaMax = new Map<string, number>();
for (const m of store.messages) javaMax.set(`${m.topic}:${m.queueId}`, Math.max(javaMax.get(`${m.topic}:${m.queueId}`) ?? 0, m.queueOffset + 1));

t.test('a classic store on one node of three becomes the prefix of the group log', async (t) => {
  const root = tempDir(t, 'raftmq-classic-upgrade-');
  extractStore(store, root);
  const n0Store = path.join(root, store.root);
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`, { mappedFileSizeCommitLog: String(store.broker.mappedFileSizeCommitLog) }, { n0: n0Store });
  const admin = g.admin;
  const addr = (n: GroupNode): string => `127.0.0.1:${n.port}`;
  const maxOffset = async (n: GroupNode, topic: string, queueId: number): Promise<number> => {
    const res = await admin.invokeBroker(addr(n), RequestCode.GET_MAX_OFFSET, H.GetMaxOffsetRequestHeader.encode({ topic, queueId }));
    return Number(res.extFields?.offset);
  };

  // n0 wins the first election, or (on a slow start) asks the empty winner for the leadership
  await eventually('n0, the node holding the classic log, is the master', async () => (await g.master(5_000)).id === 'n0', 60_000);
  t.pass('the node holding the classic log is elected');
  const master = g.nodes[0]!;
  const n0 = g.nodes[0]!;
  await eventually('n0 finished the import', async () => /imported the classic commit log /.test(n0.proc!.output()), 30_000).catch(() => undefined);
  t.match(n0.proc!.output(), /imported the classic commit log .*: 11 records \(classic offsets 0\.\.3435\), 0 transaction/, 'n0 logs the counts');

  await eventually('every replica applied the imported records', async () => {
    for (const n of g.nodes) for (const [k, max] of javaMax) if ((await maxOffset(n, k.split(':')[0]!, Number(k.split(':')[1]))) !== max) return false;
    return true;
  }, 20_000);

  for (const n of g.nodes) {
    let same = 0;
    for (const m of store.messages) {
      const r = await admin.pullMessage(addr(n), { consumerGroup: 'ClassicCheck', mq: { topic: m.topic, brokerName: 'RaftNode00', queueId: m.queueId }, offset: m.queueOffset, maxNums: 1 });
      const got = r.messages[0];
      if (
        got !== undefined &&
        got.topic === m.topic &&
        got.queueId === m.queueId &&
        got.queueOffset === m.queueOffset &&
        got.storeTimestamp === m.storeTimestamp &&
        got.body.toString('hex') === m.storedBodyHex &&
        JSON.stringify(Object.fromEntries(got.properties)) === JSON.stringify(m.properties)
      ) same++;
      else t.fail(`${n.id}: ${m.topic}:${m.queueId}@${m.queueOffset} differs: ${JSON.stringify(got && { topic: got.topic, queueOffset: got.queueOffset, props: Object.fromEntries(got.properties) })}`);
    }
    t.equal(same, store.messageCount, `${n.id} serves every classic record with its topic, queue, queue offset, store time, body and properties`);
  }

  await eventually('the Java consumer offsets are served by every replica', async () => {
    for (const n of g.nodes) {
      for (const [group, topic, table] of JAVA_OFFSETS) {
        for (const [q, off] of Object.entries(table)) {
          const res = await admin.invokeBroker(addr(n), RequestCode.QUERY_CONSUMER_OFFSET, H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: group, topic, queueId: Number(q), setZeroIfNotFound: false }));
          if (res.code !== ResponseCode.SUCCESS || Number(res.extFields?.offset) !== off) return false;
        }
      }
    }
    return true;
  }, 20_000);
  t.pass('QUERY_CONSUMER_OFFSET answers consumerOffset.json on every node');

  const send = async (n: GroupNode, queueId: number, text: string): Promise<number> =>
    (await admin.sendMessage(addr(n), { producerGroup: 'UpgradePG', topic: 'FxTopic', queueId, body: Buffer.from(text), properties: '', bornTimestamp: Date.now() })).queueOffset;
  t.equal(await send(master, 2, 'after the upgrade'), 4, 'a new message takes the next queue offset after the Java ones');
  t.equal(await send(master, 5, 'into a queue Java never wrote'), 0);
  // Java delivered the one delayed record (delayOffset.json {3:1}); the scheduler runs every 100 ms
  await new Promise((r) => setTimeout(r, 600));
  t.equal(await maxOffset(master, '%RETRY%FxConsumerGroup', 0), 1, 'the delayed record Java delivered is not delivered again');
  t.ok(fs.existsSync(path.join(n0Store, 'raftmq-classic-imported')), 'n0 leaves its marker');

  // the whole group restarts: nothing is imported again
  for (const n of g.nodes) await n.proc!.stop();
  await Promise.all(g.nodes.map((n) => g.start(n)));
  const again = await g.master(30_000);
  t.notMatch(n0.proc!.output(), /importing the classic commit log|classic commit log .* file\(s\)/, 'n0 neither scans nor imports its classic log again');
  t.equal(await send(again, 2, 'after the restart'), 5, 'queue offsets go on from where they were');
  for (const n of g.nodes) {
    await eventually(`${n.id} has the new message`, async () => (await maxOffset(n, 'FxTopic', 2)) === 6, 20_000);
    t.equal(await maxOffset(n, 'FxTopic', 7), 1, `${n.id}: the classic records are there once`);
  }
});

t.test('a classic node that starts after the empty ones were elected asks for leadership and imports first', async (t) => {
  const root = tempDir(t, 'raftmq-classic-late-');
  extractStore(store, root);
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`, { mappedFileSizeCommitLog: String(store.broker.mappedFileSizeCommitLog) }, { n0: path.join(root, store.root) }, ['n0']);
  const first = await g.master(60_000);
  t.not(first.id, 'n0', `an empty node (${first.id}) leads while n0 is not started`);
  const n0 = g.nodes[0]!;
  await g.start(n0);
  await eventually('n0 takes over the leadership', async () => (await g.master(5_000)).id === 'n0', 60_000);
  t.match(n0.proc!.output(), /asked the leader to hand leadership over/, 'n0 asked for it');
  await eventually('n0 imported the classic log', async () => /imported the classic commit log .*: 11 records/.test(n0.proc!.output()), 60_000);
  const addr = (n: GroupNode): string => `127.0.0.1:${n.port}`;
  for (const n of g.nodes) {
    await eventually(`${n.id} serves the imported records`, async () => {
      for (const [k, max] of javaMax) {
        const [topic, q] = k.split(':');
        const res = await g.admin.invokeBroker(addr(n), RequestCode.GET_MAX_OFFSET, H.GetMaxOffsetRequestHeader.encode({ topic: topic!, queueId: Number(q) }));
        if (res.code !== ResponseCode.SUCCESS || Number(res.extFields?.offset) !== max) return false;
      }
      return true;
    }, 30_000);
  }
  t.pass('every node serves the Java queue offsets');
});
