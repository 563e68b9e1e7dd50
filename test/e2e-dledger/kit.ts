// Shared pieces of the DLedger end-to-end tests: replica views (max offsets and pulled records
// per queue), mqadmin clusterList rows, the committed consumer offsets of a group, and a
// continuous producer that follows the route (bench/failover's RouteFollowingProducer).
import type { Test } from 'tap';
import type { AdminApi, SendResponse } from '../../client/AdminApi.js';
import { serializeProperties } from '../../protocol/message/index.js';
import * as H from '../../protocol/header/broker.js';
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import { RouteFollowingProducer, type Attempt } from '../../bench/failover.js';
import { runBin } from '../helpers/processes.js';
import { eventually, type Group, type GroupNode } from '../dledger/groupKit.js';

export const BROKER_NAME = 'RaftNode00';
export const addr = (n: GroupNode): string => `127.0.0.1:${n.port}`;

/** One send straight to `to` with KEYS = `key`; the body is "<key> body" unless given. */
export function sendKeyed(admin: AdminApi, to: GroupNode, topic: string, key: string, queueId: number, body: Buffer = Buffer.from(`${key} body`)): Promise<SendResponse> {
  return admin.sendMessage(addr(to), {
    producerGroup: 'DLedgerE2EPG',
    topic,
    queueId,
    body,
    properties: serializeProperties([['KEYS', key]]),
    bornTimestamp: Date.now(),
  });
}

/** `n` sends one at a time, keys `<prefix>-<i>` round robin over `queues` queues; the keys answered SEND_OK. */
export async function sendKeyedSeries(admin: AdminApi, to: GroupNode, topic: string, queues: number, prefix: string, n: number, bodyOf?: (key: string) => Buffer): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${prefix}-${i}`;
    const r = await sendKeyed(admin, to, topic, key, i % queues, bodyOf?.(key));
    if (r.sendStatus === 'SEND_OK') acked.push(key);
  }
  return acked;
}

export async function maxOffsets(admin: AdminApi, node: GroupNode, topic: string, queues: number): Promise<number[]> {
  const out: number[] = [];
  for (let queueId = 0; queueId < queues; queueId++) {
    const res = await admin.invokeBroker(addr(node), RequestCode.GET_MAX_OFFSET, H.GetMaxOffsetRequestHeader.encode({ topic, queueId }));
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`${node.id}: GET_MAX_OFFSET code ${res.code}`);
    out.push(Number(res.extFields?.offset ?? -1));
  }
  return out;
}

/** Every record of each queue as pulled from `node`: "queueOffset physicalOffset keys body(base64)" lines. */
export async function replicaView(admin: AdminApi, node: GroupNode, topic: string, queues: number): Promise<string[][]> {
  const view: string[][] = [];
  for (let queueId = 0; queueId < queues; queueId++) {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const r = await admin.pullMessage(addr(node), { consumerGroup: 'ReplicaViewCG', mq: { topic, brokerName: BROKER_NAME, queueId }, offset, maxNums: 32 });
      if (r.status !== 'FOUND' || r.messages.length === 0) break;
      for (const m of r.messages) lines.push(`${m.queueOffset} ${m.physicalOffset} ${m.properties.get('KEYS') ?? ''} ${m.body.toString('base64')}`);
      offset = r.nextBeginOffset;
    }
    view.push(lines);
  }
  return view;
}

/**
 * Waits until every node's max offsets are equal, hold at least `acknowledged` messages in all
 * (the sends the test saw acknowledged), and read the same twice in a row, then checks that the
 * records are the same on all. An acknowledged send is committed but may not be applied yet
 * (apply waits up to 1 ms to share an index write): equal offsets alone can be all three nodes
 * one entry short, just before the leader applies it.
 */
export async function expectIdenticalReplicas(t: Test, admin: AdminApi, nodes: GroupNode[], topic: string, queues: number, acknowledged: number, timeoutMs = 60_000): Promise<string[][]> {
  let last = '';
  let previous = '';
  await eventually(
    'every replica has the same max offsets, with every acknowledged send',
    async () => {
      const all = await Promise.all(nodes.map((n) => maxOffsets(admin, n, topic, queues)));
      last = all.map((o, i) => `${nodes[i]!.id}: ${o.join(',')}`).join('; ');
      const settled = all.every((o) => o.join(',') === all[0]!.join(',')) && all[0]!.reduce((a, b) => a + b, 0) >= acknowledged && last === previous;
      previous = last;
      return settled;
    },
    timeoutMs,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last: ${last}`);
  });
  const offsets = await Promise.all(nodes.map((n) => maxOffsets(admin, n, topic, queues)));
  t.comment(`max offsets per queue: ${offsets.map((o, i) => `${nodes[i]!.id} [${o.join(',')}]`).join(' ')}`);
  for (let i = 1; i < nodes.length; i++) t.same(offsets[i], offsets[0], `${nodes[i]!.id}: GET_MAX_OFFSET of every queue equals ${nodes[0]!.id}'s`);
  const views = await Promise.all(nodes.map((n) => replicaView(admin, n, topic, queues)));
  for (let q = 0; q < queues; q++) {
    t.equal(views[0]![q]!.length, offsets[0]![q], `queue ${q}: ${nodes[0]!.id} serves every record up to its max offset`);
    for (let i = 1; i < nodes.length; i++) {
      t.ok(views[i]![q]!.join('\n') === views[0]![q]!.join('\n'), `queue ${q}: ${nodes[i]!.id} serves the same records (queue offsets, physical offsets, bodies) as ${nodes[0]!.id}`);
    }
  }
  return views[0]!;
}

/** The broker rows of `mqadmin clusterList`: [cluster, brokerName, BID, addr, ...]. */
export async function clusterList(namesrvAddr: string, cluster = 'RaftCluster'): Promise<string[][]> {
  const r = await runBin('mqadmin', ['clusterList', '-n', namesrvAddr], { NODE_OPTIONS: '' }, 60_000);
  if (r.code !== 0) throw new Error(`mqadmin clusterList exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cells) => cells[0] === cluster);
}

/** Waits until the name server lists the master at id 0 and every other node at n + 1. */
export async function waitRegistered(g: Group, master: GroupNode, timeoutMs = 60_000): Promise<void> {
  await eventually(
    'the name server lists the master at 0 and the followers at n + 1',
    async () => {
      const ids = (await g.admin.getClusterInfo()).brokerAddrTable.get(BROKER_NAME)?.brokerAddrs;
      if (!ids || ids.get(0) !== addr(master)) return false;
      return g.nodes.filter((n) => n !== master).every((f) => ids.get(Number(f.id.slice(1)) + 1) === addr(f));
    },
    timeoutMs,
  );
}

/** The offsets `group` committed for each queue, as `node` has them (-1: none). */
export async function committedOffsets(admin: AdminApi, node: GroupNode, group: string, topic: string, queues: number): Promise<number[]> {
  const out: number[] = [];
  for (let queueId = 0; queueId < queues; queueId++) {
    const res = await admin.invokeBroker(
      addr(node),
      RequestCode.QUERY_CONSUMER_OFFSET,
      H.QueryConsumerOffsetRequestHeader.encode({ consumerGroup: group, topic, queueId, setZeroIfNotFound: false }),
    );
    out.push(res.code === ResponseCode.SUCCESS ? Number(res.extFields?.offset) : -1);
  }
  return out;
}

/**
 * `workers` loops, each sending the next key (`${prefix}-${i}`) until a send of it succeeds
 * (retrying through the refreshed route) or 45 s pass, until `stop()` is called.
 */
export function continuousProducer(namesrvAddr: string, topic: string, queues: number, prefix: string, workers: number) {
  const producer = new RouteFollowingProducer(namesrvAddr, topic, BROKER_NAME, queues);
  let running = true;
  let seq = 0;
  const perKey = new Map<string, Attempt[]>();
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const i = seq++;
      const key = `${prefix}-${i}`;
      const attempts = await producer.send(key, i % queues, Buffer.from(`${key} body`), Date.now() + 45_000);
      perKey.set(key, attempts);
    }
  });
  return {
    producer,
    perKey,
    /** successful sends so far (whole keys done or not) */
    okAttempts: (): Attempt[] => producer.attempts.filter((a) => a.ok),
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
      producer.close();
    },
  };
}
