// Admin requests of the broker: topics and subscription groups, runtime info, config,
// message lookups by id and key, and the statistics mqadmin prints.
import { Perm, topicConfig, type TopicFilterType } from '../../../protocol/body/TopicConfig.js';
import { encodeBrokerConfigBody } from '../../../protocol/body/BrokerConfigBody.js';
import { encodeConsumeStats, type OffsetWrapper } from '../../../protocol/body/ConsumeStats.js';
import { encodeConsumerConnection } from '../../../protocol/body/ConsumerConnection.js';
import type { SubscriptionData } from '../../../protocol/body/HeartbeatData.js';
import { encodeKVTable } from '../../../protocol/body/KVTable.js';
import { MessageQueueMap } from '../../../protocol/body/MessageQueue.js';
import { encodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { encodeTopicStatsTable, type TopicOffset } from '../../../protocol/body/TopicStatsTable.js';
import * as H from '../../../protocol/header/broker.js';
import { parseLenientJson, stringifySorted } from '../../../protocol/json/lenientJson.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import { brokerSchema } from '../../config/BrokerConfig.js';
import type { KeyTable } from '../../config/ConfigSchema.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import { groupConfigFromJson } from '../SubscriptionGroupManager.js';
import { topicNameProblem } from '../TopicConfigManager.js';

export const BROKER_VERSION_DESC = 'V4_9_8';
/** most records one QUERY_MESSAGE answer carries */
const MAX_QUERY_RESULTS = 64;

function fail(code: number, message: string): never {
  throw new RemotingError(code, message);
}

function ok(req: RemotingCommand, body?: Buffer, extFields?: Record<string, string>): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS, { body, extFields });
}

export interface AdminProcessorOptions {
  configFile?: string | undefined;
}

export function registerAdminProcessor(server: RemotingServer, ctx: BrokerContext, opts: AdminProcessorOptions = {}): void {
  const log = ctx.commitLog;

  server.register(RequestCode.UPDATE_AND_CREATE_TOPIC, async (req) => {
    const h = H.CreateTopicRequestHeader.decode(req.extFields);
    const problem = topicNameProblem(h.topic);
    if (problem) fail(ResponseCode.INVALID_PARAMETER, problem);
    if (h.topic === ctx.config.brokerClusterName) fail(ResponseCode.INVALID_PARAMETER, `the topic[${h.topic}] is conflict with system reserved words.`);
    if (h.readQueueNums < 1 || h.writeQueueNums < 1 || h.readQueueNums > 1024 || h.writeQueueNums > 1024) {
      fail(ResponseCode.INVALID_PARAMETER, `queue numbers must be within 1..1024 (read ${h.readQueueNums}, write ${h.writeQueueNums})`);
    }
    if (!ctx.commitLog.isWritable) fail(ResponseCode.SERVICE_NOT_AVAILABLE, 'this broker does not take writes now (not the master)');
    const filter: TopicFilterType = h.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG';
    await ctx.topics.put(
      topicConfig(h.topic, {
        readQueueNums: h.readQueueNums,
        writeQueueNums: h.writeQueueNums,
        perm: h.perm & (Perm.READ | Perm.WRITE | Perm.INHERIT),
        topicFilterType: filter,
        topicSysFlag: h.topicSysFlag ?? 0,
        order: h.order,
      }),
    );
    await ctx.registerNow();
    return ok(req);
  });

  server.register(RequestCode.DELETE_TOPIC_IN_BROKER, async (req) => {
    const h = H.DeleteTopicRequestHeader.decode(req.extFields);
    if (ctx.topics.isSystemTopic(h.topic)) fail(ResponseCode.INVALID_PARAMETER, `the topic[${h.topic}] is a system topic and cannot be deleted`);
    if (!ctx.commitLog.isWritable) fail(ResponseCode.SERVICE_NOT_AVAILABLE, 'this broker does not take writes now (not the master)');
    await ctx.topics.delete(h.topic);
    for (const g of ctx.offsets.groupsOfTopic(h.topic)) await ctx.offsets.delete(g, h.topic);
    await ctx.registerNow();
    return ok(req);
  });

  server.register(RequestCode.GET_ALL_TOPIC_CONFIG, (req) =>
    ok(req, encodeTopicConfigWrapper({ dataVersion: ctx.topics.dataVersion, topicConfigTable: ctx.topics.all() })),
  );

  server.register(RequestCode.GET_TOPIC_STATS_INFO, async (req) => {
    const h = H.GetTopicStatsInfoRequestHeader.decode(req.extFields);
    const tc = ctx.topics.get(h.topic);
    if (!tc) fail(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
    const offsetTable = new MessageQueueMap<TopicOffset>();
    for (let q = 0; q < tc.writeQueueNums; q++) {
      const max = log.maxOffset(h.topic, q);
      offsetTable.set(
        { topic: h.topic, brokerName: ctx.config.brokerName, queueId: q },
        { minOffset: log.minOffset(h.topic, q), maxOffset: max, lastUpdateTimestamp: max > 0 ? await storeTimeAt(ctx, h.topic, q, max - 1) : 0 },
      );
    }
    return ok(req, encodeTopicStatsTable({ offsetTable }));
  });

  server.register(RequestCode.GET_CONSUME_STATS, async (req) => {
    const h = H.GetConsumeStatsRequestHeader.decode(req.extFields);
    const topics = h.topic ? [h.topic] : ctx.offsets.topicsOfGroup(h.consumerGroup);
    const offsetTable = new MessageQueueMap<OffsetWrapper>();
    for (const topic of topics) {
      const tc = ctx.topics.get(topic);
      if (!tc) continue;
      for (let q = 0; q < tc.readQueueNums; q++) {
        const consumerOffset = Math.max(0, ctx.offsets.query(h.consumerGroup, topic, q) ?? 0);
        offsetTable.set(
          { topic, brokerName: ctx.config.brokerName, queueId: q },
          {
            brokerOffset: log.maxOffset(topic, q),
            consumerOffset,
            lastTimestamp: consumerOffset > 0 ? await storeTimeAt(ctx, topic, q, consumerOffset - 1) : 0,
          },
        );
      }
    }
    return ok(req, encodeConsumeStats({ offsetTable, consumeTps: 0 }));
  });

  server.register(RequestCode.GET_CONSUMER_CONNECTION_LIST, (req) => {
    const h = H.GetConsumerConnectionListRequestHeader.decode(req.extFields);
    const g = ctx.clients.consumers.get(h.consumerGroup);
    if (!g || g.channels.size === 0) fail(ResponseCode.CONSUMER_NOT_ONLINE, 'the consumer group not online');
    const subscriptionTable = new Map<string, SubscriptionData>();
    for (const [topic, sub] of g.subscriptions) {
      const { filter: _filter, ...wire } = sub;
      subscriptionTable.set(topic, wire);
    }
    return ok(
      req,
      encodeConsumerConnection({
        connectionSet: [...g.channels.values()].map((c) => ({ clientId: c.clientId, clientAddr: c.conn.remoteAddress, language: c.language, version: c.version })),
        subscriptionTable,
        consumeType: g.consumeType,
        messageModel: g.messageModel,
        consumeFromWhere: g.consumeFromWhere,
      }),
    );
  });

  server.register(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, (req) => {
    const h = H.QueryTopicConsumeByWhoRequestHeader.decode(req.extFields);
    const groups = new Set([...ctx.clients.groupsSubscribedTo(h.topic), ...ctx.offsets.groupsOfTopic(h.topic)]);
    return ok(req, Buffer.from(JSON.stringify({ groupList: [...groups].sort() })));
  });

  server.register(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, async (req) => {
    if (!req.body || req.body.length === 0) fail(ResponseCode.SYSTEM_ERROR, 'UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: the body is empty');
    let v: unknown;
    try {
      v = parseLenientJson(req.body.toString('utf8'));
    } catch (e) {
      fail(ResponseCode.SYSTEM_ERROR, `UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: the body is not JSON: ${(e as Error).message}`);
    }
    const name = (v as { groupName?: unknown }).groupName;
    if (typeof name !== 'string' || name === '') fail(ResponseCode.SYSTEM_ERROR, 'UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: groupName is missing');
    if (!ctx.commitLog.isWritable) fail(ResponseCode.SERVICE_NOT_AVAILABLE, 'this broker does not take writes now (not the master)');
    await ctx.groups.put(groupConfigFromJson(name, v));
    return ok(req);
  });

  server.register(RequestCode.GET_BROKER_RUNTIME_INFO, async (req) => {
    const info = runtimeInfo(ctx);
    info.set('earliestMessageTimeStamp', String(await earliestMessageTime(ctx)));
    return ok(req, encodeKVTable(info));
  });

  server.register(RequestCode.GET_BROKER_CONFIG, (req) => {
    const version = stringifySorted(ctx.topics.dataVersion);
    return ok(req, encodeBrokerConfigBody(brokerConfigTable(ctx)), { version, ...(opts.configFile ? { configFile: opts.configFile } : {}) });
  });

  server.register(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, (req) => {
    const table: Record<string, unknown> = {};
    for (const [name, g] of ctx.groups.all()) table[name] = g;
    return ok(req, Buffer.from(stringifySorted({ dataVersion: ctx.topics.dataVersion, subscriptionGroupTable: table })));
  });

  server.register(RequestCode.DELETE_SUBSCRIPTIONGROUP, async (req) => {
    const h = H.DeleteSubscriptionGroupRequestHeader.decode(req.extFields);
    if (!ctx.commitLog.isWritable) fail(ResponseCode.SERVICE_NOT_AVAILABLE, 'this broker does not take writes now (not the master)');
    await ctx.groups.delete(h.groupName);
    if (h.cleanOffset) await ctx.offsets.delete(h.groupName);
    return ok(req);
  });

  server.register(RequestCode.VIEW_MESSAGE_BY_ID, (req) => {
    const h = H.ViewMessageRequestHeader.decode(req.extFields);
    const rec = log.readMessageAt(h.offset);
    if (!rec) fail(ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${h.offset}`);
    return ok(req, rec);
  });

  server.register(RequestCode.QUERY_MESSAGE, async (req) => {
    const h = H.QueryMessageRequestHeader.decode(req.extFields);
    const byUniq = req.extFields?._UNIQUE_KEY_QUERY === 'true';
    const max = Math.max(1, Math.min(byUniq ? 32 : h.maxNum, MAX_QUERY_RESULTS));
    const offsets = byUniq
      ? await log.index.getByUniqKey(h.key, max)
      : await log.index.queryByKey(h.topic, h.key, max, h.beginTimestamp, h.endTimestamp);
    const parts: Buffer[] = [];
    for (const off of offsets) {
      const rec = log.readMessageAt(off);
      if (rec) parts.push(rec);
    }
    const last = log.index.lastIndexed;
    const ext = H.QueryMessageResponseHeader.encode({ indexLastUpdateTimestamp: last.storeTimestamp, indexLastUpdatePhyoffset: last.physicalOffset });
    if (parts.length === 0) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, { remark: 'can not find message, maybe time range not correct', extFields: ext });
    }
    return ok(req, Buffer.concat(parts), ext);
  });
}

/** Store time of the oldest message still held (looked at over at most 1024 queues); now when there is none. */
async function earliestMessageTime(ctx: BrokerContext): Promise<number> {
  let earliest = Number.POSITIVE_INFINITY;
  for (const q of ctx.commitLog.index.queues().slice(0, 1024)) {
    if (q.max <= q.min) continue;
    const t = await ctx.commitLog.index.earliestStoreTime(q.topic, q.queueId);
    if (t > 0 && t < earliest) earliest = t;
  }
  return Number.isFinite(earliest) ? earliest : ctx.now();
}

async function storeTimeAt(ctx: BrokerContext, topic: string, queueId: number, offset: number): Promise<number> {
  const e = await ctx.commitLog.index.getConsumeQueueEntry(topic, queueId, offset);
  return e?.storeTimestamp ?? 0;
}

/** Every config key with its value as a properties file writes it. */
function brokerConfigTable(ctx: BrokerContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, spec] of Object.entries(brokerSchema.keys as KeyTable)) {
    out.set(name, spec.type.format((ctx.config as unknown as Record<string, unknown>)[name]));
  }
  return out;
}

/** GET_BROKER_RUNTIME_INFO's table, with the keys mqadmin clusterList and brokerStatus read. */
export function runtimeInfo(ctx: BrokerContext): Map<string, string> {
  const st = ctx.commitLog.stats();
  const m = new Map<string, string>();
  m.set('brokerVersionDesc', BROKER_VERSION_DESC);
  m.set('brokerVersion', '413');
  m.set('putTps', ctx.stats.tpsText('put'));
  m.set('getTransferedTps', ctx.stats.tpsText('get'));
  m.set('getTransferredTps', ctx.stats.tpsText('get'));
  m.set('sendThreadPoolQueueSize', String(st.pendingAppends));
  m.set('sendThreadPoolQueueCapacity', String(st.maxPendingAppends));
  m.set('sendThreadPoolQueueHeadWaitTimeMills', '0');
  m.set('pullThreadPoolQueueSize', String(ctx.holds.heldCount));
  m.set('pullThreadPoolQueueCapacity', String(ctx.holds.maxHeld));
  m.set('pullThreadPoolQueueHeadWaitTimeMills', '0');
  m.set('queryThreadPoolQueueSize', '0');
  m.set('queryThreadPoolQueueCapacity', '20000');
  m.set('pageCacheLockTimeMills', '0');
  m.set('commitLogDiskRatio', '0.0');
  m.set('commitLogMaxOffset', String(st.lastIndex));
  m.set('commitLogMinOffset', '0');
  m.set('dispatchBehindBytes', String(Math.max(0, st.committedIndex - st.appliedIndex)));
  m.set('msgPutTotalTodayNow', String(ctx.stats.putTotal));
  for (const [k, v] of Object.entries(ctx.stats.dayTotals())) m.set(k, v);
  m.set('bootTimestamp', String(bootTime));
  m.set('runtime', runtimeText(Date.now() - bootTime));
  return m;
}

const bootTime = Date.now();

function runtimeText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `[ ${Math.floor(s / 86400)} days, ${Math.floor((s % 86400) / 3600)} hours, ${Math.floor((s % 3600) / 60)} minutes, ${s % 60} seconds ]`;
}
