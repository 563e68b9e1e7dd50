// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38), LOCK_BATCH_MQ (41),
// UNLOCK_BATCH_MQ (42): who is connected, what they subscribe to, and orderly queue locks.
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import { Perm } from '../../../protocol/body/TopicConfig.js';
import { GetConsumerListByGroupRequestHeader, UnregisterClientRequestHeader } from '../../../protocol/header/broker.js';
import { parseLenientJson } from '../../../protocol/json/lenientJson.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import type { HeartbeatConsumer } from '../client/ClientRegistry.js';
import type { LockedQueue, RebalanceLockManager } from '../client/RebalanceLockManager.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../TopicConfigManager.js';

/** Most consumer groups / subscriptions one heartbeat may carry. */
const MAX_GROUPS_PER_HEARTBEAT = 1000;
const MAX_SUBSCRIPTIONS_PER_GROUP = 1000;
const MAX_QUEUES_PER_LOCK = 10_000;

function fail(code: number, message: string): never {
  throw new RemotingError(code, message);
}

function jsonOf(req: RemotingCommand, what: string): Record<string, unknown> {
  if (!req.body || req.body.length === 0) fail(ResponseCode.SYSTEM_ERROR, `${what}: the body is empty`);
  let v: unknown;
  try {
    v = parseLenientJson(req.body.toString('utf8'));
  } catch (e) {
    fail(ResponseCode.SYSTEM_ERROR, `${what}: the body is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(ResponseCode.SYSTEM_ERROR, `${what}: the body is not a JSON object`);
  return v as Record<string, unknown>;
}

const s = (v: unknown, d = ''): string => (typeof v === 'string' ? v : v === undefined || v === null ? d : String(v));
const n = (v: unknown, d = 0): number => {
  const x = typeof v === 'string' ? Number(v) : v;
  return typeof x === 'number' && Number.isFinite(x) ? x : d;
};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

export interface Heartbeat {
  clientID: string;
  producerGroups: string[];
  consumers: HeartbeatConsumer[];
}

/** HeartbeatData as the Java client, the Go client and ali-ons send it. */
export function parseHeartbeat(body: Record<string, unknown>): Heartbeat {
  const clientID = s(body.clientID);
  if (clientID === '') fail(ResponseCode.SYSTEM_ERROR, 'heartbeat: clientID is missing');
  const producers = arr(body.producerDataSet).map((p) => s(obj(p).groupName)).filter((g) => g !== '');
  const consumerData = arr(body.consumerDataSet);
  if (consumerData.length > MAX_GROUPS_PER_HEARTBEAT || producers.length > MAX_GROUPS_PER_HEARTBEAT) {
    fail(ResponseCode.SYSTEM_ERROR, `heartbeat: more than ${MAX_GROUPS_PER_HEARTBEAT} groups`);
  }
  const consumers = consumerData.map((c): HeartbeatConsumer => {
    const o = obj(c);
    const subs = arr(o.subscriptionDataSet);
    if (subs.length > MAX_SUBSCRIPTIONS_PER_GROUP) fail(ResponseCode.SYSTEM_ERROR, `heartbeat: more than ${MAX_SUBSCRIPTIONS_PER_GROUP} subscriptions in a group`);
    return {
      groupName: s(o.groupName),
      consumeType: s(o.consumeType, 'CONSUME_PASSIVELY'),
      messageModel: s(o.messageModel, 'CLUSTERING'),
      consumeFromWhere: s(o.consumeFromWhere, 'CONSUME_FROM_LAST_OFFSET'),
      subscriptions: subs.map((x) => {
        const so = obj(x);
        return {
          topic: s(so.topic),
          subString: s(so.subString, '*'),
          tagsSet: arr(so.tagsSet).map((t) => s(t)),
          codeSet: arr(so.codeSet).map((t) => n(t)),
          subVersion: n(so.subVersion),
          expressionType: s(so.expressionType, 'TAG'),
          classFilterMode: so.classFilterMode === true,
        };
      }).filter((x) => x.topic !== ''),
    };
  }).filter((c) => c.groupName !== '');
  return { clientID, producerGroups: producers, consumers };
}

function parseQueues(v: unknown): LockedQueue[] {
  const list = arr(v);
  if (list.length > MAX_QUEUES_PER_LOCK) fail(ResponseCode.SYSTEM_ERROR, `more than ${MAX_QUEUES_PER_LOCK} queues in one lock request`);
  return list.map((q) => {
    const o = obj(q);
    return { topic: s(o.topic), brokerName: s(o.brokerName), queueId: n(o.queueId) };
  });
}

export function registerClientProcessor(server: RemotingServer, ctx: BrokerContext, locks: RebalanceLockManager): void {
  server.register(RequestCode.HEART_BEAT, (req, conn) => heartbeat(ctx, req, conn));
  server.register(RequestCode.UNREGISTER_CLIENT, (req) => {
    const h = UnregisterClientRequestHeader.decode(req.extFields);
    ctx.clients.unregister(h.clientID, h.producerGroup, h.consumerGroup);
    return createResponse(req, ResponseCode.SUCCESS);
  });
  server.register(RequestCode.GET_CONSUMER_LIST_BY_GROUP, (req) => {
    const h = GetConsumerListByGroupRequestHeader.decode(req.extFields);
    const ids = ctx.clients.consumerIds(h.consumerGroup);
    if (ids.length === 0) return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: `no consumer for this group, ${h.consumerGroup}` });
    return createResponse(req, ResponseCode.SUCCESS, { body: Buffer.from(JSON.stringify({ consumerIdList: ids })) });
  });
  server.register(RequestCode.LOCK_BATCH_MQ, (req) => {
    const b = jsonOf(req, 'LOCK_BATCH_MQ');
    const ok = locks.tryLock(s(b.consumerGroup), s(b.clientId), parseQueues(b.mqSet));
    return createResponse(req, ResponseCode.SUCCESS, { body: Buffer.from(JSON.stringify({ lockOKMQSet: ok })) });
  });
  server.register(RequestCode.UNLOCK_BATCH_MQ, (req) => {
    const b = jsonOf(req, 'UNLOCK_BATCH_MQ');
    locks.unlock(s(b.consumerGroup), s(b.clientId), parseQueues(b.mqSet));
    return createResponse(req, ResponseCode.SUCCESS);
  });
}

async function heartbeat(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection): Promise<RemotingCommand> {
  const hb = parseHeartbeat(jsonOf(req, 'HEART_BEAT'));
  for (const c of hb.consumers) {
    const group = await ctx.groups.findOrCreate(c.groupName, ctx.config.autoCreateSubscriptionGroup && ctx.commitLog.isWritable);
    if (group && ctx.commitLog.isWritable) {
      const retryTopic = RETRY_GROUP_TOPIC_PREFIX + c.groupName;
      if (!ctx.topics.get(retryTopic)) {
        await ctx.topics.createSystemGroupTopic(retryTopic, Math.max(1, group.retryQueueNums), Perm.READ | Perm.WRITE);
        ctx.registerSoon();
      }
    }
    const changed = ctx.clients.registerConsumer(c, hb.clientID, conn, req.language, req.version);
    if (changed) ctx.log(`consumer group ${c.groupName}: client ${hb.clientID} (${conn.remoteAddress}) registered or changed its subscriptions`);
  }
  for (const g of hb.producerGroups) ctx.clients.registerProducer(g, hb.clientID, conn, req.language, req.version);
  return createResponse(req, ResponseCode.SUCCESS);
}
