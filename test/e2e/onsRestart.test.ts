// A real bin/mqbroker restarted (SIGTERM, then again on the same store and port) between
// produce and consume: nothing is lost, queue offsets continue where they were, and a group
// that committed offsets before the restart resumes after them.
import t from 'tap';
import { createTopic, startBrokerProcess } from '../helpers/broker.js';
import { OnsClient, type OnsMessageSpec, type OnsReceived, type OnsSent } from '../helpers/ons.js';
import { countBy, startCluster, textBody, waitCommitted } from './e2eSetup.js';

const TOPIC = 'E2E_RESTART';
const GROUP = 'GID_E2E_RESUME';
const FRESH = 'GID_E2E_FRESH';
const PRODUCER = 'PID_E2E_RESTART';

function batch(name: string, n: number): Array<OnsMessageSpec & { body: string }> {
  return Array.from({ length: n }, (_, i) => ({
    tags: 'TagA',
    keys: [`${name}-${i}`],
    body: i % 4 === 0 ? textBody(i + name.length, 5000) : `${name} message ${i} ✓`,
  }));
}

const keyOf = (m: OnsReceived): string => m.keys ?? '';

t.test('a restarted broker keeps messages, queue offsets and committed consumer offsets', async (t) => {
  const { namesrvAddr, broker, admin } = await startCluster(t);
  await createTopic(broker.addr, namesrvAddr, TOPIC, 4);

  // before: GROUP consumes batch 1 and closes (which commits); batch 2 is sent after
  const before = await OnsClient.start(t, namesrvAddr, { name: 'before', persistConsumerOffsetInterval: 500 });
  const b1 = batch('b1', 20);
  const b2 = batch('b2', 20);
  const sent1 = (await before.produce(TOPIC, PRODUCER, b1)).sent;
  await before.consume({ group: GROUP, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });
  await before.waitForCount(b1.length, 20_000);
  await before.closeConsumer(GROUP);
  const sent2 = (await before.produce(TOPIC, PRODUCER, b2)).sent;
  await before.exit();
  t.same([...countBy(before.received, keyOf).values()], b1.map(() => 1), 'before the restart: batch 1, each once');

  const maxBefore = new Map<number, number>();
  for (const s of [...sent1, ...sent2]) maxBefore.set(s.queueId, Math.max(maxBefore.get(s.queueId) ?? 0, s.queueOffset + 1));

  t.equal(await broker.stop(), 0, 'the broker exits 0 on SIGTERM');
  const again = await startBrokerProcess(t, { namesrvAddr, storeDir: broker.storeDir, port: broker.port });
  t.equal(again.addr, broker.addr);

  const stats = await admin.examineTopicStats(TOPIC);
  for (const [mq, o] of stats.offsetTable) {
    t.equal(o.maxOffset, maxBefore.get(mq.queueId) ?? 0, `queue ${mq.queueId}: max offset kept`);
    t.equal(o.minOffset, 0);
  }
  const committed = await admin.examineConsumeStats(GROUP, TOPIC);
  const sumCommitted = [...committed.offsetTable].reduce((a, [, o]) => a + o.consumerOffset, 0);
  t.equal(sumCommitted, b1.length, 'the offsets GROUP committed before the restart are kept: batch 1 consumed');

  // after: batch 3 continues the queues' offsets
  const after = await OnsClient.start(t, namesrvAddr, { name: 'after', persistConsumerOffsetInterval: 500 });
  const b3 = batch('b3', 8);
  const sent3: OnsSent[] = (await after.produce(TOPIC, PRODUCER, b3)).sent;
  const next = new Map(maxBefore);
  for (const s of sent3) {
    t.equal(s.queueOffset, next.get(s.queueId) ?? 0, `batch 3 on queue ${s.queueId} continues at offset ${s.queueOffset}`);
    next.set(s.queueId, s.queueOffset + 1);
  }

  // GROUP resumes after batch 1 (it would get batch 1 again from FIRST_OFFSET if its offsets were lost)
  await after.consume({ group: GROUP, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });
  // a fresh group reads everything: nothing was lost
  const fresh = await OnsClient.start(t, namesrvAddr, { name: 'fresh', persistConsumerOffsetInterval: 500 });
  await fresh.consume({ group: FRESH, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });

  await after.waitForCount(b2.length + b3.length, 20_000);
  await fresh.waitForCount(b1.length + b2.length + b3.length, 20_000);
  await waitCommitted(admin, GROUP, TOPIC, 15_000);
  await waitCommitted(admin, FRESH, TOPIC, 15_000);

  const resumed = countBy(after.received, keyOf);
  t.same([...resumed.keys()].sort(), [...b2, ...b3].map((m) => m.keys![0]!).sort(), 'GROUP after the restart: batches 2 and 3 only');
  t.ok([...resumed.values()].every((n) => n === 1), 'each once');
  const all = countBy(fresh.received, keyOf);
  t.same([...all.keys()].sort(), [...b1, ...b2, ...b3].map((m) => m.keys![0]!).sort(), 'a fresh group: every message of the three batches');
  t.ok([...all.values()].every((n) => n === 1), 'each once');
  const bodies = new Map([...b1, ...b2, ...b3].map((m) => [m.keys![0]!, m.body]));
  t.ok(
    fresh.received.every((m) => m.body.toString('utf8') === bodies.get(keyOf(m))),
    'every body intact after the restart (deflated ones included)',
  );
  await after.exit();
  await fresh.exit();
});
