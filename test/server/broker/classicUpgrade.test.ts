// A single-node broker (enableDLegerCommitLog=false) started on the store folder of a classic
// Java 4.9.8 broker: the old commit log and config/*.json come over, consumers resume where the
// Java consumers stopped, the delayed message Java delivered is not delivered again, and a
// restart imports nothing twice. A store whose files do not fit mappedFileSizeCommitLog is
// refused at start rather than silently left behind.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { AdminApi } from '../../../client/AdminApi.js';
import * as H from '../../../protocol/header/broker.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { BrokerController } from '../../../server/broker/BrokerController.js';
import { CLASSIC_IMPORTED_MARKER } from '../../../server/broker/ClassicImport.js';
import { startBrokerInProcess } from '../../helpers/broker.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { tempDir } from '../../helpers/processes.js';
import { extractStore, manifestStore } from '../../helpers/storeManifest.js';

const store = manifestStore('classic');
const CONF = { mappedFileSizeCommitLog: String(store.broker.mappedFileSizeCommitLog) };
/** config/consumerOffset.json of the fixture */
const JAVA_OFFSETS: Array<[string, string, Record<number, number>]> = [
  ['FxConsumerGroup', 'FxTopic', { 0: 1, 1: 1, 2: 4, 3: 1, 4: 1, 5: 0, 6: 0, 7: 1 }],
  ['FxLitePullGroup', 'FxTopic', { 0: 1, 1: 1, 2: 4, 3: 1, 4: 1, 5: 0, 6: 0, 7: 1 }],
  ['FxConsumerGroup', '%RETRY%FxConsumerGroup', { 0: 1 }],
];

function classicStore(t: Test): string {
  const dir = tempDir(t, 'raftmq-classic-broker-');
  extractStore(store, dir);
  return path.join(dir, store.root);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function md5(file: string): string {
  return crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex');
}

t.test('a single-node broker takes over a classic store: messages, offsets, delays, and no second import', async (t) => {
  const root = classicStore(t);
  const segment = path.join(root, 'commitlog', '00000000000000000000');
  const before = md5(segment);
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const admin = new AdminApi(namesrvAddr, 3000);
  t.teardown(() => admin.close());

  let b: BrokerController = await startBrokerInProcess(t, { namesrvAddr, storeDir: root, conf: CONF });
  await until('the import is done', () => b.commitLog.isWritable);
  const addr = b.brokerAddr;
  for (const m of store.messages) {
    const r = await admin.pullMessage(addr, { consumerGroup: 'ClassicCheck', mq: { topic: m.topic, brokerName: 'broker-a', queueId: m.queueId }, offset: m.queueOffset, maxNums: 1 });
    const got = r.messages[0];
    t.match(
      got && { topic: got.topic, queueId: got.queueId, queueOffset: got.queueOffset, body: got.body.toString('hex'), properties: Object.fromEntries(got.properties) },
      { topic: m.topic, queueId: m.queueId, queueOffset: m.queueOffset, body: m.storedBodyHex, properties: m.properties },
      `${m.topic}:${m.queueId}@${m.queueOffset} pulls as Java stored it`,
    );
  }
  for (const [group, topic, table] of JAVA_OFFSETS) {
    for (const [q, off] of Object.entries(table)) {
      const res = await admin.invokeBroker(addr, RequestCode.QUERY_CONSUMER_OFFSET, H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: group, topic, queueId: Number(q), setZeroIfNotFound: false }));
      t.equal(Number(res.extFields?.offset), off, `${topic}@${group} queue ${q} resumes at ${off}`);
    }
  }
  // Java delivered the one delayed message (delayOffset.json {3:1}); the scheduler runs every 100 ms
  await new Promise((r) => setTimeout(r, 500));
  t.equal(b.commitLog.maxOffset('%RETRY%FxConsumerGroup', 0), 1, 'the delayed message Java delivered is not delivered again');
  const sent = await admin.sendMessage(addr, { producerGroup: 'UpgradePG', topic: 'FxTopic', queueId: 2, body: Buffer.from('after'), properties: '', bornTimestamp: Date.now() });
  t.equal(sent.queueOffset, 4, 'a new message takes the next queue offset after the Java ones');
  const route = await admin.getTopicRoute('FxTopic');
  t.equal(route.queueDatas[0]?.writeQueueNums, 8, 'registered with the Java topic config once the import is done');
  t.ok(fs.existsSync(path.join(root, CLASSIC_IMPORTED_MARKER)));
  t.equal(md5(segment), before, 'the classic segment is untouched');
  await b.stop();

  b = await startBrokerInProcess(t, { namesrvAddr, storeDir: root, conf: CONF });
  t.equal(b.commitLog.isWritable, true, 'after a restart writes are taken at once');
  const again = await admin.sendMessage(b.brokerAddr, { producerGroup: 'UpgradePG', topic: 'FxTopic', queueId: 2, body: Buffer.from('after restart'), properties: '', bornTimestamp: Date.now() });
  t.equal(again.queueOffset, 5, 'nothing was imported twice');
  t.equal(b.commitLog.maxOffset('FxTopic', 7), 1);
});

t.test('a classic store whose files do not fit mappedFileSizeCommitLog is refused at start', async (t) => {
  const root = classicStore(t);
  await t.rejects(startBrokerInProcess(t, { namesrvAddr: '127.0.0.1:1', storeDir: root }), {
    name: 'ClassicImportError',
    message: /cannot be read, so it cannot be imported: .*Set mappedFileSizeCommitLog/,
  });
});

t.test('sends during the import hear SYSTEM_BUSY with the progress', async (t) => {
  const root = classicStore(t);
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  process.env.RAFTMQ_CLASSIC_IMPORT_BATCH_MESSAGES = '1';
  process.env.RAFTMQ_CLASSIC_IMPORT_PAUSE_MS = '200';
  t.teardown(() => {
    delete process.env.RAFTMQ_CLASSIC_IMPORT_BATCH_MESSAGES;
    delete process.env.RAFTMQ_CLASSIC_IMPORT_PAUSE_MS;
  });
  const b = await startBrokerInProcess(t, { namesrvAddr: `127.0.0.1:${ns.port}`, storeDir: root, conf: CONF });
  const admin = new AdminApi(`127.0.0.1:${ns.port}`, 3000);
  t.teardown(() => admin.close());
  await until('a record is in', () => b.commitLog.maxOffset('FxTopic', 7) === 1);
  const res = await admin.invokeBroker(
    b.brokerAddr,
    RequestCode.SEND_MESSAGE_V2,
    H.SendMessageRequestHeaderV2.encode(
      H.sendHeaderToV2({ producerGroup: 'PG', topic: 'FxTopic', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 2, sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: '', reconsumeTimes: 0, unitMode: false, batch: false }),
    ),
    Buffer.from('too early'),
  );
  t.equal(res.code, ResponseCode.SYSTEM_BUSY);
  t.match(res.remark, /importing the classic commit log .*: \d+ records so far, offset \d+ of 3435/);
  t.equal((await admin.getClusterInfo()).brokerAddrTable.get('broker-a'), undefined, 'not registered while importing');
  await until('the import is done', () => b.commitLog.isWritable, 20_000);
  await until('registered', async () => (await admin.getClusterInfo()).brokerAddrTable.get('broker-a') !== undefined);
});
