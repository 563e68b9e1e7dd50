// Topics: the system topics every node builds from its config, auto-creation from a template
// (only with the INHERIT bit), change listeners and the data version the name server sees.
import t from 'tap';
import { Perm, topicConfig } from '../../../protocol/body/TopicConfig.js';
import {
  TBW102,
  TopicConfigManager,
  TopicLimitError,
  isSystemOnlyTopic,
  topicNameProblem,
  type TopicConfigManagerOptions,
} from '../../../server/broker/TopicConfigManager.js';
import { topicRecord } from '../../../server/broker/metadata/BrokerMetadata.js';
import { FakeCommitLog } from './fakeCommitLog.js';

function manager(log: FakeCommitLog, opts: Partial<TopicConfigManagerOptions> = {}, clock = { now: 1000 }) {
  return new TopicConfigManager(log.asCommitLog, {
    brokerName: 'broker-a',
    brokerClusterName: 'DefaultCluster',
    defaultTopicQueueNums: 8,
    autoCreateTopicEnable: true,
    clusterTopicEnable: true,
    brokerTopicEnable: true,
    traceTopicEnable: false,
    msgTraceTopicName: 'RMQ_SYS_TRACE_TOPIC',
    delayLevels: 18,
    now: () => clock.now,
    ...opts,
  });
}

t.test('system topics follow the config', async (t) => {
  const m = manager(new FakeCommitLog());
  t.match(m.get(TBW102), { readQueueNums: 8, writeQueueNums: 8, perm: Perm.INHERIT | Perm.READ | Perm.WRITE });
  t.match(m.get('SCHEDULE_TOPIC_XXXX'), { readQueueNums: 18, writeQueueNums: 18 }, 'one schedule queue per delay level');
  t.match(m.get('DefaultCluster'), { perm: 7, readQueueNums: 16 });
  t.match(m.get('broker-a'), { perm: 7, readQueueNums: 1 });
  for (const name of ['SELF_TEST_TOPIC', 'BenchmarkTest', 'OFFSET_MOVED_EVENT', 'DefaultCluster_REPLY_TOPIC', TBW102]) {
    t.ok(m.isSystemTopic(name), `${name} is a system topic`);
  }
  t.notOk(m.get('RMQ_SYS_TRACE_TOPIC'), 'no trace topic unless traceTopicEnable');
  t.equal(m.userTopicCount, 0, 'system topics are not user topics (never written to the log)');

  const off = manager(new FakeCommitLog(), { autoCreateTopicEnable: false, clusterTopicEnable: false, brokerTopicEnable: false, traceTopicEnable: true, delayLevels: 3 });
  t.notOk(off.get(TBW102), 'no TBW102 without autoCreateTopicEnable');
  t.equal(off.get('DefaultCluster')!.perm, Perm.INHERIT, 'cluster topic not readable/writable when disabled');
  t.equal(off.get('broker-a')!.perm, Perm.INHERIT);
  t.ok(off.get('RMQ_SYS_TRACE_TOPIC'), 'trace topic with traceTopicEnable');
  t.equal(off.get('SCHEDULE_TOPIC_XXXX')!.readQueueNums, 3);
});

t.test('topic names and system-only topics', async (t) => {
  t.equal(topicNameProblem('Fx_Topic-1|%x'), undefined);
  t.match(topicNameProblem(''), /empty/);
  t.match(topicNameProblem('a b'), /characters other than/);
  t.match(topicNameProblem('a.b'), /characters other than/);
  t.equal(topicNameProblem('x'.repeat(127)), undefined);
  t.match(topicNameProblem('x'.repeat(128)), /longer than 127/);
  t.equal(topicNameProblem('%RETRY%' + 'x'.repeat(200)), undefined, 'retry topics may be up to 255');
  t.match(topicNameProblem('%DLQ%' + 'x'.repeat(251)), /longer than 255/);
  t.ok(isSystemOnlyTopic('SCHEDULE_TOPIC_XXXX'));
  t.ok(isSystemOnlyTopic('RMQ_SYS_TRANS_HALF_TOPIC'));
  t.ok(isSystemOnlyTopic('RMQ_SYS_TRANS_OP_HALF_TOPIC'));
  t.notOk(isSystemOnlyTopic(TBW102));
});

t.test('autoCreateFromTemplate: INHERIT required, queues capped by the template, INHERIT dropped', async (t) => {
  const log = new FakeCommitLog();
  const m = manager(log);
  await m.load();
  const created = await m.autoCreateFromTemplate('NewTopic', TBW102, 16);
  t.same(created, topicConfig('NewTopic', { readQueueNums: 8, writeQueueNums: 8, perm: Perm.READ | Perm.WRITE }), 'at most the template write queues');
  t.equal(log.appends.length, 1, 'written through the log');
  const fewer = await m.autoCreateFromTemplate('Small', TBW102, 2);
  t.equal(fewer!.writeQueueNums, 2, 'fewer queues when asked');
  const zero = await m.autoCreateFromTemplate('Zero', TBW102, 0);
  t.equal(zero!.writeQueueNums, 1, 'at least one queue');

  await m.put(topicConfig('NoInherit', { perm: Perm.READ | Perm.WRITE }));
  t.equal(m.autoCreateFromTemplate('X', 'NoInherit', 4), undefined, 'a template without INHERIT creates nothing');
  t.equal(m.autoCreateFromTemplate('X', 'Missing', 4), undefined, 'nor does a missing template');
  t.notOk(m.get('X'));

  await m.put(topicConfig('MyTemplate', { perm: Perm.INHERIT | Perm.READ, readQueueNums: 3, writeQueueNums: 3 }));
  const fromCustom = await m.autoCreateFromTemplate('FromCustom', 'MyTemplate', 8);
  t.same([fromCustom!.writeQueueNums, fromCustom!.perm], [3, Perm.READ], "the template's perm without INHERIT");

  const off = manager(new FakeCommitLog(), { autoCreateTopicEnable: false });
  await off.load();
  t.equal(off.autoCreateFromTemplate('Y', TBW102, 4), undefined, 'no auto-creation from TBW102 when disabled');
});

t.test('many sends asking to create one topic write it once', async (t) => {
  const log = new FakeCommitLog();
  const m = manager(log);
  await m.load();
  const all = await Promise.all([1, 2, 3, 4].map(() => m.autoCreateFromTemplate('Busy', TBW102, 4)));
  t.equal(log.appends.length, 1);
  t.same(new Set(all.map((c) => JSON.stringify(c))).size, 1);
});

t.test('change listener and data version', async (t) => {
  const clock = { now: 5000 };
  const log = new FakeCommitLog();
  const m = manager(log, {}, clock);
  await m.load();
  const heard: string[] = [];
  m.onChange((topic) => heard.push(topic));
  t.same(m.dataVersion, { timestamp: 5000, counter: 0 });

  clock.now = 6000;
  await m.put(topicConfig('A', { readQueueNums: 4, writeQueueNums: 4 }));
  t.same(heard, ['A']);
  t.same(m.dataVersion, { timestamp: 6000, counter: 1 }, 'counter up, timestamp from the clock');
  await m.put(topicConfig('A', { readQueueNums: 4, writeQueueNums: 4 }));
  t.same(heard, ['A'], 'the same config again is not a change');
  t.equal(m.dataVersion.counter, 1);
  await m.put(topicConfig('A', { readQueueNums: 4, writeQueueNums: 4, perm: Perm.READ }));
  t.same(heard, ['A', 'A'], 'a changed perm is');
  t.equal(m.dataVersion.counter, 2);
  t.ok(await m.delete('A'));
  t.same(heard, ['A', 'A', 'A']);
  t.equal(m.dataVersion.counter, 3);
  t.notOk(await m.delete('A'), 'deleting a missing topic');
  t.notOk(await m.delete('TBW102'), 'system topics are not deletable this way');
  t.equal(m.dataVersion.counter, 3);

  // an entry written elsewhere (the leader) and applied here
  await log.append([topicRecord('B', topicConfig('B'))]);
  t.same(heard, ['A', 'A', 'A', 'B'], 'an applied topic entry is a change too');
  t.ok(m.get('B'));
  t.ok(m.all().has('B'));
});

t.test('load reads stored topics; user topics are bounded', async (t) => {
  const log = new FakeCommitLog();
  log.stored.topic = [['Stored', JSON.stringify(topicConfig('Stored', { readQueueNums: 2, writeQueueNums: 2 }))]];
  const m = new TopicConfigManager(log.asCommitLog, {
    brokerName: 'b',
    brokerClusterName: 'c',
    defaultTopicQueueNums: 4,
    autoCreateTopicEnable: true,
    clusterTopicEnable: true,
    brokerTopicEnable: true,
    traceTopicEnable: false,
    msgTraceTopicName: 'x',
    delayLevels: 2,
    maxTopics: 2,
  });
  await m.load();
  t.equal(m.get('Stored')!.readQueueNums, 2);
  await m.put(topicConfig('Second'));
  await t.rejects(m.put(topicConfig('Third')), TopicLimitError);
  await t.resolves(m.put(topicConfig('Second', { perm: Perm.READ })), 'replacing a topic is within the limit');
  t.equal(m.all().get('TBW102')!.perm, 7, 'all() lists system topics too');
});
