// ali-ons against a real bin/mqbroker: tags, keys, compressed and non-ASCII bodies reach a
// clustering consumer subscribed to 'TagA || TagB' exactly once; TagC never does, and the
// broker itself filters (a pull with the same expression returns no TagC).
import t from 'tap';
import { createTopic } from '../helpers/broker.js';
import { OnsClient, type OnsMessageSpec } from '../helpers/ons.js';
import { countBy, pastLastSent, startCluster, textBody, waitCommitted } from './e2eSetup.js';

const TOPIC = 'E2E_DELIVERY';
const GROUP = 'GID_E2E_DELIVERY';
const N = 60;
const TAGS = ['TagA', 'TagB', 'TagC'];

function message(i: number): OnsMessageSpec & { body: string } {
  let body: string;
  if (i % 10 === 0) body = textBody(i, 4096 + i * 97); // over ali-ons' 4 KiB threshold: sent deflated
  else if (i === 7) body = textBody(i, 150_000); // one large body, several pulls' worth of bytes
  else if (i % 5 === 1) body = `Grüße aus Köln, 你好世界, привет мир, 🚀 #${i}`;
  else body = `message ${i}`;
  return { tags: TAGS[i % 3], keys: [`k-${i}`, `order-${i % 7}`], body };
}

t.test('tags, keys and bodies reach a TagA || TagB consumer exactly once', async (t) => {
  const { namesrvAddr, broker, admin } = await startCluster(t);
  await createTopic(broker.addr, namesrvAddr, TOPIC, 4);

  const ons = await OnsClient.start(t, namesrvAddr, { name: 'producer+consumer', persistConsumerOffsetInterval: 500 });
  const messages = Array.from({ length: N }, (_, i) => message(i));
  const { sent, elapsedMs } = await ons.produce(TOPIC, 'PID_E2E_DELIVERY', messages);
  t.comment(`ali-ons sent ${N} messages one by one in ${elapsedMs} ms (${Math.round((N * 1000) / Math.max(1, elapsedMs))} msg/s, not asserted)`);
  t.equal(sent.length, N);
  t.ok(sent.every((s) => s.sendStatus === 'SEND_OK'), 'every send is SEND_OK');
  t.equal(new Set(sent.map((s) => s.msgId)).size, N, 'distinct message ids');
  t.same(new Set(sent.map((s) => s.queueId)), new Set([0, 1, 2, 3]), 'the producer spread the messages over the 4 queues');
  // queue offsets per queue are 0..n-1 in send order
  for (const q of [0, 1, 2, 3]) {
    const offs = sent.filter((s) => s.queueId === q).map((s) => s.queueOffset);
    t.same(offs, offs.map((_, i) => i), `queue ${q}: offsets 0..${offs.length - 1} in order`);
  }

  // The default CONSUME_FROM_LAST_OFFSET: a new group on a young queue still starts at 0,
  // because the broker answers QUERY_CONSUMER_OFFSET with 0 there (as Java does).
  await ons.consume({ group: GROUP, topic: TOPIC, expression: 'TagA || TagB' });
  const expected = messages.map((m, i) => ({ ...m, i })).filter((m) => m.tags !== 'TagC');
  await ons.waitForCount(expected.length, 30_000);
  // the consumer has committed past the last TagA/TagB message of every queue: a duplicate
  // would have come by now (a queue's trailing TagC messages are committed only after the
  // next long poll, so the end of the queue is not waited for)
  await waitCommitted(admin, GROUP, TOPIC, 15_000, pastLastSent(sent.filter((_, i) => TAGS[i % 3] !== 'TagC')));

  const got = ons.received;
  t.equal(got.filter((m) => m.tags === 'TagC').length, 0, 'no TagC message');
  const perKey = countBy(got, (m) => (m.keys ?? '').split(' ')[0] ?? '');
  t.same([...perKey.entries()].filter(([, n]) => n !== 1), [], 'each message exactly once');
  t.equal(got.length, expected.length);
  for (const m of expected) {
    const r = got.find((x) => x.keys === `k-${m.i} order-${m.i % 7}`);
    if (!t.ok(r, `message ${m.i} received`) || !r) continue;
    t.equal(r.tags, m.tags, `message ${m.i} tags`);
    t.equal(r.topic, TOPIC);
    t.equal(r.reconsumeTimes, 0);
    t.ok(r.body.equals(Buffer.from(m.body, 'utf8')), `message ${m.i} body (${m.body.length} chars) intact`);
    const s = sent[m.i]!;
    t.equal(r.queueId, s.queueId, `message ${m.i} in the queue the producer was told`);
    t.equal(r.queueOffset, s.queueOffset, `message ${m.i} at the offset the producer was told`);
    t.equal(r.msgId, s.msgId, `message ${m.i}: the consumer's msgId (store host + commit-log offset) is the send result's`);
  }

  // The broker filters by tag too (ali-ons would hide a broker that does not).
  for (const q of [0, 1, 2, 3]) {
    const tags: Array<string | undefined> = [];
    for (let offset = 0, pulls = 0; pulls < 20; pulls++) {
      const mq = { topic: TOPIC, brokerName: 'broker-a', queueId: q };
      const res = await admin.pullMessage(broker.addr, { consumerGroup: 'GID_E2E_PULL_CHECK', mq, offset, maxNums: 32, subscription: 'TagA || TagB' });
      if (res.status !== 'FOUND') break;
      tags.push(...res.messages.map((m) => m.properties.get('TAGS')));
      offset = res.nextBeginOffset;
    }
    t.notOk(tags.includes('TagC'), `queue ${q}: the broker's pull with 'TagA || TagB' returns no TagC`);
    t.equal(tags.length, sent.filter((s, i) => s.queueId === q && TAGS[i % 3] !== 'TagC').length, `queue ${q}: every TagA/TagB message`);
  }
  await ons.exit();
});
