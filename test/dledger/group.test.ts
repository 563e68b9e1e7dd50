// RocketMQ-on-DLedger end to end: three bin/mqbroker processes keep one log in Raft. One is the
// master (broker id 0), the others followers (n + 1); every replica builds the same consume
// queues; kill -9 the master and a follower takes over with every message, topic and
// committed consumer offset; the killed node comes back and catches up.
import t from 'tap';
import { AdminApi } from '../../client/AdminApi.js';
import * as H from '../../protocol/header/broker.js';
import { serializeProperties } from '../../protocol/message/index.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { createTopic } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { eventually, startGroup, type GroupNode } from './groupKit.js';

const TOPIC = 'GroupTopic';
const QUEUES = 4;

const addr = (n: GroupNode): string => `127.0.0.1:${n.port}`;

async function maxOffset(admin: AdminApi, node: GroupNode, queueId: number): Promise<number> {
  const res = await admin.invokeBroker(addr(node), RequestCode.GET_MAX_OFFSET, H.GetMaxOffsetRequestHeader.encode({ topic: TOPIC, queueId }));
  return Number(res.extFields?.offset ?? -1);
}

async function consumerOffset(admin: AdminApi, node: GroupNode, queueId: number): Promise<number | undefined> {
  const res = await admin.invokeBroker(
    addr(node),
    RequestCode.QUERY_CONSUMER_OFFSET,
    H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: 'GroupCG', topic: TOPIC, queueId, setZeroIfNotFound: false }),
  );
  return res.code === ResponseCode.SUCCESS ? Number(res.extFields?.offset) : undefined;
}

async function send(admin: AdminApi, node: GroupNode, i: number) {
  return admin.sendMessage(addr(node), {
    producerGroup: 'GroupPG',
    topic: TOPIC,
    queueId: i % QUEUES,
    body: Buffer.from(`message ${i}`),
    properties: serializeProperties([['TAGS', `Tag${i % 3}`], ['KEYS', `key-${i}`]]),
    bornTimestamp: Date.now(),
  });
}

t.test('a DLedger group: one master, identical replicas, failover without losing messages, topics or offsets', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`);
  const admin = g.admin;
  const master = await g.master();
  const followers = g.nodes.filter((n) => n !== master);

  await eventually('the name server lists the followers under n + 1', async () => {
    const ids = (await admin.getClusterInfo()).brokerAddrTable.get('RaftNode00')?.brokerAddrs;
    return followers.every((f) => ids?.get(Number(f.id.slice(1)) + 1) === addr(f));
  });

  await createTopic(addr(master), g.namesrvAddr, TOPIC, QUEUES);
  const N = 200;
  for (let i = 0; i < N; i++) {
    const r = await send(admin, master, i);
    t.equal(r.queueOffset, Math.floor(i / QUEUES), `message ${i} gets the next offset of its queue`);
  }

  const refused = await admin.invokeBroker(
    addr(followers[0]!),
    RequestCode.SEND_MESSAGE_V2,
    H.SendMessageRequestHeaderV2.encode({ a: 'GroupPG', b: TOPIC, c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0 }),
    Buffer.from('to a follower'),
  );
  t.equal(refused.code, ResponseCode.SYSTEM_BUSY, 'a follower refuses sends as a Java slave does');

  for (let q = 0; q < QUEUES; q++) {
    const res = await admin.invokeBroker(
      addr(master),
      RequestCode.UPDATE_CONSUMER_OFFSET,
      H.UpdateConsumerOffsetRequestHeader.encode({ consumerGroup: 'GroupCG', topic: TOPIC, queueId: q, commitOffset: 10 * (q + 1) }),
    );
    t.equal(res.code, ResponseCode.SUCCESS);
  }

  await eventually('every replica applied every message', async () => {
    for (const n of g.nodes) for (let q = 0; q < QUEUES; q++) if ((await maxOffset(admin, n, q)) !== N / QUEUES) return false;
    return true;
  });
  await eventually('every replica has the committed consumer offsets', async () => {
    for (const n of g.nodes) for (let q = 0; q < QUEUES; q++) if ((await consumerOffset(admin, n, q)) !== 10 * (q + 1)) return false;
    return true;
  });

  // the consume queues and the records they point at are the same bytes on every replica
  for (let q = 0; q < QUEUES; q++) {
    const views = [];
    for (const n of g.nodes) {
      const r = await admin.pullMessage(addr(n), { consumerGroup: 'GroupCG', mq: { topic: TOPIC, brokerName: 'RaftNode00', queueId: q }, offset: 0, maxNums: 32 });
      t.equal(r.status, 'FOUND', `${n.id} serves pulls of queue ${q}`);
      views.push(r.messages.map((m) => `${m.queueOffset}/${m.physicalOffset}/${m.storeTimestamp}/${m.body.toString()}/${m.properties.get('UNIQ_KEY') ?? ''}`).join('\n'));
    }
    t.equal(views[1], views[0], `queue ${q}: ${g.nodes[1]!.id} holds what ${g.nodes[0]!.id} holds`);
    t.equal(views[2], views[0], `queue ${q}: ${g.nodes[2]!.id} holds what ${g.nodes[0]!.id} holds`);
  }

  // kill -9 the master
  const killedAt = Date.now();
  master.proc!.child.kill('SIGKILL');
  await master.proc!.exited;
  const next = await g.master(30_000, master.id);
  t.comment(`a new master (${next.id}) was routed ${Date.now() - killedAt} ms after kill -9`);
  t.not(next.id, master.id);
  for (let q = 0; q < QUEUES; q++) {
    t.equal(await maxOffset(admin, next, q), N / QUEUES, `the new master holds every message of queue ${q}`);
    t.equal(await consumerOffset(admin, next, q), 10 * (q + 1), `the new master has the committed offset of queue ${q}`);
  }
  let sent: Awaited<ReturnType<typeof send>> | undefined;
  await eventually('the new master takes sends', async () => {
    sent = await send(admin, next, 0);
    return sent.sendStatus === 'SEND_OK';
  });
  t.equal(sent!.queueOffset, N / QUEUES, 'queue offsets continue where the old master stopped');

  // the old master comes back as a follower and catches up
  await g.start(master);
  await eventually('the restarted node catches up', async () => (await maxOffset(admin, master, 0)) === N / QUEUES + 1);
  const info = await admin.getClusterInfo();
  t.equal(info.brokerAddrTable.get('RaftNode00')?.brokerAddrs.get(0), addr(next), 'the restarted node does not take the master id');
});
