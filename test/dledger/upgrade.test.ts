// Upgrading from the Java RocketMQ-on-DLedger: node n2 starts on the store folder the Java
// 4.9.8 broker wrote (test/fixtures/store, 11 entries in term 1, config/*.json in fastjson's
// dialect) next to two empty nodes. The group elects the node with the data, the empty nodes
// receive its log, every replica serves the old messages, and the Java topics, groups and
// consumer offsets are ours.
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

t.test('a Java DLedger store joins two empty nodes: it is elected and its log, topics and offsets spread', async (t) => {
  const store = manifestStore('dledger-node2');
  const root = tempDir(t, 'raftmq-upgrade-');
  extractStore(store, root);
  const node2 = path.join(root, 'node2');
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`, {}, { n2: node2 });
  const master = await g.master(20_000);
  t.equal(master.id, 'n2', 'the node holding the Java log is elected');
  const admin = g.admin;
  const addr = (n: GroupNode): string => `127.0.0.1:${n.port}`;

  const fx = store.messages.filter((m) => m.topic === 'FxTopic');
  const perQueue = new Map<number, number>();
  for (const m of fx) perQueue.set(m.queueId, Math.max(perQueue.get(m.queueId) ?? 0, m.queueOffset + 1));
  await eventually('every replica indexed the Java messages', async () => {
    for (const n of g.nodes) {
      for (const [q, max] of perQueue) {
        const res = await admin.invokeBroker(addr(n), RequestCode.GET_MAX_OFFSET, H.GetMaxOffsetRequestHeader.encode({ topic: 'FxTopic', queueId: q }));
        if (Number(res.extFields?.offset) !== max) return false;
      }
    }
    return true;
  }, 20_000);

  for (const n of g.nodes) {
    // A follower indexes the Java messages (the log's prefix) before the topic config the new
    // master appends after its election reaches it; until then a pull answers TOPIC_NOT_EXIST.
    let got = new Map<string, string>();
    await eventually(`${n.id} serves FxTopic`, async () => {
      const m = new Map<string, string>();
      for (const q of perQueue.keys()) {
        const r = await admin.pullMessage(addr(n), { consumerGroup: 'UpgradeCheck', mq: { topic: 'FxTopic', brokerName: 'RaftNode00', queueId: q }, offset: 0, maxNums: 32 });
        for (const x of r.messages) m.set(x.offsetMsgId.slice(-16), x.properties.get('UNIQ_KEY') ?? '');
      }
      got = m;
      return true;
    }, 20_000);
    t.same(
      [...got.entries()].sort(),
      fx.map((m) => [m.offsetMsgId.slice(-16), m.properties.UNIQ_KEY ?? '']).sort(),
      `${n.id} serves every Java message at its Java commit-log offset`,
    );
  }

  // config/*.json: the Java topic and consumer offsets are ours on every replica
  const javaOffsets = { 0: 1, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 3, 7: 2 } as Record<number, number>;
  await eventually('the Java consumer offsets reached every replica', async () => {
    for (const n of g.nodes) {
      for (const [q, off] of Object.entries(javaOffsets)) {
        const res = await admin.invokeBroker(
          addr(n),
          RequestCode.QUERY_CONSUMER_OFFSET,
          H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: 'FxConsumerGroup', topic: 'FxTopic', queueId: Number(q), setZeroIfNotFound: false }),
        );
        if (res.code !== ResponseCode.SUCCESS || Number(res.extFields?.offset) !== off) return false;
      }
    }
    return true;
  }, 20_000);
  const route = await admin.getTopicRoute('FxTopic');
  t.equal(route.queueDatas[0]?.writeQueueNums, 8, 'FxTopic is routed with the queue count of topics.json');
  t.ok(fs.existsSync(path.join(node2, 'config', 'raftmq-imported')), 'the Java config is marked as taken over');

  // the group goes on from there
  const sent = await admin.sendMessage(addr(master), {
    producerGroup: 'UpgradePG',
    topic: 'FxTopic',
    queueId: 6,
    body: Buffer.from('after the upgrade'),
    properties: '',
    bornTimestamp: Date.now(),
  });
  t.equal(sent.queueOffset, perQueue.get(6) ?? 0, 'queue offsets continue after the Java ones');
});
