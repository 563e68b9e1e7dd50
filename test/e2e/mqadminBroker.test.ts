// bin/mqadmin against a real bin/mqbroker that ali-ons produced to and consumed from: every
// broker sub-command, with values that follow from what the test did (queue offsets equal the
// messages sent per queue, lag 0 after full consumption, the consumer's client id, ...).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { OnsClient } from '../helpers/ons.js';
import { runBin, tempDir } from '../helpers/processes.js';
import { startCluster, waitCommitted } from './e2eSetup.js';

const TOPIC = 'E2E_ADMIN';
const GROUP = 'GID_E2E_ADMIN';
const N = 30;

/** whitespace-separated cells of the rows of a table whose first cell is `first` */
function rows(out: string, first: string): string[][] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cells) => cells[0] === first);
}

t.test('mqadmin sub-commands against a broker that ali-ons used', async (t) => {
  const { namesrvAddr, broker, admin } = await startCluster(t);
  const bodyDir = tempDir(t, 'raftmq-msgbody-');
  const mqadmin = async (...args: string[]): Promise<string> => {
    const r = await runBin('mqadmin', [args[0]!, '-n', namesrvAddr, ...args.slice(1)], { NODE_OPTIONS: '', MQADMIN_MSG_BODY_DIR: bodyDir }, 60_000);
    if (r.code !== 0) throw new Error(`mqadmin ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const addr = broker.addr;

  // independent commands run side by side: each mqadmin is a node process start (slow on a
  // loaded machine, hence the long per-command timeout)
  const [clusters, created, sub] = await Promise.all([
    mqadmin('clusterList'),
    mqadmin('updateTopic', '-b', addr, '-t', TOPIC, '-r', '3', '-w', '3'),
    mqadmin('updateSubGroup', '-b', addr, '-g', GROUP, '-r', '5'),
  ]);
  t.match(clusters, /^#Cluster Name\s+#Broker Name\s+#BID\s+#Addr\s+#Version/, 'clusterList header');
  const brokerRow = rows(clusters, 'DefaultCluster');
  t.equal(brokerRow.length, 1, 'one broker row');
  t.same(brokerRow[0]!.slice(0, 4), ['DefaultCluster', 'broker-a', '0', addr], 'cluster, name, BID 0, address');

  t.equal(
    created,
    `create topic to ${addr} success.\nTopicConfig [topicName=${TOPIC}, readQueueNums=3, writeQueueNums=3, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]`,
  );
  t.match(sub, new RegExp(`^create subscription group to ${addr} success\\.\\n`));
  t.match(sub, /groupName=GID_E2E_ADMIN/);
  t.match(sub, /retryMaxTimes=5/);

  const ons = await OnsClient.start(t, namesrvAddr, { persistConsumerOffsetInterval: 500 });
  const { sent } = await ons.produce(
    TOPIC,
    'PID_E2E_ADMIN',
    Array.from({ length: N }, (_, i) => ({ tags: i % 2 === 0 ? 'TagA' : 'TagB', keys: [`adm-${i}`], body: `admin body ${i}` })),
  );
  const sendOut = await mqadmin('sendMessage', '-t', TOPIC, '-p', 'hello admin', '-k', 'adminKey', '-c', 'TagZ', '-b', 'broker-a', '-i', '1');
  t.match(sendOut, /^#Broker Name\s+#QID\s+#Send Result\s+#MsgId\n/);
  const sendRow = rows(sendOut, 'broker-a')[0]!;
  t.same(sendRow.slice(0, 3), ['broker-a', '1', 'SEND_OK'], 'sendMessage to queue 1: SEND_OK');
  t.match(sendRow[3], /^[0-9A-F]{32}$/, 'with a message id');

  const perQueue = [0, 0, 0];
  for (const s of sent) perQueue[s.queueId]!++;
  perQueue[1]!++;
  const status = await mqadmin('topicStatus', '-t', TOPIC);
  t.match(status, /^#Broker Name\s+#QID\s+#Min Offset\s+#Max Offset\s+#Last Updated\n/);
  t.same(
    rows(status, 'broker-a').map((r) => r.slice(0, 4)),
    perQueue.map((n, q) => ['broker-a', String(q), '0', String(n)]),
    `topicStatus: max offsets ${perQueue.join('/')} = messages sent per queue`,
  );

  await ons.consume({ group: GROUP, topic: TOPIC, expression: '*', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });
  await ons.waitForCount(N + 1, 20_000);
  await waitCommitted(admin, GROUP, TOPIC, 15_000);

  const five = sent[5]!;
  const [progress, connection, byKey, byId, brokerStatus, config, consumed] = await Promise.all([
    mqadmin('consumerProgress', '-g', GROUP),
    mqadmin('consumerConnection', '-g', GROUP),
    mqadmin('queryMsgByKey', '-t', TOPIC, '-k', 'adm-5'),
    mqadmin('queryMsgById', '-i', five.msgId),
    mqadmin('brokerStatus', '-b', addr),
    mqadmin('getBrokerConfig', '-b', addr),
    mqadmin('consumeMessage', '-t', TOPIC, '-b', 'broker-a', '-i', '1', '-o', '0', '-c', '100'),
  ]);
  t.match(progress, /^#Topic\s+#Broker Name\s+#QID\s+#Broker Offset\s+#Consumer Offset\s+#Diff\s+#LastTime\n/);
  t.same(
    rows(progress, TOPIC).map((r) => r.slice(0, 6)),
    perQueue.map((n, q) => [TOPIC, 'broker-a', String(q), String(n), String(n), '0']),
    'consumerProgress: every queue consumed to its end, diff 0',
  );
  t.match(progress, /\nDiff Total: 0\n$/);

  const clientRow = rows(connection, `127.0.0.1@${ons.child.pid}`)[0];
  t.ok(clientRow, 'consumerConnection lists the ali-ons client id');
  t.equal(clientRow?.[2], 'JAVA', 'ali-ons says it is JAVA');
  t.match(connection, new RegExp(`Below is subscription:\\n#Topic\\s+#SubExpression\\n`));
  t.match(connection, new RegExp(`\\n${TOPIC}\\s+\\*\\n`), 'the subscription');
  t.match(connection, /ConsumeType: CONSUME_PASSIVELY\nMessageModel: CLUSTERING\nConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET\n$/);

  t.match(byKey, /^#Message ID\s+#QID\s+#Offset\n/);
  const keyRows = byKey.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  t.equal(keyRows.length, 1, 'queryMsgByKey: one message with key adm-5');
  t.same(keyRows[0]?.slice(1), [String(five.queueId), String(five.queueOffset)], 'in the queue and at the offset the send reported');

  t.match(byId, new RegExp(`^OffsetID:\\s+${five.msgId}\\n`));
  t.match(byId, new RegExp(`\\nTopic:\\s+${TOPIC}\\n`));
  t.match(byId, /\nTags:\s+\[TagB\]\n/);
  t.match(byId, /\nKeys:\s+\[adm-5\]\n/);
  t.match(byId, new RegExp(`\\nQueue ID:\\s+${five.queueId}\\nQueue Offset:\\s+${five.queueOffset}\\n`));
  t.match(byId, new RegExp(`\\nStore Host:\\s+${addr}\\n`));
  const bodyPath = /\nMessage Body Path:\s+(\S+)\n/.exec(byId)?.[1];
  t.equal(bodyPath && path.dirname(bodyPath), bodyDir);
  t.equal(bodyPath && fs.readFileSync(bodyPath, 'utf8'), 'admin body 5', 'the body file');
  t.match(byId, `MessageTrack [consumerGroup=${GROUP}, trackType=CONSUMED, exceptionDesc=null]`, 'the group has consumed it');

  const kv = new Map(
    brokerStatus
      .trim()
      .split('\n')
      .map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim(), l.slice(i + 1).trim()] as [string, string];
      }),
  );
  t.equal(kv.get('msgPutTotalTodayNow'), String(N + 1), 'brokerStatus: messages put = what was sent');
  t.ok(Number(kv.get('msgGetTotalTodayNow')) >= N + 1, `brokerStatus (consumeMessage may pull meanwhile): messages got ${kv.get('msgGetTotalTodayNow')} >= ${N + 1}`);
  t.ok(kv.has('brokerVersionDesc') && kv.has('putTps') && kv.has('runtime'));
  t.same([...kv.keys()], [...kv.keys()].sort(), 'sorted by key');

  t.match(config, new RegExp(`^============${addr}============\\n`));
  t.match(config, /\nbrokerName\s+=  broker-a\n/);
  t.match(config, new RegExp(`\\nlistenPort\\s+=  ${broker.port}\\n`));
  t.match(config, new RegExp(`\\nnamesrvAddr\\s+=  ${namesrvAddr}\\n`));

  const msgLines = consumed.split('\n').filter((l) => l.startsWith('MSGID: '));
  t.equal(msgLines.length, perQueue[1], 'consumeMessage: every message of queue 1');
  t.ok(msgLines.some((l) => l.endsWith(' BODY: hello admin')), 'the one mqadmin sent among them');
  t.ok(msgLines.every((l) => l.includes(`topic='${TOPIC}'`) && l.includes('queueId=1,')));

  await ons.exit();
  t.equal(
    await mqadmin('deleteTopic', '-t', TOPIC, '-c', 'DefaultCluster'),
    `delete topic [${TOPIC}] from cluster [DefaultCluster] success.\ndelete topic [${TOPIC}] from NameServer success.\n`,
  );
  const gone = await runBin('mqadmin', ['topicRoute', '-n', namesrvAddr, '-t', TOPIC], { NODE_OPTIONS: '' });
  t.equal(gone.code, 1, 'the route is gone');
  t.match(gone.stderr, /CODE: 17/);
  t.notMatch(await mqadmin('topicList'), new RegExp(`^${TOPIC}$`, 'm'), 'not in topicList');
  const status2 = await runBin('mqadmin', ['topicStatus', '-n', namesrvAddr, '-t', TOPIC], { NODE_OPTIONS: '' });
  t.equal(status2.code, 1, 'topicStatus of the deleted topic fails');
});
