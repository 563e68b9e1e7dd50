// Client registrations from heartbeats: who belongs to which group, which subscription wins,
// when the group is told its members changed, and how clients leave (unregister, expiry,
// connection close). Clock injected; connections are stand-ins.
import t from 'tap';
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import type { ConsumerData, MessageModel, SubscriptionData } from '../../../protocol/body/HeartbeatData.js';
import { javaStringHash } from '../../../protocol/message/index.js';
import { ClientLimitError, ClientRegistry, type ConsumerGroupInfo } from '../../../server/broker/client/ClientRegistry.js';

interface FakeConn {
  isClosed: boolean;
  remoteAddress: string;
  closeCalls: number;
  close(): void;
}

function conn(addr = '127.0.0.1:50000'): RemotingConnection & FakeConn {
  const c: FakeConn = {
    isClosed: false,
    remoteAddress: addr,
    closeCalls: 0,
    close() {
      c.closeCalls++;
      c.isClosed = true;
    },
  };
  return c as unknown as RemotingConnection & FakeConn;
}

function sub(topic: string, subString: string, subVersion: number): SubscriptionData {
  const tags = subString === '*' ? [] : subString.split('||').map((s) => s.trim());
  return { classFilterMode: false, topic, subString, tagsSet: tags, codeSet: tags.map(javaStringHash), subVersion, expressionType: 'TAG' };
}

function consumer(group: string, subs: SubscriptionData[], messageModel: MessageModel = 'CLUSTERING'): ConsumerData {
  return {
    groupName: group,
    consumeType: 'CONSUME_PASSIVELY',
    messageModel,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    subscriptionDataSet: subs,
    unitMode: false,
  };
}

function setup(opts: { maxClientsPerGroup?: number } = {}) {
  const clock = { now: 1_000_000 };
  const notified: string[] = [];
  const r = new ClientRegistry({
    now: () => clock.now,
    onConsumerIdsChanged: (g: ConsumerGroupInfo) => notified.push(`${g.groupName}:${[...g.channels.keys()].sort().join(',')}`),
    ...opts,
  });
  return { r, clock, notified };
}

t.test('a heartbeat registers the consumer with its subscriptions and the group is told', async (t) => {
  const { r, notified } = setup();
  const c1 = conn();
  const changed = r.registerConsumer(consumer('G', [sub('T', 'TagA || TagB', 10)]), 'cid-1', c1, 'JAVA', 409);
  t.ok(changed, 'a new member is a change');
  t.same(r.consumerIds('G'), ['cid-1']);
  const g = r.consumers.get('G')!;
  t.equal(g.channels.get('cid-1')!.language, 'JAVA');
  t.equal(g.channels.get('cid-1')!.version, 409);
  const s = g.subscriptions.get('T')!;
  t.equal(s.subString, 'TagA || TagB');
  t.notOk(s.filter.all);
  t.same([...s.filter.codeSet].sort(), [javaStringHash('TagA'), javaStringHash('TagB')].sort(), 'the tag filter is parsed once');
  t.same(notified, ['G:cid-1'], 'NOTIFY callback for the new member');
  t.same(r.groupsSubscribedTo('T'), ['G']);
  t.equal(r.consumerCount, 1);

  t.notOk(r.registerConsumer(consumer('G', [sub('T', 'TagA || TagB', 10)]), 'cid-1', c1, 'JAVA', 409), 'the same heartbeat again changes nothing');
  t.equal(notified.length, 1, 'and the group is not told again');

  r.registerConsumer(consumer('G', [sub('T', '*', 11)]), 'cid-2', conn('127.0.0.1:50001'), 'GO', 317);
  t.same(notified, ['G:cid-1', 'G:cid-1,cid-2'], 'a second member: every channel of the group is told');
});

t.test('subscription versions: an older or equal version never replaces a newer one', async (t) => {
  const { r, notified } = setup();
  const c = conn();
  r.registerConsumer(consumer('G', [sub('T', 'TagA', 20)]), 'cid', c, 'JAVA', 409);
  t.notOk(r.registerConsumer(consumer('G', [sub('T', 'TagB', 10)]), 'cid', c, 'JAVA', 409), 'older version: no change');
  t.equal(r.consumers.get('G')!.subscriptions.get('T')!.subString, 'TagA');
  t.notOk(r.registerConsumer(consumer('G', [sub('T', 'TagB', 20)]), 'cid', c, 'JAVA', 409), 'equal version: no change');
  t.equal(r.consumers.get('G')!.subscriptions.get('T')!.subVersion, 20);
  t.ok(r.registerConsumer(consumer('G', [sub('T', 'TagB', 30)]), 'cid', c, 'JAVA', 409), 'newer version with a new expression: changed');
  const s = r.consumers.get('G')!.subscriptions.get('T')!;
  t.equal(s.subString, 'TagB');
  t.equal(s.subVersion, 30);
  t.notOk(r.registerConsumer(consumer('G', [sub('T', 'TagB', 31)]), 'cid', c, 'JAVA', 409), 'newer version, same expression: stored but no change');
  t.equal(r.consumers.get('G')!.subscriptions.get('T')!.subVersion, 31);
  t.ok(r.registerConsumer(consumer('G', [sub('U', '*', 40)]), 'cid', c, 'JAVA', 409), 'a heartbeat that drops a topic is a change');
  t.same([...r.consumers.get('G')!.subscriptions.keys()], ['U'], 'the dropped subscription is gone');
  t.equal(notified.length, 1, 'subscription changes alone do not notify (only membership does)');
});

t.test('BROADCASTING groups are never told about member changes', async (t) => {
  const { r, notified } = setup();
  const a = conn();
  const b = conn('127.0.0.1:2');
  r.registerConsumer(consumer('B', [sub('T', '*', 1)], 'BROADCASTING'), 'a', a, 'JAVA', 409);
  r.registerConsumer(consumer('B', [sub('T', '*', 1)], 'BROADCASTING'), 'b', b, 'JAVA', 409);
  t.same(r.consumerIds('B').sort(), ['a', 'b']);
  r.unregister('a', undefined, 'B');
  r.connectionClosed(b);
  t.same(notified, [], 'no NOTIFY for a broadcasting group');
  t.notOk(r.consumers.has('B'), 'the group is gone with its last member');
});

t.test('unregister and connection close remove members and tell the rest', async (t) => {
  const { r, notified } = setup();
  const a = conn();
  const b = conn('127.0.0.1:2');
  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'a', a, 'JAVA', 409);
  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'b', b, 'JAVA', 409);
  r.registerProducer('P', 'a', a, 'JAVA', 409);
  notified.length = 0;
  r.unregister('a', 'P', 'G');
  t.same(r.consumerIds('G'), ['b']);
  t.equal(r.producerCount, 0, 'producer registration removed');
  t.same(notified, ['G:b'], 'the remaining member is told');
  r.unregister('nobody', 'P', 'G');
  t.same(notified, ['G:b'], 'unregistering an unknown client tells nobody');

  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'a', a, 'JAVA', 409);
  r.registerProducer('P', 'b', b, 'JAVA', 409);
  notified.length = 0;
  r.connectionClosed(b);
  t.same(r.consumerIds('G'), ['a'], 'everything registered over the closed connection goes');
  t.notOk(r.producers.has('P'), 'an emptied producer group is removed');
  t.same(notified, ['G:a']);
  r.connectionClosed(a);
  t.notOk(r.consumers.has('G'));
  t.same(notified, ['G:a'], 'nobody left to tell');
});

t.test('the expiry scan drops silent clients, closes their connections and tells the group', async (t) => {
  const { r, clock, notified } = setup();
  const old = conn();
  const fresh = conn('127.0.0.1:2');
  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'old', old, 'JAVA', 409);
  r.registerProducer('P', 'old', old, 'JAVA', 409);
  clock.now += 60_000;
  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'fresh', fresh, 'JAVA', 409);
  notified.length = 0;
  clock.now += 60_000;
  t.equal(r.scanExpired(), 0, 'exactly channelExpiredTimeout silent: still kept');
  clock.now += 1;
  t.equal(r.scanExpired(), 2, 'one consumer and one producer registration expired');
  t.same(r.consumerIds('G'), ['fresh']);
  t.equal(r.producerCount, 0);
  t.ok(old.closeCalls >= 1, 'the expired connection is closed');
  t.equal(fresh.closeCalls, 0);
  t.same(notified, ['G:fresh']);
  clock.now += 1000;
  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'fresh', fresh, 'JAVA', 409);
  clock.now += 120_000;
  t.equal(r.scanExpired(), 0, 'a heartbeat renews the registration');
});

t.test('a client reconnecting on a new connection replaces its channel', async (t) => {
  const { r, notified } = setup();
  const first = conn();
  const second = conn('127.0.0.1:3');
  r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'cid', first, 'JAVA', 409);
  notified.length = 0;
  t.notOk(r.registerConsumer(consumer('G', [sub('T', '*', 1)]), 'cid', second, 'JAVA', 409), 'same client id: not a new member');
  t.equal(r.consumers.get('G')!.channels.get('cid')!.conn, second);
  r.connectionClosed(first);
  t.same(r.consumerIds('G'), ['cid'], 'closing the old connection does not drop the client');
  t.same(notified, []);
});

t.test('group size limit', async (t) => {
  const { r } = setup({ maxClientsPerGroup: 2 });
  r.registerConsumer(consumer('G', []), 'a', conn(), 'JAVA', 409);
  r.registerConsumer(consumer('G', []), 'b', conn(), 'JAVA', 409);
  t.throws(() => r.registerConsumer(consumer('G', []), 'c', conn(), 'JAVA', 409), ClientLimitError);
  t.doesNotThrow(() => r.registerConsumer(consumer('G', []), 'a', conn(), 'JAVA', 409), 'a known member still renews');
});
