// Client registration, orderly locks and the admin requests through the wire: HEART_BEAT,
// NOTIFY_CONSUMER_IDS_CHANGED to the group's other members, GET_CONSUMER_LIST_BY_GROUP,
// UNREGISTER_CLIENT, LOCK/UNLOCK_BATCH_MQ, topic and group administration, stats and config.
import t from 'tap';
import { decodeBrokerConfigBody } from '../../../protocol/body/BrokerConfigBody.js';
import { decodeConsumeStats } from '../../../protocol/body/ConsumeStats.js';
import { decodeConsumerConnection } from '../../../protocol/body/ConsumerConnection.js';
import { decodeConsumerListBody } from '../../../protocol/body/ConsumerListBody.js';
import { decodeKVTable } from '../../../protocol/body/KVTable.js';
import { decodeLockBatchResponseBody, encodeLockBatchRequestBody } from '../../../protocol/body/LockBatchBody.js';
import { encodeSubscriptionGroupConfig, subscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import { decodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { decodeTopicStatsTable } from '../../../protocol/body/TopicStatsTable.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode as RC } from '../../../protocol/remoting/ResponseCode.js';
import { createTopic, expectCode, heartbeat, queueReaches, send, startWireBroker, subscription, Wire } from './wire.js';

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('consumers: heartbeat, notify, list, unregister, connection list', async (t) => {
  const wb = await startWireBroker(t);
  const a = await Wire.open(t, wb.port);
  const b = await Wire.open(t, wb.port);
  await createTopic(a, 'CT');
  const list = async (group = 'G') => {
    const r = await a.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group });
    return { r, ids: r.body ? decodeConsumerListBody(r.body).consumerIdList.sort() : [] };
  };
  const hb = await heartbeat(a, 'c1', 'G', [subscription('CT', 'TagA || TagB', 100)], { producerGroup: 'PG' });
  expectCode(t, hb, RC.SUCCESS, 'HEART_BEAT');
  t.equal(hb.version, 409, 'answered with the broker version');
  t.same((await list()).ids, ['c1']);
  const topics = decodeTopicConfigWrapper((await a.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!).topicConfigTable;
  t.match(topics.get('%RETRY%G'), { readQueueNums: 1, perm: 6 }, 'the heartbeat created %RETRY%G');

  const notifiesBefore = a.conn.received.filter((c) => c.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED).length;
  expectCode(t, await heartbeat(b, 'c2', 'G', [subscription('CT', '*', 101)]), RC.SUCCESS, 'second member');
  await waitFor(() => a.conn.received.filter((c) => c.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED).length > notifiesBefore);
  const notify = a.conn.received.filter((c) => c.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED).at(-1)!;
  t.equal(notify.flag & 2, 2, 'NOTIFY_CONSUMER_IDS_CHANGED is oneway');
  t.same(notify.extFields, { consumerGroup: 'G' });
  t.same((await list()).ids, ['c1', 'c2']);

  const conns = await a.request(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'G' });
  expectCode(t, conns, RC.SUCCESS, 'GET_CONSUMER_CONNECTION_LIST');
  const cc = decodeConsumerConnection(conns.body!);
  t.same(cc.connectionSet.map((c) => c.clientId).sort(), ['c1', 'c2']);
  t.same([...new Set(cc.connectionSet.map((c) => `${c.language}/${c.version}`))], ['JAVA/409']);
  t.equal(cc.subscriptionTable.get('CT')!.subString, '*', 'the newest subscription version wins');
  t.equal(cc.messageModel, 'CLUSTERING');

  const un = await b.request(RequestCode.UNREGISTER_CLIENT, { clientID: 'c2', consumerGroup: 'G' });
  expectCode(t, un, RC.SUCCESS, 'UNREGISTER_CLIENT');
  t.same((await list()).ids, ['c1']);
  const none = await list('Nobody');
  expectCode(t, none.r, RC.SYSTEM_ERROR, 'GET_CONSUMER_LIST_BY_GROUP of an empty group');
  t.match(none.r.remark, /no consumer for this group, Nobody/);
  expectCode(t, await a.request(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'Nobody' }), RC.CONSUMER_NOT_ONLINE, 'connection list of an offline group');
  const badHb = await a.request(RequestCode.HEART_BEAT, undefined, Buffer.from('{not json'));
  t.not(badHb.code, RC.SUCCESS, 'a heartbeat body that does not parse is refused');
  expectCode(t, await heartbeat(a, 'c1', 'G', [subscription('CT', '*', 102)]), RC.SUCCESS, 'the connection still serves');
  b.conn.end();
  await waitFor(() => wb.broker.ctx.clients.consumerIds('G').length === 1);
  t.same(wb.broker.ctx.clients.consumerIds('G'), ['c1'], 'a closed connection leaves the group');
});

t.test('LOCK_BATCH_MQ / UNLOCK_BATCH_MQ', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  const mq = (queueId: number) => ({ topic: 'OT', brokerName: 'broker-a', queueId });
  const lock = async (clientId: string, ids: number[]) => {
    const r = await w.request(RequestCode.LOCK_BATCH_MQ, undefined, encodeLockBatchRequestBody({ consumerGroup: 'OG', clientId, onlyThisBroker: false, mqSet: ids.map(mq) }));
    expectCode(t, r, RC.SUCCESS, `lock by ${clientId}`);
    return decodeLockBatchResponseBody(r.body!).lockOKMQSet.map((q) => q.queueId).sort();
  };
  const unlock = async (clientId: string, ids: number[]) =>
    expectCode(t, await w.request(RequestCode.UNLOCK_BATCH_MQ, undefined, encodeLockBatchRequestBody({ consumerGroup: 'OG', clientId, onlyThisBroker: false, mqSet: ids.map(mq) })), RC.SUCCESS, `unlock by ${clientId}`);
  t.same(await lock('c1', [0, 1]), [0, 1]);
  t.same(await lock('c2', [1, 2]), [2], 'a queue held by c1 is not given to c2');
  t.same(await lock('c1', [0, 1]), [0, 1], 'renewal');
  await unlock('c2', [1]);
  t.same(await lock('c2', [1]), [], 'c2 cannot unlock what c1 holds');
  await unlock('c1', [1]);
  t.same(await lock('c2', [1]), [1], 'after c1 unlocked it, c2 gets it');
  const empty = await w.request(RequestCode.LOCK_BATCH_MQ);
  expectCode(t, empty, RC.SYSTEM_ERROR, 'a lock request without body');
  t.same(await lock('c1', [0]), [0], 'the connection still serves');
});

t.test('admin requests', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  const all = async () => decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!);

  await t.test('topics', async (t) => {
    const v0 = (await all()).dataVersion.counter;
    expectCode(t, await createTopic(w, 'AdminT', { read: 3, write: 5, perm: 6, filter: 'MULTI_TAG' }), RC.SUCCESS, 'UPDATE_AND_CREATE_TOPIC');
    const after = await all();
    t.match(after.topicConfigTable.get('AdminT'), { readQueueNums: 3, writeQueueNums: 5, perm: 6, topicFilterType: 'MULTI_TAG' });
    t.ok(after.dataVersion.counter > v0, 'data version moved');
    t.ok(after.topicConfigTable.has('TBW102') && after.topicConfigTable.has('SCHEDULE_TOPIC_XXXX'), 'system topics are listed too');
    const routeAsked = await Wire.open(t, wb.namesrv.port);
    const route = await routeAsked.request(105, { topic: 'AdminT' });
    expectCode(t, route, RC.SUCCESS, 'the name server knows the topic when the create answered');
    t.match(route.body!.toString(), /"writeQueueNums":5/);
    expectCode(t, await createTopic(w, 'AdminT', { queues: 2 }), RC.SUCCESS, 'update');
    t.equal((await all()).topicConfigTable.get('AdminT')!.writeQueueNums, 2);
    for (const [what, name, extra] of [
      ['bad name', 'a/b', {}],
      ['the cluster name', 'DefaultCluster', {}],
      ['zero queues', 'ZeroQ', { queues: 0 }],
      ['too many queues', 'HugeQ', { queues: 1025 }],
    ] as const) {
      expectCode(t, await createTopic(w, name, extra), RC.INVALID_PARAMETER, `create refused: ${what}`);
    }
    const missing = await w.request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'NoPerm', defaultTopic: 'TBW102', readQueueNums: '1', writeQueueNums: '1', topicFilterType: 'SINGLE_TAG', order: 'false' });
    expectCode(t, missing, RC.SYSTEM_ERROR, 'create without perm');
    t.match(missing.remark, /perm is null/);
    expectCode(t, await w.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'AdminT' }), RC.SUCCESS, 'DELETE_TOPIC_IN_BROKER');
    t.notOk((await all()).topicConfigTable.has('AdminT'), 'gone');
    expectCode(t, await w.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'TBW102' }), RC.INVALID_PARAMETER, 'a system topic is not deletable');
    t.ok((await all()).topicConfigTable.has('TBW102'));
  });

  await t.test('subscription groups', async (t) => {
    const g = subscriptionGroupConfig('AdminG', { retryMaxTimes: 3, consumeBroadcastEnable: false });
    expectCode(t, await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, encodeSubscriptionGroupConfig(g)), RC.SUCCESS, 'UPDATE_AND_CREATE_SUBSCRIPTIONGROUP');
    const r = await w.request(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    const table = (JSON.parse(r.body!.toString()) as { subscriptionGroupTable: Record<string, { retryMaxTimes: number; consumeBroadcastEnable: boolean }> }).subscriptionGroupTable;
    t.match(table.AdminG, { retryMaxTimes: 3, consumeBroadcastEnable: false });
    t.ok(table.TOOLS_CONSUMER, 'system groups listed');
    expectCode(t, await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from('{"retryMaxTimes":1}')), RC.SYSTEM_ERROR, 'a group without a name');
    expectCode(t, await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP), RC.SYSTEM_ERROR, 'no body');
    expectCode(t, await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from('not json')), RC.SYSTEM_ERROR, 'a body that is not JSON');
  });

  await t.test('stats, runtime info and config', async (t) => {
    await createTopic(w, 'StatT', { queues: 2 });
    for (let i = 0; i < 3; i++) await send(w, 'StatT', `m${i}`, { queueId: 1 });
    await queueReaches(wb.broker, 'StatT', 1, 3);
    const stats = await w.request(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'StatT' });
    expectCode(t, stats, RC.SUCCESS, 'GET_TOPIC_STATS_INFO');
    const table = decodeTopicStatsTable(stats.body!).offsetTable;
    t.equal(table.size, 2, 'one entry per queue');
    t.match(table.get({ topic: 'StatT', brokerName: 'broker-a', queueId: 1 }), { minOffset: 0, maxOffset: 3 });
    t.ok(table.get({ topic: 'StatT', brokerName: 'broker-a', queueId: 1 })!.lastUpdateTimestamp > 0, 'with the last store time');
    t.match(table.get({ topic: 'StatT', brokerName: 'broker-a', queueId: 0 }), { maxOffset: 0, lastUpdateTimestamp: 0 });
    expectCode(t, await w.request(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'NoSuch' }), RC.TOPIC_NOT_EXIST, 'stats of an unknown topic');

    await w.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'SG', topic: 'StatT', queueId: '1', commitOffset: '2' });
    const cs = await w.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'SG', topic: 'StatT' });
    expectCode(t, cs, RC.SUCCESS, 'GET_CONSUME_STATS');
    t.match(decodeConsumeStats(cs.body!).offsetTable.get({ topic: 'StatT', brokerName: 'broker-a', queueId: 1 }), { brokerOffset: 3, consumerOffset: 2 });
    const byGroup = decodeConsumeStats((await w.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'SG' })).body!);
    t.equal(byGroup.offsetTable.size, 2, 'without a topic: every topic the group has offsets for');

    const rt = await w.request(RequestCode.GET_BROKER_RUNTIME_INFO);
    expectCode(t, rt, RC.SUCCESS, 'GET_BROKER_RUNTIME_INFO');
    const kv = decodeKVTable(rt.body!);
    t.equal(kv.get('brokerVersionDesc'), 'V4_9_8');
    t.ok(Number(kv.get('msgPutTotalTodayNow')) >= 3, 'counts the puts');
    for (const k of ['putTps', 'getTransferredTps', 'sendThreadPoolQueueSize', 'pullThreadPoolQueueSize', 'pageCacheLockTimeMills', 'earliestMessageTimeStamp', 'commitLogDiskRatio']) {
      t.ok(kv.has(k), `runtime info has ${k} (mqadmin clusterList reads it)`);
    }
    const conf = await w.request(RequestCode.GET_BROKER_CONFIG);
    expectCode(t, conf, RC.SUCCESS, 'GET_BROKER_CONFIG');
    const props = decodeBrokerConfigBody(conf.body);
    t.equal(props.get('brokerName'), 'broker-a');
    t.equal(props.get('listenPort'), String(wb.port));
    t.ok(conf.extFields?.version, 'with the data version in the header');
  });
});
