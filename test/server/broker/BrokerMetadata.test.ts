// Broker metadata entries: each record the broker writes decodes back to what it said, and a
// damaged body is refused with a MetadataDecodeError naming the entry, never half-applied.
import t from 'tap';
import { Perm, topicConfig } from '../../../protocol/body/TopicConfig.js';
import { subscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import type { MetadataAppendRecord } from '../../../server/broker/commitlog/CommitLog.js';
import { groupConfigFromJson } from '../../../server/broker/SubscriptionGroupManager.js';
import {
  MetadataDecodeError,
  MetadataMagic,
  consumerOffsetsRecord,
  decodeBrokerMetadata,
  delayOffsetsRecord,
  deleteConsumerOffsetsRecord,
  subscriptionGroupRecord,
  topicConfigFromStored,
  topicRecord,
} from '../../../server/broker/metadata/BrokerMetadata.js';

function decode(r: MetadataAppendRecord, index = 7) {
  return decodeBrokerMetadata({ magic: r.magic, index, term: 2, pos: 4096, body: r.body });
}

function raw(magic: number, text: string, index = 9) {
  return () => decodeBrokerMetadata({ magic, index, term: 1, pos: 0, body: Buffer.from(text) });
}

t.test('topic records round-trip, deletion is a null value', async (t) => {
  const cfg = topicConfig('OrderTopic', { readQueueNums: 3, writeQueueNums: 5, perm: Perm.READ, topicFilterType: 'MULTI_TAG', topicSysFlag: 1, order: true });
  const r = topicRecord('OrderTopic', cfg);
  t.equal(r.kind, 'metadata');
  t.equal(r.magic, MetadataMagic.TOPIC);
  const [d, ...rest] = decode(r);
  t.equal(rest.length, 0);
  t.match(d, { kind: 'topic', name: 'OrderTopic', index: 7, pos: 4096 });
  if (d?.kind !== 'topic') throw new Error('not a topic');
  t.same(topicConfigFromStored(d.name, d.value!), cfg, 'the config comes back field for field');
  const [del] = decode(topicRecord('OrderTopic', null));
  t.match(del, { kind: 'topic', name: 'OrderTopic', value: null });
});

t.test('subscription group records round-trip', async (t) => {
  const g = subscriptionGroupConfig('CG', { retryMaxTimes: 3, retryQueueNums: 2, consumeBroadcastEnable: false, notifyConsumerIdsChangedEnable: false });
  const [d] = decode(subscriptionGroupRecord('CG', g));
  if (d?.kind !== 'subscriptionGroup') throw new Error('not a group');
  t.equal(d.name, 'CG');
  t.same(groupConfigFromJson(d.name, JSON.parse(d.value!)), g);
  const [del] = decode(subscriptionGroupRecord('CG', null));
  t.match(del, { kind: 'subscriptionGroup', value: null });
});

t.test('consumer offsets, their deletion and delay offsets round-trip', async (t) => {
  const ds = decode(
    consumerOffsetsRecord([
      { group: 'G1', topic: 'T', queues: [[0, 10], [3, 2 ** 40]] },
      { group: 'G2', topic: '%RETRY%G2', queues: [] },
    ]),
  );
  t.same(ds, [
    { index: 7, pos: 4096, kind: 'consumerOffsets', group: 'G1', topic: 'T', offsets: [{ queueId: 0, offset: 10 }, { queueId: 3, offset: 2 ** 40 }] },
    { index: 7, pos: 4096, kind: 'consumerOffsets', group: 'G2', topic: '%RETRY%G2', offsets: [] },
  ]);
  t.same(decode(deleteConsumerOffsetsRecord('G1')), [{ index: 7, pos: 4096, kind: 'deleteConsumerOffsets', group: 'G1', topic: undefined }]);
  t.same(decode(deleteConsumerOffsetsRecord('G1', 'T')), [{ index: 7, pos: 4096, kind: 'deleteConsumerOffsets', group: 'G1', topic: 'T' }]);
  t.same(decode(delayOffsetsRecord([[1, 5], [18, 0]])), [
    { index: 7, pos: 4096, kind: 'delayOffsets', offsets: [{ level: 1, offset: 5 }, { level: 18, offset: 0 }] },
  ]);
});

t.test('bad bodies are refused with the entry index', async (t) => {
  const bad: Array<[string, number, string, RegExp]> = [
    ['not JSON', MetadataMagic.TOPIC, '{"name":', /entry 9 \(magic 16\) is not JSON/],
    ['not an object', MetadataMagic.TOPIC, '"x"', /entry 9 is not a JSON object/],
    ['null', MetadataMagic.SUBSCRIPTION_GROUP, 'null', /not a JSON object/],
    ['topic without a name', MetadataMagic.TOPIC, '{"config":{}}', /field name is not a name/],
    ['topic with an empty name', MetadataMagic.TOPIC, '{"name":"","config":{}}', /field name is not a name/],
    ['offsets without commits', MetadataMagic.CONSUMER_OFFSETS, '{}', /commits missing/],
    ['a commit without group', MetadataMagic.CONSUMER_OFFSETS, '{"commits":[{"topic":"T","queues":[]}]}', /field group/],
    ['queues not pairs', MetadataMagic.CONSUMER_OFFSETS, '{"commits":[{"group":"G","topic":"T","queues":{}}]}', /expected \[id, offset\] pairs/],
    ['negative offset', MetadataMagic.CONSUMER_OFFSETS, '{"commits":[{"group":"G","topic":"T","queues":[[0,-1]]}]}', /bad pair \[0,-1\]/],
    ['fractional queue id', MetadataMagic.DELAY_OFFSETS, '{"offsets":[[1.5,2]]}', /bad pair/],
    ['unsafe offset', MetadataMagic.DELAY_OFFSETS, '{"offsets":[[1,1e300]]}', /bad pair/],
    ['delete without group', MetadataMagic.DELETE_CONSUMER_OFFSETS, '{"topic":"T"}', /field group/],
  ];
  for (const [what, magic, text, message] of bad) {
    t.throws(raw(magic, text), { name: 'MetadataDecodeError', message }, what);
  }
  t.throws(raw(MetadataMagic.TOPIC, '[]'), MetadataDecodeError, 'an array is not an entry object either');
});

t.test('an unknown metadata magic applies nothing', async (t) => {
  t.same(raw(99, 'whatever, not even JSON')(), []);
});
