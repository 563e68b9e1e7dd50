// ali-ons consumer failures against a real bin/mqbroker with 1 s delay levels: a message whose
// handler fails once comes back through %RETRY%<group> after its delay with reconsumeTimes 1;
// one that always fails lands in %DLQ%<group> after maxReconsumeTimes, where the admin calls
// find it (the DLQ is write-only for consumers, as in Java).
import t from 'tap';
import { RemotingError } from '../../protocol/remoting/errors.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { createTopic } from '../helpers/broker.js';
import { OnsClient } from '../helpers/ons.js';
import { SHORT_DELAY_LEVELS, startCluster, waitCommitted } from './e2eSetup.js';

const TOPIC = 'E2E_RETRY';
const GROUP = 'GID_E2E_RETRY';
const RETRY = `%RETRY%${GROUP}`;
const DLQ = `%DLQ%${GROUP}`;
const MAX_RECONSUME = 2;

t.test('a failed message is retried after its delay; one that always fails goes to the DLQ', async (t) => {
  const { namesrvAddr, broker, admin } = await startCluster(t, { conf: { messageDelayLevel: SHORT_DELAY_LEVELS } });
  await createTopic(broker.addr, namesrvAddr, TOPIC, 2);
  const ons = await OnsClient.start(t, namesrvAddr, { persistConsumerOffsetInterval: 500 });
  await ons.consume({
    group: GROUP,
    topic: TOPIC,
    expression: '*',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    maxReconsumeTimes: MAX_RECONSUME,
    failTimes: { 'k-once': 1, 'k-always': 1000 },
  });
  const { sent } = await ons.produce(TOPIC, 'PID_E2E_RETRY', [
    { tags: 'TagA', keys: ['k-ok'], body: 'fine' },
    { tags: 'TagA', keys: ['k-once'], body: 'fails once, then fine' },
    { tags: 'TagB', keys: ['k-always'], body: 'fails every time ✗' },
  ]);
  const [okSent, onceSent, alwaysSent] = sent as [(typeof sent)[0], (typeof sent)[0], (typeof sent)[0]];
  const byKey = (k: string) => ons.received.filter((m) => m.keys === k);

  // delivered, failed, sent back, delayed 1 s (level 3 = 3 + reconsumeTimes 0), delivered again
  await ons.waitFor('k-once delivered twice', () => byKey('k-once').length >= 2, 20_000);
  const [first, again] = byKey('k-once') as [(typeof ons.received)[0], (typeof ons.received)[0]];
  t.equal(first.reconsumeTimes, 0);
  t.equal(first.failed, true);
  t.equal(first.queueTopic, TOPIC);
  t.equal(again.reconsumeTimes, 1, 'the retry has reconsumeTimes 1');
  t.equal(again.queueTopic, RETRY, 'the retry is pulled from %RETRY%<group>');
  t.equal(again.topic, TOPIC, 'and shown to the handler under its own topic');
  t.equal(again.properties.RETRY_TOPIC, TOPIC);
  t.equal(again.properties.ORIGIN_MESSAGE_ID, onceSent.msgId, 'ORIGIN_MESSAGE_ID is the first message id');
  t.equal(again.tags, 'TagA');
  t.equal(again.body.toString(), 'fails once, then fine');
  t.equal(again.failed, false);
  t.ok(again.at - first.at >= 900, `the retry came after its 1 s delay (${again.at - first.at} ms)`);

  // maxReconsumeTimes 2: deliveries with reconsumeTimes 0, 1 and 2 fail, then the DLQ
  const dlqCount = async (): Promise<number> => {
    try {
      return await admin.getMaxOffset(broker.addr, { topic: DLQ, brokerName: 'broker-a', queueId: 0 });
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 20_000;
  while ((await dlqCount()) < 1) {
    if (Date.now() > deadline) {
      throw new Error(`nothing in ${DLQ} after 20 s; k-always deliveries: ${JSON.stringify(byKey('k-always').map((m) => m.reconsumeTimes))}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // every retry the consumer was given is consumed: nothing is on its way any more
  await waitCommitted(admin, GROUP, RETRY, 10_000);
  await waitCommitted(admin, GROUP, TOPIC, 10_000);
  t.same(
    byKey('k-always').map((m) => [m.reconsumeTimes, m.queueTopic, m.failed]),
    [
      [0, TOPIC, true],
      [1, RETRY, true],
      [2, RETRY, true],
    ],
    'k-always: three failed deliveries, then no more',
  );
  t.same(byKey('k-ok').map((m) => m.reconsumeTimes), [0], 'k-ok: once');
  t.equal(byKey('k-once').length, 2, 'k-once: twice');
  t.equal(await dlqCount(), 1, 'one message in the DLQ');

  const found = await admin.queryMessage(broker.addr, { topic: DLQ, key: 'k-always', maxNum: 32, beginTimestamp: 0, endTimestamp: Date.now() + 60_000 });
  t.equal(found.length, 1, 'queryMessage by key finds it in the DLQ');
  const dead = found[0]!;
  t.equal(dead.topic, DLQ);
  t.equal(dead.reconsumeTimes, MAX_RECONSUME + 1, 'reconsumeTimes as Java counts it: one more than the last delivery');
  t.equal(dead.properties.get('ORIGIN_MESSAGE_ID'), alwaysSent.msgId);
  t.equal(dead.properties.get('RETRY_TOPIC'), TOPIC);
  t.equal(dead.properties.get('TAGS'), 'TagB');
  t.equal(dead.properties.get('DELAY'), undefined, 'no delay left on the dead message');
  const viewed = await admin.viewMessage(broker.addr, dead.physicalOffset);
  t.equal((viewed.inflatedBody ?? viewed.body).toString(), 'fails every time ✗', 'viewMessage by its offset: the body');
  t.equal(viewed.offsetMsgId, dead.offsetMsgId);

  // DLQ topics are created write-only, so consumers cannot read them until an operator says so
  const pullCode = await admin
    .pullMessage(broker.addr, { consumerGroup: 'GID_DLQ_READER', mq: { topic: DLQ, brokerName: 'broker-a', queueId: 0 }, offset: 0, maxNums: 1 })
    .then(
      () => ResponseCode.SUCCESS,
      (e: unknown) => (e instanceof RemotingError ? e.code : -1),
    );
  t.equal(pullCode, ResponseCode.NO_PERMISSION, 'pulling the DLQ: NO_PERMISSION');
  t.equal(okSent.sendStatus, 'SEND_OK');
  await ons.exit();
});
