// The broker's /metrics: RocketMQ 5's broker metric names and labels (BrokerMetricsConstant,
// RemotingMetricsConstant, DefaultStoreMetricsConstant), computed at scrape time from the
// counters the send and pull paths keep (BrokerStats.traffic), the managers and the log.
// cluster, node_type and node_id are the registry's default labels.
import { RequestCode } from '../../protocol/remoting/RequestCode.js';
import type { SegmentedLog } from '../../storage/log/SegmentedLog.js';
import type { BrokerContext } from '../broker/BrokerContext.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../broker/TopicConfigManager.js';
import { LabelSet, type MetricRegistry, type MetricType, type SampleSink } from './MetricRegistry.js';
import { rpcLabels, type RpcStats } from './RpcStats.js';
import { MESSAGE_SIZE_BUCKETS, type GroupOut, type TopicIn } from './TrafficCounters.js';

export interface BrokerMetricsSource {
  ctx: () => BrokerContext | undefined;
  rpc: RpcStats;
  /** which scrape is running: the lag gauges compute once per scrape */
  scrapeNumber: () => number;
  /** the log's bytes on disk, when the commit log exposes it */
  storage: () => SegmentedLog | undefined;
  /** bytes of the log whose pages the cache window dropped (commitLogCacheWindow), when the commit log keeps one */
  pageCacheDropped?: () => number | undefined;
  /** (topic, group) pairs looked at per scrape for lag, at most */
  maxLagPairs?: number;
  /** consume-queue entries read per scrape for lag latencies, at most */
  maxLagReads?: number;
}

/** Which processor serves a request code: rocketmq_processor_watermark's processor label. */
export function processorOf(code: number): string {
  switch (code) {
    case RequestCode.SEND_MESSAGE:
    case RequestCode.SEND_MESSAGE_V2:
    case RequestCode.SEND_BATCH_MESSAGE:
    case RequestCode.CONSUMER_SEND_MSG_BACK:
      return 'send';
    case RequestCode.PULL_MESSAGE:
    case RequestCode.LITE_PULL_MESSAGE:
      return 'pull';
    case RequestCode.HEART_BEAT:
    case RequestCode.UNREGISTER_CLIENT:
    case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
      return 'heartbeat';
    case RequestCode.QUERY_CONSUMER_OFFSET:
    case RequestCode.UPDATE_CONSUMER_OFFSET:
      return 'consumer_manage';
    default:
      return 'admin';
  }
}

/** Consumer lag of one (topic, group), as RocketMQ 5 defines the five gauges. */
export interface GroupLag {
  topic: string;
  group: string;
  /** max offset - committed offset, summed over queues */
  lag: number;
  /** pulled - committed */
  inflight: number;
  /** max offset - pulled */
  ready: number;
  /** now - store time of the oldest message not committed (ms), 0 when none */
  lagLatencyMs: number;
  /** now - store time of the oldest message not pulled (ms), 0 when none */
  queueingLatencyMs: number;
}

/**
 * Store times of consume-queue entries already read: an entry's store time never changes, so a
 * scrape reads only the entries at offsets that moved since the previous one. Entries not asked
 * for in the last two rounds are dropped, which bounds the memo by twice the reads of a round.
 */
export class StoreTimeMemo {
  private readonly times = new Map<string, { ts: number; round: number }>();
  private round = 0;
  /** consume-queue reads made, all rounds */
  reads = 0;

  get size(): number {
    return this.times.size;
  }

  get(topic: string, queueId: number, offset: number): number | undefined {
    const e = this.times.get(`${topic}\u0001${queueId}\u0001${offset}`);
    if (e === undefined) return undefined;
    e.round = this.round;
    return e.ts;
  }

  set(topic: string, queueId: number, offset: number, ts: number): void {
    this.times.set(`${topic}\u0001${queueId}\u0001${offset}`, { ts, round: this.round });
  }

  /** A round (one lag computation) ended. */
  endRound(): void {
    for (const [k, e] of this.times) if (e.round < this.round) this.times.delete(k);
    this.round++;
  }
}

/** Lag of every (topic, group) with committed offsets; at most maxPairs pairs and maxReads consume-queue reads. */
export async function consumerLag(ctx: BrokerContext, maxPairs = 1000, maxReads = 2000, memo?: StoreTimeMemo): Promise<GroupLag[]> {
  const out: GroupLag[] = [];
  const now = ctx.now();
  const log = ctx.commitLog;
  const pulledOf = new Map<string, ReadonlyMap<number, number>>();
  for (const g of ctx.stats.traffic.outByGroup()) pulledOf.set(`${g.topic}\u0001${g.group}`, g.pulled);
  let reads = 0;
  const storeTime = async (topic: string, queueId: number, offset: number): Promise<number | undefined> => {
    const known = memo?.get(topic, queueId, offset);
    if (known !== undefined) return known;
    if (reads >= maxReads) return undefined;
    reads++;
    const e = await log.index.getConsumeQueueEntry(topic, queueId, offset).catch(() => undefined);
    if (memo) {
      memo.reads++;
      if (e) memo.set(topic, queueId, offset, e.storeTimestamp);
    }
    return e?.storeTimestamp;
  };
  for (const { topic, group, queues } of ctx.offsets.entries()) {
    if (out.length >= maxPairs) break;
    const pulled = pulledOf.get(`${topic}\u0001${group}`);
    const row: GroupLag = { topic, group, lag: 0, inflight: 0, ready: 0, lagLatencyMs: 0, queueingLatencyMs: 0 };
    let oldestUncommitted = Infinity;
    let oldestUnpulled = Infinity;
    for (const [queueId, committed] of queues) {
      const max = log.maxOffset(topic, queueId);
      const c = Math.min(Math.max(committed, 0), max);
      const p = Math.min(Math.max(pulled?.get(queueId) ?? c, c), max);
      row.lag += max - c;
      row.inflight += p - c;
      row.ready += max - p;
      if (max > c) {
        const t = await storeTime(topic, queueId, c);
        if (t !== undefined && t < oldestUncommitted) oldestUncommitted = t;
      }
      if (max > p) {
        const t = p === c ? (oldestUncommitted === Infinity ? undefined : oldestUncommitted) : await storeTime(topic, queueId, p);
        if (t !== undefined && t < oldestUnpulled) oldestUnpulled = t;
      }
    }
    if (oldestUncommitted !== Infinity) row.lagLatencyMs = Math.max(0, now - oldestUncommitted);
    if (oldestUnpulled !== Infinity) row.queueingLatencyMs = Math.max(0, now - oldestUnpulled);
    out.push(row);
  }
  memo?.endRound();
  return out;
}

const messageType = (topic: string): string => (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) ? 'Retry' : 'Normal');
/** a topic's labels, rendered the first time a scrape sees the topic */
const topicLabels = (t: TopicIn): LabelSet => (t.labels ??= new LabelSet({ topic: t.topic, message_type: messageType(t.topic) }));
const groupLabels = (g: GroupOut): LabelSet => (g.labels ??= new LabelSet({ topic: g.topic, consumer_group: g.group }));

export function registerBrokerMetrics(registry: MetricRegistry, src: BrokerMetricsSource): void {
  const reg = (name: string, help: string, type: MetricType, collect: (ctx: BrokerContext, out: SampleSink) => void | Promise<void>): void =>
    registry.register(name, help, type, (out) => {
      const ctx = src.ctx();
      return ctx ? collect(ctx, out) : undefined;
    });

  reg('rocketmq_messages_in_total', 'Messages stored, by topic.', 'counter', (ctx, out) => {
    for (const t of ctx.stats.traffic.inByTopic()) out.push({ labels: topicLabels(t), value: t.messages });
  });
  reg('rocketmq_throughput_in_total', 'Bytes of messages stored (stored-record size), by topic.', 'counter', (ctx, out) => {
    for (const t of ctx.stats.traffic.inByTopic()) out.push({ labels: topicLabels(t), value: t.bytes });
  });
  reg('rocketmq_message_size', 'Size of stored messages (bytes), by topic.', 'histogram', (ctx, out) => {
    for (const t of ctx.stats.traffic.inByTopic()) out.push({ labels: topicLabels(t), bounds: MESSAGE_SIZE_BUCKETS, counts: t.sizeCounts, sum: t.bytes });
  });
  reg('rocketmq_messages_out_total', 'Messages delivered to consumers by pulls, by topic and consumer group.', 'counter', (ctx, out) => {
    for (const g of ctx.stats.traffic.outByGroup()) out.push({ labels: groupLabels(g), value: g.messages });
  });
  reg('rocketmq_throughput_out_total', 'Bytes delivered to consumers by pulls, by topic and consumer group.', 'counter', (ctx, out) => {
    for (const g of ctx.stats.traffic.outByGroup()) out.push({ labels: groupLabels(g), value: g.bytes });
  });
  reg('rocketmq_send_to_dlq_messages_total', 'Messages moved to a dead-letter queue, by original topic and consumer group.', 'counter', (ctx, out) => {
    for (const g of ctx.stats.traffic.outByGroup()) if (g.dlq > 0) out.push({ labels: groupLabels(g), value: g.dlq });
  });

  reg('rocketmq_producer_connections', 'Producer client connections, by producer group.', 'gauge', (ctx, out) => {
    for (const [group, chans] of ctx.clients.producers) out.push({ labels: { producer_group: group }, value: chans.size });
  });
  reg('rocketmq_consumer_connections', 'Consumer client connections, by consumer group.', 'gauge', (ctx, out) => {
    for (const g of ctx.clients.consumers.values()) {
      out.push({ labels: { consumer_group: g.groupName, consume_mode: g.consumeType === 'CONSUME_ACTIVELY' ? 'pull' : 'push' }, value: g.channels.size });
    }
  });

  // The five lag gauges share one computation per scrape: the first of them computes, the others read.
  let lagOf = -1;
  let lag: Promise<Array<[GroupLag, LabelSet]>> = Promise.resolve([]);
  const memo = new StoreTimeMemo();
  const maxPairs = src.maxLagPairs ?? 1000;
  const pairLabels = new Map<string, LabelSet>();
  const labelsOf = (l: GroupLag): LabelSet => {
    const k = `${l.topic}\u0001${l.group}`;
    let s = pairLabels.get(k);
    if (s === undefined) {
      if (pairLabels.size >= 2 * maxPairs) pairLabels.clear();
      pairLabels.set(k, (s = new LabelSet({ topic: l.topic, consumer_group: l.group })));
    }
    return s;
  };
  const lagNow = (ctx: BrokerContext): Promise<Array<[GroupLag, LabelSet]>> => {
    const n = src.scrapeNumber();
    if (n !== lagOf) {
      lagOf = n;
      // only the node that takes writes reports lag: followers would count it again
      lag = ctx.brokerId() === 0 ? consumerLag(ctx, maxPairs, src.maxLagReads, memo).then((rows) => rows.map((r) => [r, labelsOf(r)])) : Promise.resolve([]);
    }
    return lag;
  };
  const lagGauge = (name: string, help: string, pick: (l: GroupLag) => number): void =>
    reg(name, help, 'gauge', async (ctx, out) => {
      for (const [l, labels] of await lagNow(ctx)) out.push({ labels, value: pick(l) });
    });
  lagGauge('rocketmq_consumer_lag_messages', 'Messages not yet committed by the consumer group (max offset - committed offset).', (l) => l.lag);
  lagGauge('rocketmq_consumer_lag_latency', 'Age (ms) of the oldest message the group has not committed.', (l) => l.lagLatencyMs);
  lagGauge('rocketmq_consumer_inflight_messages', 'Messages pulled and not yet committed.', (l) => l.inflight);
  lagGauge('rocketmq_consumer_ready_messages', 'Messages stored and not yet pulled.', (l) => l.ready);
  lagGauge('rocketmq_consumer_queueing_latency', 'Age (ms) of the oldest message not yet pulled.', (l) => l.queueingLatencyMs);

  reg('rocketmq_processor_watermark', 'Requests dispatched and not yet answered, by processor; processor="pull_hold" counts held long-polling pulls.', 'gauge', (ctx, out) => {
    const by = new Map<string, number>([
      ['send', 0],
      ['pull', 0],
      ['heartbeat', 0],
      ['consumer_manage', 0],
      ['admin', 0],
    ]);
    for (const [code, n] of src.rpc.inflight) {
      const p = processorOf(code);
      by.set(p, (by.get(p) ?? 0) + n);
    }
    for (const [processor, n] of by) out.push({ labels: { processor }, value: n });
    out.push({ labels: { processor: 'pull_hold' }, value: ctx.holds.heldCount });
    out.push({ labels: { processor: 'commit_log' }, value: ctx.commitLog.stats().pendingAppends });
  });
  reg('rocketmq_broker_permission', 'brokerPermission: 4 read, 2 write, 1 inherit.', 'gauge', (ctx, out) => {
    out.push({ labels: {}, value: ctx.config.brokerPermission });
  });
  reg('rocketmq_rpc_latency', 'Remoting request latency (ms) from dispatch to answer, by request and response code (-1: no answer).', 'histogram', (_ctx, out) => {
    for (const c of src.rpc.all()) out.push({ labels: rpcLabels(c), bounds: c.latency.bounds, counts: c.latency.counts, sum: c.latency.sum });
  });

  reg('rocketmq_storage_size', 'Bytes of the commit log on disk (first data file start to end of log).', 'gauge', (_ctx, out) => {
    const s = src.storage();
    if (s) out.push({ labels: {}, value: s.endPosition - s.startPosition });
  });
  reg('rocketmq_storage_flush_behind_bytes', 'Bytes of the commit log written but not yet fsynced.', 'gauge', (_ctx, out) => {
    const s = src.storage();
    if (s) out.push({ labels: {}, value: Math.max(0, s.endPosition - s.durablePosition) });
  });
  reg('rocketmq_storage_dispatch_behind_bytes', 'Bytes of the commit log past the last entry applied to the consume queues and indexes.', 'gauge', (ctx, out) => {
    const s = src.storage();
    if (!s) return;
    const applied = ctx.commitLog.appliedIndex;
    let behind = 0;
    if (applied < s.lastIndex) {
      try {
        behind = s.endPosition - s.entryAt(Math.max(applied + 1, s.firstIndex)).pos;
      } catch {
        behind = 0;
      }
    }
    out.push({ labels: {}, value: Math.max(0, behind) });
  });
  reg('rocketmq_storage_page_cache_dropped_bytes_total', 'Bytes of the commit log whose pages the cache window dropped after their fsync (raftmq, commitLogCacheWindow).', 'counter', (_ctx, out) => {
    const v = src.pageCacheDropped?.();
    if (v !== undefined) out.push({ labels: {}, value: v });
  });
  reg('rocketmq_storage_cold_read_bytes_total', 'Bytes of the commit log that pulls found out of the page cache and read in the thread pool first (raftmq).', 'counter', (ctx, out) => {
    out.push({ labels: {}, value: ctx.commitLog.coldReadBytes });
  });
  reg('rocketmq_storage_dispatch_behind_entries', 'Log entries committed but not yet applied (raftmq).', 'gauge', (ctx, out) => {
    const st = ctx.commitLog.stats();
    out.push({ labels: {}, value: Math.max(0, st.committedIndex - st.appliedIndex) });
  });
}
