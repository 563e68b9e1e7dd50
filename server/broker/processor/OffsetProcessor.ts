// Consumer offsets and queue offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
// SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
// GET_EARLIEST_MSG_STORETIME (32).
import * as H from '../../../protocol/header/broker.js';
import { createResponse } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';

export function registerOffsetProcessor(server: RemotingServer, ctx: BrokerContext): void {
  const log = ctx.commitLog;
  server.register(RequestCode.QUERY_CONSUMER_OFFSET, (req) => {
    const h = H.QueryConsumerOffsetRequestHeader.decode(req.extFields);
    const known = ctx.offsets.query(h.consumerGroup, h.topic, h.queueId);
    if (known !== undefined) {
      return createResponse(req, ResponseCode.SUCCESS, { extFields: H.QueryConsumerOffsetResponseHeader.encode({ offset: known }) });
    }
    // A new group on a young queue (nothing retained was ever removed) starts at 0, as in Java.
    if (h.setZeroIfNotFound !== false && log.minOffset(h.topic, h.queueId) <= 0) {
      return createResponse(req, ResponseCode.SUCCESS, { extFields: H.QueryConsumerOffsetResponseHeader.encode({ offset: 0 }) });
    }
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, { remark: 'Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first' });
  });
  server.register(RequestCode.UPDATE_CONSUMER_OFFSET, (req) => {
    const h = H.UpdateConsumerOffsetRequestHeader.decode(req.extFields);
    if (ctx.brokerId() !== 0) return createResponse(req, ResponseCode.SUCCESS, { remark: 'not the master; offset ignored' });
    // ali-ons sends an offset of 0 as -1 (`offset || -1`): nothing to store
    if (h.commitOffset < 0) return createResponse(req, ResponseCode.SUCCESS);
    if (h.queueId < 0) return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: `queueId ${h.queueId} is not a queue id` });
    if (!ctx.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset)) {
      return createResponse(req, ResponseCode.SYSTEM_BUSY, { remark: `consumer offset table full (${ctx.offsets.maxTopicGroups} group/topic pairs)` });
    }
    return createResponse(req, ResponseCode.SUCCESS);
  });
  server.register(RequestCode.GET_MAX_OFFSET, (req) => {
    const h = H.GetMaxOffsetRequestHeader.decode(req.extFields);
    return createResponse(req, ResponseCode.SUCCESS, { extFields: H.OffsetResponseHeader.encode({ offset: log.maxOffset(h.topic, h.queueId) }) });
  });
  server.register(RequestCode.GET_MIN_OFFSET, (req) => {
    const h = H.GetMinOffsetRequestHeader.decode(req.extFields);
    return createResponse(req, ResponseCode.SUCCESS, { extFields: H.OffsetResponseHeader.encode({ offset: log.minOffset(h.topic, h.queueId) }) });
  });
  server.register(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, async (req) => {
    const h = H.SearchOffsetRequestHeader.decode(req.extFields);
    const boundary = h.boundaryType === 'upper' ? 'upper' : 'lower';
    const offset = await log.index.offsetByTimestamp(h.topic, h.queueId, h.timestamp, boundary);
    return createResponse(req, ResponseCode.SUCCESS, { extFields: H.OffsetResponseHeader.encode({ offset }) });
  });
  server.register(RequestCode.GET_EARLIEST_MSG_STORETIME, async (req) => {
    const h = H.GetEarliestMsgStoretimeRequestHeader.decode(req.extFields);
    const timestamp = await log.index.earliestStoreTime(h.topic, h.queueId);
    return createResponse(req, ResponseCode.SUCCESS, { extFields: H.GetEarliestMsgStoretimeResponseHeader.encode({ timestamp }) });
  });
}
