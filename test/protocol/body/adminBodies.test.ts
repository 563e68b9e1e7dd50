// Golden tests for the broker's admin and client bodies: every such body in the captures from
// the real RocketMQ 4.9.8 decodes, re-encodes to the same bytes, and decodes back equal.
import t from 'tap';
import { consumeStatsTotalDiff, decodeConsumeStats, encodeConsumeStats } from '../../../protocol/body/ConsumeStats.js';
import { decodeConsumerConnection, encodeConsumerConnection, consumerConnectionMinVersion } from '../../../protocol/body/ConsumerConnection.js';
import { decodeConsumerListBody, encodeConsumerListBody } from '../../../protocol/body/ConsumerListBody.js';
import { decodeHeartbeatData, encodeHeartbeatData, type HeartbeatData } from '../../../protocol/body/HeartbeatData.js';
import { decodeKVTable, encodeKVTable } from '../../../protocol/body/KVTable.js';
import {
  decodeLockBatchRequestBody,
  decodeLockBatchResponseBody,
  decodeUnlockBatchRequestBody,
  encodeLockBatchRequestBody,
  encodeLockBatchResponseBody,
  encodeUnlockBatchRequestBody,
} from '../../../protocol/body/LockBatchBody.js';
import {
  compareMessageQueues,
  decodeMessageQueue,
  encodeMessageQueue,
  MessageQueueMap,
  messageQueueKey,
} from '../../../protocol/body/MessageQueue.js';
import {
  decodeSubscriptionGroupConfig,
  encodeSubscriptionGroupConfig,
  subscriptionGroupConfig,
  subscriptionGroupConfigToString,
} from '../../../protocol/body/SubscriptionGroupConfig.js';
import { decodeTopicConfigWrapper, encodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { decodeTopicStatsTable, encodeTopicStatsTable } from '../../../protocol/body/TopicStatsTable.js';
import { decodeBrokerConfigBody, encodeBrokerConfigBody } from '../../../protocol/body/BrokerConfigBody.js';
import { BodyError, javaDouble, writeFastJson } from '../../../protocol/body/fastjson.js';
import { topicConfig } from '../../../protocol/body/TopicConfig.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { capturedBodies } from './captured.js';

t.test('MessageQueue: key, order and JSON', async (t) => {
  const a = { topic: 'FxTopic', brokerName: 'broker-a', queueId: 2 };
  t.equal(messageQueueKey(a), messageQueueKey({ queueId: 2, brokerName: 'broker-a', topic: 'FxTopic' }), 'key ignores field order');
  t.not(messageQueueKey(a), messageQueueKey({ ...a, queueId: 3 }));
  t.not(messageQueueKey({ topic: 'a@b', brokerName: 'c', queueId: 0 }), messageQueueKey({ topic: 'a', brokerName: 'b@c', queueId: 0 }));
  const list = [
    { topic: 'FxTopic', brokerName: 'broker-a', queueId: 10 },
    { topic: 'FxTopic', brokerName: 'broker-a', queueId: 2 },
    { topic: '%RETRY%G', brokerName: 'broker-b', queueId: 0 },
    { topic: 'FxTopic', brokerName: 'a', queueId: 7 },
  ];
  t.same(
    [...list].sort(compareMessageQueues).map((m) => `${m.topic}/${m.brokerName}/${m.queueId}`),
    ['%RETRY%G/broker-b/0', 'FxTopic/a/7', 'FxTopic/broker-a/2', 'FxTopic/broker-a/10'],
    'topic, then broker name, then numeric queue id (Java compareTo)',
  );
  t.equal(encodeMessageQueue(a).toString(), '{"brokerName":"broker-a","queueId":2,"topic":"FxTopic"}');
  t.same(decodeMessageQueue(encodeMessageQueue(a)), a);
  const m = new MessageQueueMap<number>([[a, 1]]);
  m.set({ ...a }, 2);
  t.equal(m.size, 1);
  t.equal(m.get({ brokerName: 'broker-a', queueId: 2, topic: 'FxTopic' }), 2);
});

t.test('fastjson writer: doubles and object keys', async (t) => {
  t.equal(javaDouble(0).text, '0.0');
  t.equal(javaDouble(2).text, '2.0');
  t.equal(javaDouble(0.16999999999999998).text, '0.16999999999999998');
  t.equal(javaDouble(12345678).text, '1.2345678E7');
  t.equal(javaDouble(0.0001).text, '1.0E-4');
  t.equal(javaDouble(Number.NaN).text, 'null');
  t.equal(writeFastJson({ b: 1, a: [true, null], c: undefined }), '{"a":[true,null],"b":1}');
});

t.test('ConsumeStats: captured GET_CONSUME_STATS answers', async (t) => {
  const bodies = capturedBodies(RequestCode.GET_CONSUME_STATS, 'response');
  t.ok(bodies.length >= 4, `found ${bodies.length} captured answers`);
  for (const { file, index, command } of bodies) {
    const body = command.body as Buffer;
    const stats = decodeConsumeStats(body);
    t.ok(stats.offsetTable.size >= 8, `${file}#${index}: ${stats.offsetTable.size} queues`);
    t.equal(encodeConsumeStats(stats).toString(), body.toString(), `${file}#${index}: re-encodes byte for byte`);
    t.same(decodeConsumeStats(encodeConsumeStats(stats)), stats);
  }
  const first = decodeConsumeStats(bodies.find((b) => b.file.startsWith('b-consumerProgress'))!.command.body as Buffer);
  t.equal(first.consumeTps, 0.16999999999999998);
  t.same(first.offsetTable.get({ topic: '%RETRY%FxConsumerGroup', brokerName: 'broker-a', queueId: 0 }), {
    brokerOffset: 1,
    consumerOffset: 1,
    lastTimestamp: 1795745876243,
  });
  t.equal(first.offsetTable.sorted()[0]?.[0].topic, '%RETRY%FxConsumerGroup');
  t.equal(consumeStatsTotalDiff(first), 0);
});

t.test('ConsumeStats: constructed, with a lag and a 5.x pullOffset', async (t) => {
  const offsetTable = new MessageQueueMap([
    [{ topic: 'T', brokerName: 'b', queueId: 0 }, { brokerOffset: 10, consumerOffset: 4, lastTimestamp: 5 }],
    [{ topic: 'T', brokerName: 'b', queueId: 1 }, { brokerOffset: 3, consumerOffset: 3, lastTimestamp: 0, pullOffset: 3 }],
  ] as const);
  const body = encodeConsumeStats({ offsetTable, consumeTps: 1 });
  t.equal(
    body.toString(),
    '{"consumeTps":1.0,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":5},' +
      '{"brokerName":"b","queueId":1,"topic":"T"}:{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0,"pullOffset":3}}}',
  );
  const back = decodeConsumeStats(body);
  t.same(back, { offsetTable, consumeTps: 1 });
  t.equal(consumeStatsTotalDiff(back), 6);
  t.same(decodeConsumeStats(Buffer.from('{"consumeTps":0.0,"offsetTable":{}}')).offsetTable.size, 0);
  t.throws(() => decodeConsumeStats(Buffer.from('{"offsetTable":')), BodyError);
});

t.test('TopicStatsTable: captured GET_TOPIC_STATS_INFO answers', async (t) => {
  const bodies = capturedBodies(RequestCode.GET_TOPIC_STATS_INFO, 'response');
  t.equal(bodies.length, 3);
  for (const { file, command } of bodies) {
    const body = command.body as Buffer;
    const table = decodeTopicStatsTable(body);
    t.equal(table.offsetTable.size, 8, file);
    t.equal(encodeTopicStatsTable(table).toString(), body.toString(), `${file}: re-encodes byte for byte`);
    t.same(decodeTopicStatsTable(encodeTopicStatsTable(table)), table);
  }
  const classic = decodeTopicStatsTable(bodies.find((b) => b.file === 'b-topicStatus.jsonl.gz')!.command.body as Buffer);
  t.same(classic.offsetTable.get({ topic: 'FxTopic', brokerName: 'broker-a', queueId: 2 }), {
    minOffset: 0,
    maxOffset: 4,
    lastUpdateTimestamp: 1795745844830,
  });
  const withTps = { offsetTable: classic.offsetTable, topicPutTps: 2.5 };
  t.match(encodeTopicStatsTable(withTps).toString(), /,"topicPutTps":2\.5}$/);
  t.same(decodeTopicStatsTable(encodeTopicStatsTable(withTps)), withTps);
});

t.test('HeartbeatData: the Java clients captured, and ali-ons', async (t) => {
  const bodies = capturedBodies(RequestCode.HEART_BEAT, 'request');
  t.ok(bodies.length >= 18, `found ${bodies.length} heartbeats`);
  for (const { file, index, command } of bodies) {
    const body = command.body as Buffer;
    const hb = decodeHeartbeatData(body);
    t.equal(encodeHeartbeatData(hb).toString(), body.toString(), `${file}#${index}: re-encodes byte for byte`);
    t.same(decodeHeartbeatData(encodeHeartbeatData(hb)), hb);
  }
  const push = decodeHeartbeatData(bodies.find((b) => b.file.startsWith('d-pushconsumer'))!.command.body as Buffer);
  t.equal(push.clientID, '192.0.2.2@fx-consumer');
  t.same(push.producerDataSet, [{ groupName: 'CLIENT_INNER_PRODUCER' }]);
  t.match(push.consumerDataSet[0], {
    groupName: 'FxConsumerGroup',
    consumeType: 'CONSUME_PASSIVELY',
    messageModel: 'CLUSTERING',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    unitMode: false,
  });
  t.same(
    push.consumerDataSet[0]?.subscriptionDataSet.map((s) => s.topic),
    ['FxTopic', '%RETRY%FxConsumerGroup'],
  );
  const lite = decodeHeartbeatData(bodies.find((b) => b.file.startsWith('d-litepull'))!.command.body as Buffer);
  t.equal(lite.consumerDataSet[0]?.consumeType, 'CONSUME_ACTIVELY');

  // What ali-ons 3.12 sends: JSON.stringify order, no expressionType for tag subscriptions.
  const ons = Buffer.from(
    JSON.stringify({
      clientID: '10.0.0.5@4242',
      consumerDataSet: [
        {
          groupName: 'G',
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
          subscriptionDataSet: [
            { topic: 'T', subString: 'TagA || TagB', classFilterMode: false, tagsSet: ['TagA', 'TagB'], codeSet: [2598919, 2598920], subVersion: 1700000000000 },
          ],
          unitMode: false,
        },
      ],
      producerDataSet: [],
    }),
  );
  const hb: HeartbeatData = decodeHeartbeatData(ons);
  t.same(hb.consumerDataSet[0]?.subscriptionDataSet[0], {
    classFilterMode: false,
    topic: 'T',
    subString: 'TagA || TagB',
    tagsSet: ['TagA', 'TagB'],
    codeSet: [2598919, 2598920],
    subVersion: 1700000000000,
    expressionType: 'TAG',
  });
  t.same(decodeHeartbeatData(encodeHeartbeatData(hb)), hb);
  // A producer-only heartbeat, and 5.x V2 fields.
  const v2 = decodeHeartbeatData(Buffer.from('{"clientID":"c","producerDataSet":[{"groupName":"P"}],"heartbeatFingerprint":7,"withoutSub":true}'));
  t.same(v2, { clientID: 'c', producerDataSet: [{ groupName: 'P' }], consumerDataSet: [], heartbeatFingerprint: 7, withoutSub: true });
  t.same(decodeHeartbeatData(encodeHeartbeatData(v2)), v2);
});

t.test('GetConsumerListByGroupResponseBody: captured answers', async (t) => {
  const bodies = capturedBodies(RequestCode.GET_CONSUMER_LIST_BY_GROUP, 'response');
  t.ok(bodies.length >= 10);
  for (const { file, index, command } of bodies) {
    const body = command.body as Buffer;
    const v = decodeConsumerListBody(body);
    t.equal(v.consumerIdList.length, 1);
    t.equal(encodeConsumerListBody(v).toString(), body.toString(), `${file}#${index}`);
  }
  t.same(decodeConsumerListBody(encodeConsumerListBody({ consumerIdList: [] })), { consumerIdList: [] });
});

t.test('KVTable: the captured runtime info', async (t) => {
  const bodies = capturedBodies(RequestCode.GET_BROKER_RUNTIME_INFO, 'response');
  t.equal(bodies.length, 4);
  for (const { file, command } of bodies) {
    const table = decodeKVTable(command.body as Buffer);
    t.equal(table.get('brokerVersionDesc'), 'V4_9_8', file);
    t.same(decodeKVTable(encodeKVTable(table)), table);
  }
});

t.test('ConsumerConnection: constructed (the captures only hold CONSUMER_NOT_ONLINE)', async (t) => {
  const [sub] = decodeHeartbeatData(capturedBodies(RequestCode.HEART_BEAT, 'request')[0]!.command.body as Buffer).consumerDataSet[0]!.subscriptionDataSet;
  const cc = {
    connectionSet: [
      { clientId: '192.0.2.2@fx-consumer', clientAddr: '127.0.0.1:53412', language: 'JAVA', version: 409 },
      { clientId: '10.0.0.5@4242', clientAddr: '10.0.0.5:50000', language: 'NODE_JS', version: 121 },
    ],
    subscriptionTable: new Map([['FxTopic', sub!]]),
    consumeType: 'CONSUME_PASSIVELY' as const,
    messageModel: 'CLUSTERING' as const,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' as const,
  };
  const body = encodeConsumerConnection(cc);
  t.match(body.toString(), /^\{"connectionSet":\[\{"clientAddr":"127\.0\.0\.1:53412","clientId":"192\.0\.2\.2@fx-consumer","language":"JAVA","version":409\}/);
  t.same(decodeConsumerConnection(body), cc);
  t.equal(consumerConnectionMinVersion(cc), 121);
  const empty = decodeConsumerConnection(Buffer.from('{"connectionSet":[],"subscriptionTable":{}}'));
  t.same(empty, { connectionSet: [], subscriptionTable: new Map() });
});

t.test('SubscriptionGroupConfig: Java defaults and round trip', async (t) => {
  const d = subscriptionGroupConfig('G');
  t.same(d, {
    groupName: 'G',
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  });
  t.equal(
    encodeSubscriptionGroupConfig(d).toString(),
    '{"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"groupName":"G",' +
      '"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}',
  );
  t.same(decodeSubscriptionGroupConfig(Buffer.from('{"groupName":"G"}')), d, 'absent fields take the defaults');
  const custom = subscriptionGroupConfig('G2', { consumeEnable: false, retryMaxTimes: 3, brokerId: 1 });
  t.same(decodeSubscriptionGroupConfig(encodeSubscriptionGroupConfig(custom)), custom);
  t.equal(
    subscriptionGroupConfigToString(d),
    'SubscriptionGroupConfig [groupName=G, consumeEnable=true, consumeFromMinEnable=true, consumeBroadcastEnable=true, ' +
      'retryQueueNums=1, retryMaxTimes=16, brokerId=0, whichBrokerWhenConsumeSlowly=1, notifyConsumerIdsChangedEnable=true]',
  );
});

t.test('Lock and unlock batch bodies', async (t) => {
  const spec = Buffer.from(
    '{"consumerGroup":"CG1","clientId":"10.0.0.5@12345#1","onlyThisBroker":false,' +
      '"mqSet":[{"topic":"T1","brokerName":"broker-a","queueId":0},{"topic":"T1","brokerName":"broker-a","queueId":1}]}',
  );
  const req = decodeLockBatchRequestBody(spec);
  t.same(req, {
    consumerGroup: 'CG1',
    clientId: '10.0.0.5@12345#1',
    onlyThisBroker: false,
    mqSet: [
      { topic: 'T1', brokerName: 'broker-a', queueId: 0 },
      { topic: 'T1', brokerName: 'broker-a', queueId: 1 },
    ],
  });
  t.same(decodeLockBatchRequestBody(encodeLockBatchRequestBody(req)), req);
  const unlock = { consumerGroup: 'CG1', clientId: 'c', mqSet: [{ topic: 'T1', brokerName: 'b', queueId: 3 }] };
  t.equal(encodeUnlockBatchRequestBody(unlock).toString(), '{"clientId":"c","consumerGroup":"CG1","mqSet":[{"brokerName":"b","queueId":3,"topic":"T1"}]}');
  t.same(decodeUnlockBatchRequestBody(encodeUnlockBatchRequestBody(unlock)), unlock);
  const res = { lockOKMQSet: [{ topic: 'T1', brokerName: 'broker-a', queueId: 0 }] };
  t.equal(encodeLockBatchResponseBody(res).toString(), '{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"T1"}]}');
  t.same(decodeLockBatchResponseBody(encodeLockBatchResponseBody(res)), res);
});

t.test('TopicConfigSerializeWrapper', async (t) => {
  const spec = Buffer.from(
    '{"topicConfigTable":{"T1":{"topicName":"T1","readQueueNums":4,"writeQueueNums":4,"perm":6,"topicFilterType":"SINGLE_TAG","topicSysFlag":0,"order":false}},' +
      '"dataVersion":{"counter":3,"timestamp":1700000000000}}',
  );
  const w = decodeTopicConfigWrapper(spec);
  t.same(w.topicConfigTable.get('T1'), topicConfig('T1', { readQueueNums: 4, writeQueueNums: 4, perm: 6 }));
  t.same(w.dataVersion, { counter: 3, timestamp: 1700000000000 });
  t.equal(
    encodeTopicConfigWrapper(w).toString(),
    '{"dataVersion":{"counter":3,"timestamp":1700000000000},"topicConfigTable":{"T1":{"order":false,"perm":6,"readQueueNums":4,' +
      '"topicFilterType":"SINGLE_TAG","topicName":"T1","topicSysFlag":0,"writeQueueNums":4}}}',
  );
  t.same(decodeTopicConfigWrapper(encodeTopicConfigWrapper(w)), w);
});

t.test('Broker config body: properties lines', async (t) => {
  const props = new Map([
    ['brokerName', 'broker-a'],
    ['namesrvAddr', '127.0.0.1:9876'],
    ['msgTraceTopicName', 'RMQ_SYS_TRACE_TOPIC'],
  ]);
  const body = encodeBrokerConfigBody(props);
  t.equal(body.toString(), 'brokerName=broker-a\nnamesrvAddr=127.0.0.1:9876\nmsgTraceTopicName=RMQ_SYS_TRACE_TOPIC\n');
  t.same(decodeBrokerConfigBody(body), props);
  t.same(decodeBrokerConfigBody(Buffer.from('# c\n\na=b=c\r\nempty=\n')), new Map([['a', 'b=c'], ['empty', '']]));
});
