// Two ali-ons consumers of one group, in two processes (two client ids), against a real
// bin/mqbroker: they split the queues and together get every message once; when one leaves,
// the other takes its queues (from the offsets the first committed) and gets what is sent
// afterwards on every queue.
import t from 'tap';
import { createTopic } from '../helpers/broker.js';
import { OnsClient, type OnsMessageSpec, type OnsReceived } from '../helpers/ons.js';
import { countBy, pastLastSent, startCluster, waitCommitted } from './e2eSetup.js';

const TOPIC = 'E2E_REBALANCE';
const GROUP = 'GID_E2E_REBALANCE';
const QUEUES = [0, 1, 2, 3];
// ali-ons rebalances on a timer only (it ignores NOTIFY_CONSUMER_IDS_CHANGED); 1 s instead of 10 s
const CLIENT = { rebalanceInterval: 1000, persistConsumerOffsetInterval: 500 };

function batch(name: string, n: number): OnsMessageSpec[] {
  return Array.from({ length: n }, (_, i) => ({ tags: 'TagA', keys: [`${name}-${i}`], body: `${name} #${i}` }));
}

async function until(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const keyOf = (m: OnsReceived): string => m.keys ?? '';

t.test('two consumers of a group split the queues; the one left takes them all', async (t) => {
  const { namesrvAddr, broker, admin } = await startCluster(t);
  await createTopic(broker.addr, namesrvAddr, TOPIC, QUEUES.length);

  const a = await OnsClient.start(t, namesrvAddr, { name: 'A', ...CLIENT });
  await a.consume({ group: GROUP, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });
  t.same(await a.queues(GROUP, TOPIC), QUEUES, 'alone, A holds every queue');

  const b = await OnsClient.start(t, namesrvAddr, { name: 'B', ...CLIENT });
  await b.consume({ group: GROUP, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });
  let qa: number[] = [];
  let qb: number[] = [];
  await until('A and B split the queues', 15_000, async () => {
    [qa, qb] = await Promise.all([a.queues(GROUP, TOPIC), b.queues(GROUP, TOPIC)]);
    return qa.length === 2 && qb.length === 2 && new Set([...qa, ...qb]).size === 4;
  });
  t.pass(`A holds ${qa.join(',')}, B holds ${qb.join(',')}`);
  const conn = await admin.examineConsumerConnection(GROUP);
  const ids = conn.connectionSet.map((c) => c.clientId).sort();
  t.same(ids, [`127.0.0.1@${a.child.pid}`, `127.0.0.1@${b.child.pid}`].sort(), 'the broker lists both client ids');

  const sent1 = (await a.produce(TOPIC, 'PID_E2E_REBALANCE', batch('one', 40))).sent;
  t.same(new Set(sent1.map((s) => s.queueId)), new Set(QUEUES), 'batch one covers every queue');
  await until('batch one consumed by A and B together', 20_000, async () => a.received.length + b.received.length >= 40);
  await waitCommitted(admin, GROUP, TOPIC, 15_000, pastLastSent(sent1));
  t.ok(a.received.length > 0 && b.received.length > 0, `both consumed (A ${a.received.length}, B ${b.received.length})`);
  t.ok(a.received.every((m) => qa.includes(m.queueId)), "A got messages of its queues only");
  t.ok(b.received.every((m) => qb.includes(m.queueId)), "B got messages of its queues only");
  const once = countBy([...a.received, ...b.received], keyOf);
  t.equal(once.size, 40, 'together: every message of batch one');
  t.ok([...once.values()].every((n) => n === 1), 'no duplicates');

  // B leaves: close() commits its offsets and unregisters; A's next rebalance takes its queues
  await b.closeConsumer(GROUP);
  await b.exit();
  await until('A holds every queue again', 15_000, async () => (await a.queues(GROUP, TOPIC)).length === 4);
  const conn2 = await admin.examineConsumerConnection(GROUP);
  t.same(conn2.connectionSet.map((c) => c.clientId), [`127.0.0.1@${a.child.pid}`], 'the broker lists A only');

  const before = a.received.length;
  const sent2 = (await a.produce(TOPIC, 'PID_E2E_REBALANCE', batch('two', 40))).sent;
  t.same(new Set(sent2.map((s) => s.queueId)), new Set(QUEUES), 'batch two covers every queue');
  await a.waitForCount(40, 20_000, (m) => keyOf(m).startsWith('two-'));
  await waitCommitted(admin, GROUP, TOPIC, 15_000);
  const after = a.received.slice(before);
  t.same(new Set(after.map((m) => m.queueId)), new Set(QUEUES), "A gets batch two from every queue, B's former ones included");
  t.ok(after.every((m) => keyOf(m).startsWith('two-')), "nothing of batch one again: A started B's queues at B's committed offsets");
  const total = countBy([...a.received, ...b.received], keyOf);
  t.equal(total.size, 80);
  t.ok([...total.values()].every((n) => n === 1), 'every message of both batches exactly once');
  await a.exit();
});
