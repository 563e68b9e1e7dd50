// Restart in process: topics, subscription groups, consumer offsets, delay offsets and the
// messages themselves survive stop() and a new BrokerController on the same store folder.
import t from 'tap';
import { encodeSubscriptionGroupConfig, subscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import { decodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { decodeStoredMessages } from '../../../protocol/message/index.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode as RC } from '../../../protocol/remoting/ResponseCode.js';
import { createTopic, expectCode, pull, queueReaches, send, startWireBroker, Wire } from './wire.js';

t.test('metadata and offsets survive a restart', async (t) => {
  const conf = { messageDelayLevel: '1s 1s' };
  const first = await startWireBroker(t, conf);
  const storeDir = first.storeDir;
  let w = await Wire.open(t, first.port);
  expectCode(t, await createTopic(w, 'KeepT', { read: 3, write: 5, perm: 6 }), RC.SUCCESS, 'topic');
  expectCode(t, await createTopic(w, 'GoneT'), RC.SUCCESS, 'a topic deleted before the restart');
  expectCode(t, await w.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'GoneT' }), RC.SUCCESS, 'deleted');
  const g = subscriptionGroupConfig('KeepG', { retryMaxTimes: 5, consumeBroadcastEnable: false });
  expectCode(t, await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, encodeSubscriptionGroupConfig(g)), RC.SUCCESS, 'group');
  for (let i = 0; i < 3; i++) expectCode(t, await send(w, 'KeepT', `m${i}`, { queueId: 2 }), RC.SUCCESS, `message ${i}`);
  expectCode(t, await w.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'KeepG', topic: 'KeepT', queueId: '2', commitOffset: '2' }), RC.SUCCESS, 'consumer offset');
  w.oneway(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'KeepG', topic: 'KeepT', queueId: '0', commitOffset: '7' });
  expectCode(t, await send(w, 'KeepT', 'delayed', { queueId: 1, props: { DELAY: '1' } }), RC.SUCCESS, 'a delayed message');
  await queueReaches(first.broker, 'KeepT', 1, 1);
  t.same([...(await first.broker.commitLog.index.getDelayOffsets())], [[1, 1]], 'level 1 delivered one message');
  const versionBefore = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!).dataVersion;
  await first.broker.stop();
  w.conn.end();

  const second = await startWireBroker(t, conf, storeDir);
  w = await Wire.open(t, second.port);
  const topics = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!);
  t.match(topics.topicConfigTable.get('KeepT'), { readQueueNums: 3, writeQueueNums: 5, perm: 6 }, 'the topic is back as created');
  t.notOk(topics.topicConfigTable.has('GoneT'), 'the deleted topic stays deleted');
  t.ok(versionBefore.counter > 0);
  const groups = JSON.parse((await w.request(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).body!.toString()) as { subscriptionGroupTable: Record<string, unknown> };
  t.match(groups.subscriptionGroupTable.KeepG, { retryMaxTimes: 5, consumeBroadcastEnable: false }, 'the group is back');
  const q = (queueId: string) => w.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'KeepG', topic: 'KeepT', queueId, setZeroIfNotFound: 'false' });
  t.equal((await q('2')).extFields?.offset, '2', 'the committed consumer offset is back');
  t.equal((await q('0')).extFields?.offset, '7', 'the oneway one too (flushed at stop)');
  t.same([...(await second.broker.commitLog.index.getDelayOffsets())], [[1, 1]], 'the delay offset is back');
  const p = await pull(w, 'KeepT', { queueId: 2, group: 'KeepG' });
  expectCode(t, p, RC.SUCCESS, 'messages are back');
  t.same(decodeStoredMessages(p.body!).map((m) => m.body.toString()), ['m0', 'm1', 'm2']);
  // the scheduler runs every 100 ms: give it several passes to (wrongly) deliver again
  await new Promise((r) => setTimeout(r, 400));
  t.equal(second.broker.commitLog.maxOffset('KeepT', 1), 1, 'the delayed message was not delivered a second time');
  expectCode(t, await send(w, 'KeepT', 'after', { queueId: 2 }), RC.SUCCESS, 'the restarted broker takes sends');
  await queueReaches(second.broker, 'KeepT', 2, 4);
  t.equal(second.broker.commitLog.maxOffset('KeepT', 2), 4, 'queue offsets continue where they were');
});
