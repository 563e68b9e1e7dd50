// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38), LOCK_BATCH_MQ (41),
// UNLOCK_BATCH_MQ (42): who is connected, what they subscribe to, and orderly queue locks.
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import { Perm } from '../../../protocol/body/TopicConfig.js';
import { GetConsumerListByGroupRequestHeader, UnregisterClientRequestHeader } from '../../../protocol/header/broker.js';
import { encodeConsumerListBody } from '../../../protocol/body/ConsumerListBody.js';
import { decodeHeartbeatData, type HeartbeatData } from '../../../protocol/body/HeartbeatData.js';
import { decodeLockBatchRequestBody, encodeLockBatchResponseBody, type LockBatchRequestBody } from '../../../protocol/body/LockBatchBody.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import type { RebalanceLockManager } from '../client/RebalanceLockManager.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../TopicConfigManager.js';

/** Most consumer groups / subscriptions one heartbeat may carry, and queues one lock request may name. */
const MAX_GROUPS_PER_HEARTBEAT = 1000;
const MAX_SUBSCRIPTIONS_PER_GROUP = 1000;
const MAX_QUEUES_PER_LOCK = 10_000;

function fail(code: number, message: string): never {
  throw new RemotingError(code, message);
}

function bodyOf(req: RemotingCommand, what: string): Buffer {
  if (!req.body || req.body.length === 0) fail(ResponseCode.SYSTEM_ERROR, `${what}: the body is empty`);
  return req.body;
}

/** HeartbeatData (as the Java client, the Go client and ali-ons send it) within our limits. */
export function parseHeartbeat(body: Buffer): HeartbeatData {
  const hb = decodeHeartbeatData(body);
  if (hb.clientID === '') fail(ResponseCode.SYSTEM_ERROR, 'heartbeat: clientID is missing');
  if (hb.consumerDataSet.length > MAX_GROUPS_PER_HEARTBEAT || hb.producerDataSet.length > MAX_GROUPS_PER_HEARTBEAT) {
    fail(ResponseCode.SYSTEM_ERROR, `heartbeat: more than ${MAX_GROUPS_PER_HEARTBEAT} groups`);
  }
  for (const c of hb.consumerDataSet) {
    if (c.subscriptionDataSet.length > MAX_SUBSCRIPTIONS_PER_GROUP) {
      fail(ResponseCode.SYSTEM_ERROR, `heartbeat: group ${c.groupName} has more than ${MAX_SUBSCRIPTIONS_PER_GROUP} subscriptions`);
    }
  }
  return hb;
}

function lockRequest(req: RemotingCommand, what: string): LockBatchRequestBody {
  const b = decodeLockBatchRequestBody(bodyOf(req, what));
  if (b.mqSet.length > MAX_QUEUES_PER_LOCK) fail(ResponseCode.SYSTEM_ERROR, `${what}: more than ${MAX_QUEUES_PER_LOCK} queues`);
  return b;
}

export function registerClientProcessor(server: RemotingServer, ctx: BrokerContext, locks: RebalanceLockManager): void {
  server.register(RequestCode.HEART_BEAT, (req, conn) => heartbeat(ctx, req, conn));
  server.register(RequestCode.UNREGISTER_CLIENT, (req) => {
    const h = UnregisterClientRequestHeader.decode(req.extFields);
    ctx.clients.unregister(h.clientID, h.producerGroup, h.consumerGroup);
    // Java answers with its (empty) response header: extFields {}
    return createResponse(req, ResponseCode.SUCCESS, { extFields: {} });
  });
  server.register(RequestCode.GET_CONSUMER_LIST_BY_GROUP, (req) => {
    const h = GetConsumerListByGroupRequestHeader.decode(req.extFields);
    const ids = ctx.clients.consumerIds(h.consumerGroup);
    if (ids.length === 0) return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: `no consumer for this group, ${h.consumerGroup}` });
    return createResponse(req, ResponseCode.SUCCESS, { extFields: {}, body: encodeConsumerListBody({ consumerIdList: ids }) });
  });
  server.register(RequestCode.LOCK_BATCH_MQ, (req) => {
    const b = lockRequest(req, 'LOCK_BATCH_MQ');
    const ok = locks.tryLock(b.consumerGroup, b.clientId, b.mqSet);
    return createResponse(req, ResponseCode.SUCCESS, { body: encodeLockBatchResponseBody({ lockOKMQSet: ok }) });
  });
  server.register(RequestCode.UNLOCK_BATCH_MQ, (req) => {
    const b = lockRequest(req, 'UNLOCK_BATCH_MQ');
    locks.unlock(b.consumerGroup, b.clientId, b.mqSet);
    return createResponse(req, ResponseCode.SUCCESS);
  });
}

async function heartbeat(ctx: BrokerContext, req: RemotingCommand, conn: RemotingConnection): Promise<RemotingCommand> {
  const hb = parseHeartbeat(bodyOf(req, 'HEART_BEAT'));
  for (const c of hb.consumerDataSet) {
    const group = await ctx.groups.findOrCreate(c.groupName, ctx.config.autoCreateSubscriptionGroup);
    if (group && ctx.commitLog.isWritable) {
      const retryTopic = RETRY_GROUP_TOPIC_PREFIX + c.groupName;
      if (!ctx.topics.get(retryTopic)) {
        await ctx.topics.createSystemGroupTopic(retryTopic, Math.max(1, group.retryQueueNums), Perm.READ | Perm.WRITE);
        // Java registers the new retry topic before answering: ali-ons looks up its route right
        // after the first heartbeat and otherwise only every 30 s, so retries would wait that long
        await ctx.registerNow();
      }
    }
    if (c.groupName === '') continue;
    const changed = ctx.clients.registerConsumer(c, hb.clientID, conn, req.language, req.version);
    if (changed) ctx.log(`consumer group ${c.groupName}: client ${hb.clientID} (${conn.remoteAddress}) registered or changed its subscriptions`);
  }
  for (const p of hb.producerDataSet) if (p.groupName !== '') ctx.clients.registerProducer(p.groupName, hb.clientID, conn, req.language, req.version);
  return createResponse(req, ResponseCode.SUCCESS);
}
