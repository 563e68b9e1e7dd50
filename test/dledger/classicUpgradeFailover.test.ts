// The importer dies in the middle of a classic import (one record per batch, 300 ms apart, so
// the kill lands mid-way): the node that takes over has no classic files, so it refuses sends
// naming n0 and keeps the group out of the routes; once n0 is back, leadership goes to it, the
// import resumes where the group's log says, and every record ends up in the log exactly once.
import path from 'node:path';
import t from 'tap';
import * as H from '../../protocol/header/broker.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { tempDir } from '../helpers/processes.js';
import { extractStore, manifestStore } from '../helpers/storeManifest.js';
import { eventually, startGroup, type GroupNode } from './groupKit.js';

const store = manifestStore('classic');
const javaMax = new Map<string, number>();
for (const m of store.messages) javaMax.set(`${m.topic}:${m.queueId}`, Math.max(javaMax.get(`${m.topic}:${m.queueId}`) ?? 0, m.queueOffset + 1));

// the brokers started below inherit these
process.env.RAFTMQ_CLASSIC_IMPORT_BATCH_MESSAGES = '1';
process.env.RAFTMQ_CLASSIC_IMPORT_PAUSE_MS = '300';

t.test('the importer is killed mid-import; the group waits for it and the import resumes without repeats', async (t) => {
  const root = tempDir(t, 'raftmq-classic-failover-');
  extractStore(store, root);
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const g = await startGroup(t, `127.0.0.1:${ns.port}`, { mappedFileSizeCommitLog: String(store.broker.mappedFileSizeCommitLog) }, { n0: path.join(root, store.root) });
  const [n0, n1, n2] = g.nodes as [GroupNode, GroupNode, GroupNode];
  const admin = g.admin;
  const addr = (n: GroupNode): string => `127.0.0.1:${n.port}`;
  const maxOffset = async (n: GroupNode, topic: string, queueId: number): Promise<number> => {
    const res = await admin.invokeBroker(addr(n), RequestCode.GET_MAX_OFFSET, H.GetMaxOffsetRequestHeader.encode({ topic, queueId }));
    return Number(res.extFields?.offset);
  };

  // the first records reached the followers; the last ones are still seconds away
  await eventually('n1 applied the first imported records', async () => (await maxOffset(n1, 'FxTopic', 0)) === 1, 20_000);
  t.notOk(/imported the classic commit log/.test(n0.proc!.output()), 'n0 is mid-import');
  n0.proc!.child.kill('SIGKILL');
  await n0.proc!.exited;

  // whoever leads now has no classic files: it refuses sends, names n0, and stays out of the routes
  let remark = '';
  await eventually('a new leader refuses sends naming n0', async () => {
    for (const n of [n1, n2]) {
      const res = await admin.invokeBroker(
        addr(n),
        RequestCode.SEND_MESSAGE_V2,
        H.SendMessageRequestHeaderV2.encode(
          H.sendHeaderToV2({ producerGroup: 'PG', topic: 'FxTopic', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 2, sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: '', reconsumeTimes: 0, unitMode: false, batch: false }),
        ),
        Buffer.from('during the import'),
      );
      if (res.code === ResponseCode.SYSTEM_BUSY && /n0's classic commit log is unfinished/.test(res.remark ?? '')) {
        remark = res.remark ?? '';
        return true;
      }
    }
    return false;
  }, 20_000);
  t.match(remark, /the import of n0's classic commit log is unfinished \(\d+ records, offset \d+ of 3435\); writes wait until n0 leads again/);
  const cluster = await admin.getClusterInfo();
  t.equal(cluster.brokerAddrTable.get('RaftNode00')?.brokerAddrs.get(0), undefined, 'no master in the routes while the import is unfinished');

  await g.start(n0);
  const master = await g.master(40_000);
  t.equal(master.id, 'n0', 'leadership went back to the importer, which finished');
  t.match(n0.proc!.output(), /resuming the classic commit log import at offset \d+ of 3435/);
  t.match(n0.proc!.output(), /imported the classic commit log .*: 11 records/, 'every record counted once');
  for (const n of g.nodes) {
    await eventually(`${n.id} holds every record once`, async () => {
      for (const [k, max] of javaMax) if ((await maxOffset(n, k.split(':')[0]!, Number(k.split(':')[1]))) !== max) return false;
      return true;
    }, 20_000);
    const r = await admin.pullMessage(addr(n), { consumerGroup: 'ClassicCheck', mq: { topic: 'FxTopic', brokerName: 'RaftNode00', queueId: 2 }, offset: 0, maxNums: 32 });
    t.same(
      r.messages.map((m) => `${m.queueOffset}:${m.properties.get('UNIQ_KEY')}`),
      store.messages.filter((m) => m.topic === 'FxTopic' && m.queueId === 2).map((m) => `${m.queueOffset}:${m.properties.UNIQ_KEY}`),
      `${n.id}: FxTopic queue 2 in Java's order, no repeats`,
    );
  }
  const sent = await admin.sendMessage(addr(master), { producerGroup: 'PG', topic: 'FxTopic', queueId: 2, body: Buffer.from('after'), properties: '', bornTimestamp: Date.now() });
  t.equal(sent.queueOffset, 4);
});
