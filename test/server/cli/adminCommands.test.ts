// mqadmin's broker sub-commands: rendered from the captured answers of the real RocketMQ 4.9.8
// (byte-compared with its printed output), and run end to end, in-process and through
// bin/mqadmin, against the real name server and a stand-in broker with canned answers.
process.env.TZ = 'UTC'; // the fixtures were printed on a UTC machine; Java prints local time
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { decodeConsumeStats, encodeConsumeStats } from '../../../protocol/body/ConsumeStats.js';
import { encodeConsumerConnection, type ConsumerConnection } from '../../../protocol/body/ConsumerConnection.js';
import { decodeSubscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import { encodeKVTable } from '../../../protocol/body/KVTable.js';
import { encodeBrokerConfigBody } from '../../../protocol/body/BrokerConfigBody.js';
import { encodeRegisterBrokerBody } from '../../../protocol/body/RegisterBrokerBody.js';
import { topicConfig } from '../../../protocol/body/TopicConfig.js';
import { decodeTopicStatsTable, encodeTopicStatsTable } from '../../../protocol/body/TopicStatsTable.js';
import { encodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { MessageQueueMap } from '../../../protocol/body/MessageQueue.js';
import { encodeOffsetMsgId } from '../../../protocol/message/messageId.js';
import { createRequest, createResponse, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { renderTopicStatus } from '../../../server/cli/admin/topicCommands.js';
import { renderConsumerConnection, renderConsumerProgress, renderGroupRow, GROUP_LIST_HEADER } from '../../../server/cli/admin/consumerCommands.js';
import { renderBrokerStatus } from '../../../server/cli/admin/brokerCommands.js';
import { runAdmin } from '../../../server/cli/mqadmin.js';
import { left, versionDesc, javaMapToString } from '../../../server/cli/format.js';
import { RemotingServer } from '../../../server/remoting/RemotingServer.js';
import { silentLogger } from '../../../server/log.js';
import { capturedBodies } from '../../protocol/body/captured.js';
import { fixturePath } from '../../helpers/fixtures.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { runBin, tempDir } from '../../helpers/processes.js';
import { RawConnection } from '../../helpers/rawConnection.js';
import { storedRecord } from '../../helpers/storedRecord.js';

const expected = (name: string): string => fs.readFileSync(fixturePath('remoting', 'mqadmin-output', name), 'utf8');
const captured = (code: number, file: string): Buffer => capturedBodies(code, 'response').find((b) => b.file.startsWith(file))!.command.body as Buffer;

t.test('topicStatus renders the captured answers byte for byte', async (t) => {
  t.equal(renderTopicStatus(decodeTopicStatsTable(captured(RequestCode.GET_TOPIC_STATS_INFO, 'b-topicStatus.'))), expected('topicStatus-classic.txt'));
  t.equal(renderTopicStatus(decodeTopicStatsTable(captured(RequestCode.GET_TOPIC_STATS_INFO, 'b-topicStatus-empty'))), expected('topicStatus-classic-before.txt'));
  t.equal(renderTopicStatus(decodeTopicStatsTable(captured(RequestCode.GET_TOPIC_STATS_INFO, 'e-topicStatus'))), expected('topicStatus-dledger.txt'));
});

t.test('consumerProgress renders the captured answers byte for byte', async (t) => {
  t.equal(renderConsumerProgress(decodeConsumeStats(captured(RequestCode.GET_CONSUME_STATS, 'b-consumerProgress'))), expected('consumerProgress-classic.txt'));
  t.equal(renderConsumerProgress(decodeConsumeStats(captured(RequestCode.GET_CONSUME_STATS, 'e-consumerProgress'))), expected('consumerProgress-dledger.txt'));
  // No -g: the classic capture's second and third GET_CONSUME_STATS answers, both groups offline.
  const [, fx, lite] = capturedBodies(RequestCode.GET_CONSUME_STATS, 'response').filter((b) => b.file.startsWith('b-'));
  const all = GROUP_LIST_HEADER + renderGroupRow('FxConsumerGroup', decodeConsumeStats(fx!.command.body!), undefined) + renderGroupRow('FxLitePullGroup', decodeConsumeStats(lite!.command.body!), undefined);
  t.equal(all, expected('consumerProgress-all-classic.txt'));
});

const connection: ConsumerConnection = {
  connectionSet: [{ clientId: '192.0.2.2@fx-consumer', clientAddr: '127.0.0.1:53412', language: 'JAVA', version: 409 }],
  subscriptionTable: new Map([
    ['FxTopic', { classFilterMode: false, topic: 'FxTopic', subString: 'TagA || TagB', tagsSet: ['TagA', 'TagB'], codeSet: [2598919, 2598920], subVersion: 1, expressionType: 'TAG' }],
  ]),
  consumeType: 'CONSUME_PASSIVELY',
  messageModel: 'CLUSTERING',
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
};

t.test('consumerConnection, group rows of online groups, brokerStatus, versions', async (t) => {
  t.equal(
    renderConsumerConnection(connection),
    '#ClientId                            #ClientAddr            #Language  #Version\n' +
      '192.0.2.2@fx-consumer                127.0.0.1:53412        JAVA       V4_9_8\n' +
      '\nBelow is subscription:\n' +
      '#Topic               #SubExpression\n' +
      'FxTopic              TagA || TagB\n' +
      '\nConsumeType: CONSUME_PASSIVELY\nMessageModel: CLUSTERING\nConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET\n',
  );
  const stats = { offsetTable: new MessageQueueMap([[{ topic: 'T', brokerName: 'b', queueId: 0 }, { brokerOffset: 9, consumerOffset: 2, lastTimestamp: 0 }]] as const), consumeTps: 3.7 };
  t.equal(renderGroupRow('G', stats, connection), `${left('G', 64)}  1       V4_9_8                   PUSH   CLUSTERING      3        7\n`);
  t.equal(renderGroupRow('P', stats, { ...connection, consumeType: 'CONSUME_ACTIVELY' }), `${left('P', 64)}  1       V4_9_8                   PULL                   3        7\n`);
  t.equal(renderBrokerStatus(new Map([['b', '2'], ['a', '1']])), `${left('a', 32)}: 1\n${left('b', 32)}: 2\n`);
  t.equal(renderBrokerStatus(new Map([['a', '1']]), '127.0.0.1:1'), `${left('127.0.0.1:1', 24)} ${left('a', 32)}: 1\n`);
  t.same([121, 232, 317, 401, 409, 413, 479, 700].map(versionDesc), ['V3_4_9', 'V4_1_0_SNAPSHOT', 'V4_5_2', 'V4_9_4', 'V4_9_8', 'V5_0_0', 'V5_3_3', 'HIGHER_VERSION']);
  // HashMap<String,String> order: bucket of the spread hash in a 16-slot table.
  t.equal(javaMapToString(new Map([['KEYS', 'k1'], ['UNIQ_KEY', 'ABC'], ['TAGS', 'TagA'], ['WAIT', 'true']])), '{KEYS=k1, UNIQ_KEY=ABC, WAIT=true, TAGS=TagA}');
});

interface Broker {
  addr: string;
  port: number;
  requests: RemotingCommand[];
}

/** A stand-in broker: canned answers for every request the admin sub-commands send. */
async function startFakeBroker(t: Test): Promise<Broker> {
  const requests: RemotingCommand[] = [];
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, log: silentLogger });
  await server.listen();
  t.teardown(() => server.close());
  const port = server.port;
  const storeHost = { address: '127.0.0.1', port };
  const record = storedRecord({
    topic: 'FxTopic',
    queueId: 3,
    queueOffset: 0,
    physicalOffset: 1234,
    body: Buffer.from('hello'),
    bornTimestamp: 1795745844511,
    storeTimestamp: 1795745844515,
    bornHost: { address: '127.0.0.1', port: 50000 },
    storeHost,
    properties: [
      ['KEYS', 'k1 k2'],
      ['TAGS', 'TagA'],
      ['UNIQ_KEY', '7F0000010001000000000000000A0001'],
    ],
  });
  const ok = (req: RemotingCommand, body?: Buffer, extFields?: Record<string, string>): RemotingCommand => createResponse(req, 0, { body, extFields });
  const record0 = (req: RemotingCommand): RemotingCommand => {
    requests.push(req);
    return ok(req);
  };
  const stats = new MessageQueueMap([
    [{ topic: 'FxTopic', brokerName: 'broker-a', queueId: 0 }, { brokerOffset: 5, consumerOffset: 2, lastTimestamp: 1795745844511 }],
    [{ topic: 'FxTopic', brokerName: 'broker-a', queueId: 3 }, { brokerOffset: 1, consumerOffset: 1, lastTimestamp: 0 }],
  ] as const);
  server
    .register(RequestCode.UPDATE_AND_CREATE_TOPIC, record0)
    .register(RequestCode.DELETE_TOPIC_IN_BROKER, record0)
    .register(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, record0)
    .register(RequestCode.GET_ALL_TOPIC_CONFIG, (req) =>
      ok(req, encodeTopicConfigWrapper({ topicConfigTable: new Map([['FxTopic', topicConfig('FxTopic', { readQueueNums: 8, writeQueueNums: 8 })]]), dataVersion: { timestamp: 1, counter: 1 } })),
    )
    .register(RequestCode.GET_BROKER_RUNTIME_INFO, (req) => ok(req, encodeKVTable(new Map([['brokerVersionDesc', 'V4_9_8'], ['bootTimestamp', '1']]))))
    .register(RequestCode.GET_BROKER_CONFIG, (req) => ok(req, encodeBrokerConfigBody(new Map([['brokerName', 'broker-a'], ['listenPort', String(port)]]))))
    .register(RequestCode.GET_TOPIC_STATS_INFO, (req) =>
      ok(req, encodeTopicStatsTable({ offsetTable: new MessageQueueMap([[{ topic: 'FxTopic', brokerName: 'broker-a', queueId: 0 }, { minOffset: 0, maxOffset: 5, lastUpdateTimestamp: 1795745844511 }]] as const) })),
    )
    .register(RequestCode.GET_CONSUME_STATS, (req) => ok(req, encodeConsumeStats({ offsetTable: stats, consumeTps: 0.5 })))
    .register(RequestCode.GET_CONSUMER_CONNECTION_LIST, (req) =>
      req.extFields?.consumerGroup === 'FxConsumerGroup'
        ? ok(req, encodeConsumerConnection(connection))
        : createResponse(req, 206, { remark: `the consumer group[${req.extFields?.consumerGroup}] not online` }),
    )
    .register(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, (req) => ok(req, Buffer.from('{"groupList":["FxConsumerGroup","OfflineGroup"]}')))
    .register(RequestCode.VIEW_MESSAGE_BY_ID, (req) =>
      req.extFields?.offset === '1234' ? ok(req, record) : createResponse(req, 1, { remark: `can not find message by the offset, ${req.extFields?.offset}` }),
    )
    .register(RequestCode.QUERY_MESSAGE, (req) =>
      req.extFields?.key === 'k2' ? ok(req, record, { indexLastUpdateTimestamp: '0', indexLastUpdatePhyoffset: '0' }) : createResponse(req, 22, { remark: 'can not find message' }),
    )
    .register(RequestCode.GET_MIN_OFFSET, (req) => ok(req, undefined, { offset: '0' }))
    .register(RequestCode.GET_MAX_OFFSET, (req) => ok(req, undefined, { offset: req.extFields?.queueId === '3' ? '1' : '0' }))
    .register(RequestCode.SEND_MESSAGE_V2, (req) => {
      requests.push(req);
      return ok(req, undefined, { msgId: encodeOffsetMsgId(storeHost, 99), queueId: req.extFields?.e ?? '0', queueOffset: '7' });
    })
    .register(RequestCode.PULL_MESSAGE, (req) =>
      req.extFields?.queueId === '3' && req.extFields.queueOffset === '0'
        ? ok(req, record, { suggestWhichBrokerId: '0', nextBeginOffset: '1', minOffset: '0', maxOffset: '1' })
        : createResponse(req, 19, { extFields: { suggestWhichBrokerId: '0', nextBeginOffset: req.extFields?.queueOffset ?? '0', minOffset: '0', maxOffset: '1' } }),
    );
  return { addr: `127.0.0.1:${port}`, port, requests };
}

async function registerBroker(t: Test, nsPort: number, addr: string): Promise<void> {
  const conn = await RawConnection.open(nsPort);
  t.teardown(() => conn.end());
  const table = new Map(['FxTopic', '%RETRY%FxConsumerGroup', '%RETRY%OfflineGroup'].map((n) => [n, topicConfig(n, { readQueueNums: n === 'FxTopic' ? 4 : 1, writeQueueNums: n === 'FxTopic' ? 4 : 1, perm: 6 })]));
  const body = encodeRegisterBrokerBody({ dataVersion: { timestamp: 1, counter: 1 }, topicConfigTable: table, filterServerList: [] }, false);
  const res = await conn.command(
    createRequest({
      code: RequestCode.REGISTER_BROKER,
      opaque: 1,
      extFields: { brokerName: 'broker-a', brokerAddr: addr, clusterName: 'DefaultCluster', haServerAddr: addr, brokerId: '0', compressed: 'false' },
      body,
    }),
  );
  t.equal(res.code, 0);
}

async function setup(t: Test): Promise<{ broker: Broker; ns: string; bodyDir: string }> {
  const broker = await startFakeBroker(t);
  const namesrv = await startNamesrv();
  t.teardown(() => namesrv.stop());
  await registerBroker(t, namesrv.port, broker.addr);
  return { broker, ns: `127.0.0.1:${namesrv.port}`, bodyDir: tempDir(t) };
}

async function admin(argv: string[], bodyDir: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAdmin(argv, { out: (s) => (out += s), err: (s) => (err += s), env: {}, now: () => 1795745844511, msgBodyDir: bodyDir });
  return { code, out, err };
}

t.test('sub-commands in-process against the name server and a stand-in broker', async (t) => {
  const { broker, ns, bodyDir } = await setup(t);
  const n = ['-n', ns];

  const upd = await admin(['updateTopic', ...n, '-b', broker.addr, '-t', 'FxTopic'], bodyDir);
  t.equal(upd.out, expected('updateTopic-classic.txt').replace('127.0.0.1:10911', broker.addr), 'updateTopic -b prints like 4.9.8');
  t.match(broker.requests.at(-1)?.extFields, { topic: 'FxTopic', readQueueNums: '8', writeQueueNums: '8', perm: '6', topicFilterType: 'SINGLE_TAG', order: 'false', defaultTopic: 'TBW102' });
  const updC = await admin(['updateTopic', ...n, '-c', 'DefaultCluster', '-t', 'T2', '-r', '4', '-w', '2', '-p', '4', '-u', 'true'], bodyDir);
  t.equal(updC.out, `create topic to ${broker.addr} success.\nTopicConfig [topicName=T2, readQueueNums=4, writeQueueNums=2, perm=R--, topicFilterType=SINGLE_TAG, topicSysFlag=1, order=false]`);

  const status = await admin(['topicStatus', ...n, '-t', 'FxTopic'], bodyDir);
  t.equal(status.out.split('\n')[1], `${left('broker-a', 32)}  0     0                     5                       2026-11-27 02:17:24,511`);

  const progress = await admin(['consumerProgress', ...n, '-g', 'FxConsumerGroup'], bodyDir);
  t.equal(progress.out.split('\n')[1], `${left('FxTopic', 64)}  ${left('broker-a', 32)}  0     ${left(5, 20)}  ${left(2, 20)}  ${left(3, 20)}  2026-11-27 02:17:24`);
  t.match(progress.out, /\nConsume TPS: 0\.50\nDiff Total: 3\n$/);
  const all = await admin(['consumerProgress', ...n], bodyDir);
  t.equal(all.out, GROUP_LIST_HEADER + `${left('FxConsumerGroup', 64)}  1       V4_9_8                   PUSH   CLUSTERING      0        3\n` + `${left('OfflineGroup', 64)}  0       OFFLINE                                         0        3\n`);

  t.equal((await admin(['consumerConnection', ...n, '-g', 'FxConsumerGroup'], bodyDir)).out, renderConsumerConnection(connection));
  const offline = await admin(['consumerConnection', ...n, '-g', 'OfflineGroup'], bodyDir);
  t.equal(offline.code, 1);
  t.match(offline.err, /CODE: 206 .*not online/);

  const sub = await admin(['updateSubGroup', ...n, '-b', broker.addr, '-g', 'G1', '-r', '3', '-s', 'false'], bodyDir);
  t.equal(
    sub.out,
    `create subscription group to ${broker.addr} success.\nSubscriptionGroupConfig [groupName=G1, consumeEnable=false, consumeFromMinEnable=false, consumeBroadcastEnable=false, retryQueueNums=1, retryMaxTimes=3, brokerId=0, whichBrokerWhenConsumeSlowly=1, notifyConsumerIdsChangedEnable=true]`,
  );
  t.match(decodeSubscriptionGroupConfig(broker.requests.at(-1)!.body!), { groupName: 'G1', retryMaxTimes: 3, consumeEnable: false });

  t.equal((await admin(['brokerStatus', ...n, '-b', broker.addr], bodyDir)).out, `${left('bootTimestamp', 32)}: 1\n${left('brokerVersionDesc', 32)}: V4_9_8\n`);
  t.match((await admin(['brokerStatus', ...n, '-c', 'DefaultCluster'], bodyDir)).out, new RegExp(`^${left(broker.addr, 24)} bootTimestamp {19}: 1\n`));
  t.equal(
    (await admin(['getBrokerConfig', ...n, '-b', broker.addr], bodyDir)).out,
    `============${broker.addr}============\n${left('brokerName', 50)}=  broker-a\n${left('listenPort', 50)}=  ${broker.port}\n\n`,
  );
  t.match((await admin(['getBrokerConfig', ...n, '-c', 'DefaultCluster'], bodyDir)).out, new RegExp(`^============Master: ${broker.addr}============\n`));

  const offsetId = encodeOffsetMsgId({ address: '127.0.0.1', port: broker.port }, 1234);
  const byId = await admin(['queryMsgById', ...n, '-i', offsetId], bodyDir);
  t.equal(byId.code, 0, byId.err);
  const bodyPath = path.join(bodyDir, '7F0000010001000000000000000A0001');
  t.equal(
    byId.out,
    [
      `OffsetID:            ${offsetId}`,
      'Topic:               FxTopic',
      'Tags:                [TagA]',
      'Keys:                [k1 k2]',
      'Queue ID:            3',
      'Queue Offset:        0',
      'CommitLog Offset:    1234',
      'Reconsume Times:     0',
      'Born Timestamp:      2026-11-27 02:17:24,511',
      'Store Timestamp:     2026-11-27 02:17:24,515',
      'Born Host:           127.0.0.1:50000',
      `Store Host:          ${broker.addr}`,
      'System Flag:         0',
      'Properties:          {KEYS=k1 k2, UNIQ_KEY=7F0000010001000000000000000A0001, TAGS=TagA}',
      `Message Body Path:   ${bodyPath}`,
      '',
      '',
      '',
    ].join('\n') +
      // queue 3's consumer offset (1) is past the message's queue offset (0)
      'MessageTrack [consumerGroup=FxConsumerGroup, trackType=CONSUMED, exceptionDesc=null]' +
      'MessageTrack [consumerGroup=OfflineGroup, trackType=NOT_ONLINE, exceptionDesc=CODE:206 DESC:the consumer group[OfflineGroup] not online]',
  );
  t.equal(fs.readFileSync(bodyPath, 'utf8'), 'hello');
  const missing = await admin(['queryMsgById', ...n, '-i', encodeOffsetMsgId({ address: '127.0.0.1', port: broker.port }, 1)], bodyDir);
  t.equal(missing.code, 1);
  t.match(missing.err, /can not find message by the offset, 1/);
  const notAnId = await admin(['queryMsgById', ...n, '-i', 'xyz'], bodyDir);
  t.match(notAnId.err, /not an offset message id/);

  const byKey = await admin(['queryMsgByKey', ...n, '-t', 'FxTopic', '-k', 'k2'], bodyDir);
  t.equal(byKey.out, `${left('#Message ID', 50)} #QID ${' '.repeat(33)}#Offset\n${left('7F0000010001000000000000000A0001', 50)}    3 ${' '.repeat(39)}0\n`);
  const noKey = await admin(['queryMsgByKey', ...n, '-t', 'FxTopic', '-k', 'nope'], bodyDir);
  t.equal(noKey.code, 1);
  t.match(noKey.err, /no message/);

  const sent = await admin(['sendMessage', ...n, '-t', 'FxTopic', '-p', 'hi there', '-k', 'K1', '-c', 'TagB', '-b', 'broker-a', '-i', '2'], bodyDir);
  t.match(sent.out, /^#Broker Name {22}#QID  #Send Result {12}#MsgId\nbroker-a {26}2 {5}SEND_OK {17}[0-9A-F]{32}\n$/);
  const sendReq = broker.requests.at(-1)!;
  t.match(sendReq.extFields, { b: 'FxTopic', e: '2', n: 'broker-a' });
  t.match(sendReq.extFields?.i, /TAGS\u0001TagB.*KEYS\u0001K1/);
  t.equal(sendReq.body?.toString(), 'hi there');
  const noBroker = await admin(['sendMessage', ...n, '-t', 'FxTopic', '-p', 'x', '-i', '1'], bodyDir);
  t.equal(noBroker.code, 1);
  t.match(noBroker.err, /Broker name must be set/);

  const consumed = await admin(['consumeMessage', ...n, '-t', 'FxTopic', '-b', 'broker-a', '-i', '3'], bodyDir);
  t.match(consumed.out, /^Consume ok\nMSGID: 7F0000010001000000000000000A0001 MessageExt \[brokerName=broker-a, queueId=3, /);
  t.match(consumed.out, /body=\[104, 101, 108, 108, 111\], transactionId='null'\}\] BODY: hello\n/);
  const consumedAll = await admin(['consumeMessage', ...n, '-t', 'FxTopic', '-c', '5'], bodyDir);
  t.equal(consumedAll.code, 0, consumedAll.err);
  t.match(consumedAll.out, /MessageQueue \[topic=FxTopic, brokerName=broker-a, queueId=0\] print msg finished\. status=NO_NEW_MSG, offset=0\n/);
  t.match(consumedAll.out, /BODY: hello\n/);

  const del = await admin(['deleteTopic', ...n, '-c', 'DefaultCluster', '-t', 'FxTopic'], bodyDir);
  t.equal(del.out, 'delete topic [FxTopic] from cluster [DefaultCluster] success.\ndelete topic [FxTopic] from NameServer success.\n');
  t.equal(broker.requests.at(-1)?.code, RequestCode.DELETE_TOPIC_IN_BROKER);
  t.equal((await admin(['topicRoute', ...n, '-t', 'FxTopic'], bodyDir)).code, 1, 'the route is gone from the name server');
});

t.test('bad input: missing flags, an unknown cluster, an unknown broker', async (t) => {
  const { ns, bodyDir } = await setup(t);
  const n = ['-n', ns];
  const cases: Array<[string[], RegExp]> = [
    [['updateTopic', ...n, '-t', 'T'], /one of -b <brokerAddr> and -c <clusterName> is required/],
    [['updateTopic', ...n, '-b', '127.0.0.1:1'], /required option '-t, --topic <topic>'/],
    [['updateTopic', ...n, '-c', 'NoCluster', '-t', 'T'], /cluster "NoCluster" not found\. Make sure the specified clusterName exists/],
    [['updateTopic', ...n, '-b', '127.0.0.1:1', '-t', 'T', '-r', 'x'], /option -r expects an integer/],
    [['updateTopic', ...n, '-b', '127.0.0.1:1', '-t', 'T'], /connect to 127\.0\.0\.1:1 failed/],
    [['deleteTopic', ...n, '-t', 'T'], /required option '-c, --clusterName <cluster>'/],
    [['topicStatus', ...n], /required option '-t, --topic <topic>'/],
    [['topicStatus', ...n, '-t', 'NoSuchTopic'], /CODE: 17/],
    [['consumerConnection', ...n], /required option '-g, --consumerGroup <group>'/],
    [['brokerStatus', ...n], /one of -b <brokerAddr> and -c <clusterName> is required/],
    [['brokerStatus', ...n, '-b', '127.0.0.1:1'], /connect to 127\.0\.0\.1:1 failed/],
    [['getBrokerConfig', ...n, '-c', 'NoCluster'], /not found/],
    [['updateSubGroup', ...n, '-b', '127.0.0.1:1'], /required option '-g, --groupName <group>'/],
    [['queryMsgById', ...n], /required option '-i, --msgId <ids>'/],
    [['queryMsgByKey', ...n, '-t', 'T'], /required option '-k, --msgKey <key>'/],
    [['sendMessage', ...n, '-t', 'T'], /required option '-p, --body <body>'/],
    [['consumeMessage', ...n, '-t', 'FxTopic', '-i', '1'], /Please set the brokerName before queueId!/],
    [['consumeMessage', ...n, '-t', 'FxTopic', '-b', 'broker-a', '-i', '1', '-c', '0'], /positive messageNumber/],
  ];
  for (const [argv, message] of cases) {
    const res = await admin(argv, bodyDir);
    t.equal(res.code, 1, argv.join(' '));
    t.match(res.err, message, argv.join(' '));
  }
});

t.test('every sub-command through bin/mqadmin', async (t) => {
  const { broker, ns, bodyDir } = await setup(t);
  const env = { TZ: 'UTC', NAMESRV_ADDR: ns, MQADMIN_MSG_BODY_DIR: bodyDir };
  const offsetId = encodeOffsetMsgId({ address: '127.0.0.1', port: broker.port }, 1234);
  const runs: Array<[string[], RegExp]> = [
    [['updateTopic', '-b', broker.addr, '-t', 'FxTopic'], /^create topic to .* success\.\nTopicConfig \[topicName=FxTopic/],
    [['topicStatus', '-t', 'FxTopic'], /^#Broker Name {22}#QID/],
    [['consumerProgress', '-g', 'FxConsumerGroup'], /Diff Total: 3\n$/],
    [['consumerProgress'], /^#Group {60}#Count/],
    [['consumerConnection', '-g', 'FxConsumerGroup'], /ConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET\n$/],
    [['updateSubGroup', '-c', 'DefaultCluster', '-g', 'G1'], /^create subscription group to .* success\.\nSubscriptionGroupConfig \[groupName=G1/],
    [['brokerStatus', '-b', broker.addr], /brokerVersionDesc {15}: V4_9_8/],
    [['getBrokerConfig', '-b', broker.addr], /brokerName {40}=  broker-a/],
    [['queryMsgById', '-i', offsetId], /Topic: {15}FxTopic/],
    [['queryMsgByKey', '-t', 'FxTopic', '-k', 'k2'], /7F0000010001000000000000000A0001/],
    [['sendMessage', '-t', 'FxTopic', '-p', 'hello'], /SEND_OK/],
    [['consumeMessage', '-t', 'FxTopic', '-b', 'broker-a', '-i', '3', '-o', '0'], /BODY: hello/],
    [['deleteTopic', '-c', 'DefaultCluster', '-t', 'FxTopic'], /from NameServer success/],
  ];
  for (const [argv, pattern] of runs) {
    const res = await runBin('mqadmin', argv, env);
    t.equal(res.code, 0, `${argv.join(' ')}: ${res.stderr}`);
    t.match(res.stdout, pattern, argv.join(' '));
  }
  const bad = await runBin('mqadmin', ['topicStatus'], env);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /required option '-t, --topic <topic>'/);
});
