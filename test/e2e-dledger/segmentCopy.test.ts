// RocketMQ-on-DLedger end to end (issue 6, item 5): a follower that was down while retention
// removed the segments it lacks gets them from the leader (no manual copy), with the topics,
// groups and consumer offsets written meanwhile, and then serves the same consume queues.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { AdminApi } from '../../client/AdminApi.js';
import * as H from '../../protocol/header/broker.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { createTopic } from '../helpers/broker.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { eventually, startGroup, type GroupNode } from '../dledger/groupKit.js';
import { BROKER_NAME, addr, sendKeyedSeries, waitRegistered } from './kit.js';

const TOPIC = 'CopyTopic';
const LATE_TOPIC = 'CopyLateTopic';
const GROUP = 'CopyCG';
const QUEUES = 4;
const SEGMENT = 64 * 1024;

/** `n` sends of 1000-byte bodies; how many were acknowledged. */
async function sendAll(admin: AdminApi, to: GroupNode, prefix: string, n: number): Promise<number> {
  return (await sendKeyedSeries(admin, to, TOPIC, QUEUES, prefix, n, (key) => Buffer.alloc(1000, key))).length;
}

async function minMax(admin: AdminApi, n: GroupNode, queueId: number): Promise<[number, number]> {
  const mq = { topic: TOPIC, brokerName: BROKER_NAME, queueId };
  return [await admin.getMinOffset(addr(n), mq), await admin.getMaxOffset(addr(n), mq)];
}

/** Every record a node serves from min to max offset of each queue. */
async function served(admin: AdminApi, n: GroupNode): Promise<string[][]> {
  const out: string[][] = [];
  for (let q = 0; q < QUEUES; q++) {
    const [min, max] = await minMax(admin, n, q);
    const lines: string[] = [];
    for (let offset = min; offset < max; ) {
      const r = await admin.pullMessage(addr(n), { consumerGroup: 'CopyViewCG', mq: { topic: TOPIC, brokerName: BROKER_NAME, queueId: q }, offset, maxNums: 32 });
      if (r.status !== 'FOUND' || r.messages.length === 0) throw new Error(`${n.id} queue ${q} offset ${offset}: ${r.status}`);
      for (const m of r.messages) lines.push(`${m.queueOffset} ${m.physicalOffset} ${m.properties.get('KEYS') ?? ''} ${m.body.length}`);
      offset = r.nextBeginOffset;
    }
    out.push(lines);
  }
  return out;
}

async function queryOffset(admin: AdminApi, n: GroupNode, queueId: number): Promise<number> {
  const res = await admin.invokeBroker(addr(n), RequestCode.QUERY_CONSUMER_OFFSET, H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: GROUP, topic: TOPIC, queueId }));
  return res.code === ResponseCode.SUCCESS ? Number(res.extFields?.offset ?? -1) : -1;
}

/** Makes every data segment but the newest look two hours old, so retention takes them. */
function ageSegments(n: GroupNode): number {
  const dir = path.join(n.storeDir, `dledger-${n.id}`, 'data');
  const files = fs.readdirSync(dir).sort();
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const f of files.slice(0, -1)) fs.utimesSync(path.join(dir, f), old, old);
  return files.length;
}

t.test('a follower behind the leader log start is sent the segments and the metadata it lacks', async (t) => {
  const ns = await startNamesrv();
  t.teardown(() => ns.stop());
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const everyHour = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')).join(';');
  const g = await startGroup(t, namesrvAddr, { mappedFileSizeCommitLog: String(SEGMENT), fileReservedTime: '1', deleteWhen: everyHour });
  const admin = g.admin;
  const master = await g.master(60_000);
  await waitRegistered(g, master);
  await createTopic(addr(master), namesrvAddr, TOPIC, QUEUES);
  t.equal(await sendAll(admin, master, 'a', 40), 40);
  const away = g.nodes.find((n) => n !== master)!;
  const other = g.nodes.find((n) => n !== master && n !== away)!;
  await eventually('the follower to stop has batch a', async () => (await minMax(admin, away, 0))[1] === 10, 60_000);
  t.equal(await away.proc!.stop(), 0, `${away.id} stops`);

  // while it is away: 400 KiB of messages, a new topic, committed offsets
  t.equal(await sendAll(admin, master, 'b', 400), 400, 'batch b acknowledged by the two nodes left');
  await createTopic(addr(master), namesrvAddr, LATE_TOPIC, 2);
  for (let q = 0; q < QUEUES; q++) {
    const res = await admin.invokeBroker(
      addr(master),
      RequestCode.UPDATE_CONSUMER_OFFSET,
      H.UpdateConsumerOffsetRequestHeader.encode({ consumerGroup: GROUP, topic: TOPIC, queueId: q, commitOffset: 50 + q }),
    );
    t.equal(res.code, ResponseCode.SUCCESS);
  }
  await eventually('the offsets are committed on the master', async () => (await queryOffset(admin, master, 3)) === 53, 30_000);
  t.equal(await sendAll(admin, master, 'c', 8), 8, 'and a few more, so the offset batch is followed by messages');

  // retention on both nodes left drops the segments the stopped one still needs
  await eventually('the other follower has everything', async () => (await minMax(admin, other, 3))[1] === 112, 60_000);
  for (const n of [master, other]) t.ok(ageSegments(n) >= 5, `${n.id} has several segments`);
  await eventually('retention raised the min offsets on both', async () => {
    for (const n of [master, other]) if ((await minMax(admin, n, 0))[0] <= 10) return false;
    return true;
  }, 60_000);

  await g.start(away);
  try {
    await eventually('the follower that was away serves every queue up to the master max offsets', async () => {
      for (let q = 0; q < QUEUES; q++) {
        const [, want] = await minMax(admin, master, q);
        if ((await minMax(admin, away, q))[1] !== want) return false;
      }
      return true;
    }, 90_000);
  } catch (e) {
    // what the nodes said, for whoever looks next (it caught the background-sync stop fixed in session 7)
    const queues = Array.from({ length: QUEUES }, (_, q) => q);
    const offsets = await Promise.all([master, away].map(async (n) => `${n.id} ${JSON.stringify(await Promise.all(queues.map((q) => minMax(admin, n, q).catch(() => null))))}`));
    const tails = g.nodes.map((n) => `--- ${n.id}${n === master ? ' (master)' : n === away ? ' (away)' : ''}\n${(n.proc?.output() ?? '').split('\n').slice(-40).join('\n')}`);
    throw new Error(`${(e as Error).message}\n[min, max] per queue: ${offsets.join('; ')}\n${tails.join('\n')}`);
  }
  const views = await Promise.all([master, away].map((n) => served(admin, n)));
  for (let q = 0; q < QUEUES; q++) {
    t.ok(views[1]![q]!.length > 0, `queue ${q}: ${away.id} serves ${views[1]![q]!.length} records`);
    // the master may have dropped one more segment meanwhile: compare what both still hold
    const masterLines = new Set(views[0]![q]);
    const common = views[1]![q]!.filter((l) => masterLines.has(l));
    t.ok(common.length >= views[1]![q]!.length - 70 && common.length > 0, `queue ${q}: the records ${away.id} serves are the master's (queue and physical offsets, keys)`);
    t.same(views[1]![q]!.slice(-common.length), views[0]![q]!.slice(-common.length), `queue ${q}: the same tail on both`);
  }
  t.notOk(views[1]!.flat().some((l) => / a-\d+ /.test(l)), `${away.id} no longer serves batch a (gone with the copied-over log start)`);

  const topics = await admin.getAllTopicConfig(addr(away));
  t.ok(topics.topicConfigTable.has(LATE_TOPIC), `${away.id} knows the topic created while it was down`);
  for (let q = 0; q < QUEUES; q++) t.equal(await queryOffset(admin, away, q), 50 + q, `${away.id} has the offset committed while it was down (queue ${q})`);
  const log = away.proc!.output();
  t.match(log, /installed the copy/, 'the log says the copy was installed');
  t.match(log, /index reset to entry \d+ with \d+ metadata records/, 'and the index was reset to the leader snapshot');
});
