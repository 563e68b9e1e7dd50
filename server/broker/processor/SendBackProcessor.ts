// CONSUMER_SEND_MSG_BACK (36): a consumer could not process a message; store a copy in
// %RETRY%<group> with the next delay level, or in %DLQ%<group> once it failed
// maxReconsumeTimes times (or the consumer asks for the DLQ with a negative level).
import { Perm } from '../../../protocol/body/TopicConfig.js';
import { ConsumerSendMsgBackRequestHeader } from '../../../protocol/header/broker.js';
import { MessageProperty, decodeStoredMessage } from '../../../protocol/message/index.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import type { MessageWriter } from '../MessageWriter.js';
import { DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX } from '../TopicConfigManager.js';
import { VERSION_WITH_MAX_RECONSUME } from './SendMessageProcessor.js';

export function registerSendBackProcessor(server: RemotingServer, ctx: BrokerContext, writer: MessageWriter): void {
  server.register(RequestCode.CONSUMER_SEND_MSG_BACK, async (req) => {
    const h = ConsumerSendMsgBackRequestHeader.decode(req.extFields);
    if (ctx.brokerId() !== 0) throw new RemotingError(ResponseCode.SLAVE_NOT_AVAILABLE, 'not the master; send the message back to the master');
    const group = ctx.groups.get(h.group);
    if (!group) throw new RemotingError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${h.group}`);
    if ((ctx.config.brokerPermission & Perm.WRITE) === 0) {
      throw new RemotingError(ResponseCode.NO_PERMISSION, `the broker[${ctx.config.brokerIP1}] sending message is forbidden`);
    }
    if (group.retryQueueNums <= 0) return createResponse(req, ResponseCode.SUCCESS);
    const record = ctx.commitLog.readMessageAt(h.offset);
    if (!record) throw new RemotingError(ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${h.offset}`);
    const msg = decodeStoredMessage(record);

    const props = new Map(msg.properties);
    if (!props.has(MessageProperty.RETRY_TOPIC)) props.set(MessageProperty.RETRY_TOPIC, msg.topic);
    // a message that came through the delay service carries its last trip's routing
    props.delete(MessageProperty.REAL_TOPIC);
    props.delete(MessageProperty.REAL_QID);
    props.delete(MessageProperty.DELAY);
    if (!props.has(MessageProperty.ORIGIN_MESSAGE_ID)) props.set(MessageProperty.ORIGIN_MESSAGE_ID, h.originMsgId || msg.offsetMsgId);

    const maxReconsume = req.version >= VERSION_WITH_MAX_RECONSUME && h.maxReconsumeTimes !== undefined ? h.maxReconsumeTimes : group.retryMaxTimes;
    const reconsumeTimes = msg.reconsumeTimes;
    let topic: string;
    let queueId: number;
    let delayLevel = h.delayLevel;
    if (reconsumeTimes >= maxReconsume || delayLevel < 0) {
      topic = DLQ_GROUP_TOPIC_PREFIX + h.group;
      queueId = 0;
      delayLevel = 0;
      // Java makes DLQ topics write-only; an operator opens them for reading with updateTopic
      await ctx.topics.createSystemGroupTopic(topic, 1, Perm.WRITE);
      ctx.log(`message ${msg.msgId} of ${h.group} goes to ${topic} after ${reconsumeTimes} reconsumes`);
    } else {
      topic = RETRY_GROUP_TOPIC_PREFIX + h.group;
      queueId = Math.floor(Math.random() * group.retryQueueNums);
      await ctx.topics.createSystemGroupTopic(topic, group.retryQueueNums, Perm.READ | Perm.WRITE);
      if (delayLevel === 0) delayLevel = 3 + reconsumeTimes;
      delayLevel = Math.min(delayLevel, ctx.delayLevelMillis.length);
    }
    ctx.registerSoon();
    const out = writer.copyRecord(msg, { topic, queueId, properties: props, reconsumeTimes: reconsumeTimes + 1 }, delayLevel);
    await writer.append([out]);
    if (topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) ctx.stats.traffic.countDlq(props.get(MessageProperty.RETRY_TOPIC) ?? msg.topic, h.group);
    return createResponse(req, ResponseCode.SUCCESS);
  });
}
