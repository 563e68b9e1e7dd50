// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): RocketMQ's checks and
// codes, auto-creation of topics, retry/DLQ redirection, delay levels; the record is encoded
// once and the answer carries the offset message id of what was stored.
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import { Perm, type TopicConfig } from '../../../protocol/body/TopicConfig.js';
import {
  SendMessageRequestHeader,
  SendMessageRequestHeaderV2,
  SendMessageResponseHeader,
  sendHeaderFromV2,
  type SendMessageHeader,
} from '../../../protocol/header/broker.js';
import {
  MessageFormatError,
  MessageProperty,
  MessageSysFlag,
  TransactionType,
  appendProperty,
  decodeBatchBody,
  encodeOffsetMsgId,
  getProperty,
  parseProperties,
  serializeProperties,
  transactionType,
} from '../../../protocol/message/index.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import type { MessageAppendRecord } from '../commitlog/CommitLog.js';
import { MessageWriter, delayLevelOf, hostOf } from '../MessageWriter.js';
import {
  DLQ_GROUP_TOPIC_PREFIX,
  RETRY_GROUP_TOPIC_PREFIX,
  isSystemOnlyTopic,
  topicNameProblem,
} from '../TopicConfigManager.js';

/** Java's version number from which the producer's maxReconsumeTimes header is honoured (V3_4_9). */
export const VERSION_WITH_MAX_RECONSUME = 121;

export function registerSendProcessor(server: RemotingServer, ctx: BrokerContext, writer: MessageWriter): SendMessageProcessor {
  const p = new SendMessageProcessor(ctx, writer);
  server.register(RequestCode.SEND_MESSAGE, (req, conn) => p.process(req, conn));
  server.register(RequestCode.SEND_MESSAGE_V2, (req, conn) => p.process(req, conn));
  server.register(RequestCode.SEND_BATCH_MESSAGE, (req, conn) => p.process(req, conn));
  return p;
}

function fail(code: number, message: string): never {
  throw new RemotingError(code, message);
}

function withoutProperty(text: string, name: string): string {
  const props = parseProperties(text);
  props.delete(name);
  return serializeProperties(props);
}

export class SendMessageProcessor {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly writer: MessageWriter,
  ) {}

  private decodeHeader(req: RemotingCommand): SendMessageHeader {
    const ext = req.extFields;
    if (req.code === RequestCode.SEND_MESSAGE || (ext && ext.a === undefined && ext.producerGroup !== undefined)) {
      return SendMessageRequestHeader.decode(ext);
    }
    return sendHeaderFromV2(SendMessageRequestHeaderV2.decode(ext));
  }

  async process(req: RemotingCommand, conn: RemotingConnection): Promise<RemotingCommand> {
    const h = this.decodeHeader(req);
    const ctx = this.ctx;
    const batch = req.code === RequestCode.SEND_BATCH_MESSAGE;
    // what Java's slave answers (rejectRequest): SYSTEM_BUSY, which producers retry elsewhere
    if (ctx.brokerId() !== 0) fail(ResponseCode.SYSTEM_BUSY, `[REJECTREQUEST]system busy, start flow control for a while (broker ${ctx.config.brokerName} is not the master)`);
    if ((ctx.config.brokerPermission & Perm.WRITE) === 0) {
      fail(ResponseCode.NO_PERMISSION, `the broker[${ctx.config.brokerIP1}] sending message is forbidden`);
    }
    const nameProblem = topicNameProblem(h.topic);
    if (nameProblem) fail(ResponseCode.INVALID_PARAMETER, nameProblem);
    if (isSystemOnlyTopic(h.topic)) fail(ResponseCode.NO_PERMISSION, `sending message to topic[${h.topic}] is forbidden.`);
    const body = req.body ?? Buffer.alloc(0);
    if (body.length > ctx.config.maxMessageSize) {
      fail(ResponseCode.MESSAGE_ILLEGAL, `message body size ${body.length} exceeds maxMessageSize ${ctx.config.maxMessageSize}`);
    }
    if (!batch && transactionType(h.sysFlag) === TransactionType.PREPARED) {
      fail(ResponseCode.NO_PERMISSION, `the broker[${ctx.config.brokerIP1}] sending transaction message is forbidden (transactions are not supported)`);
    }

    // an existing topic without a promise (most sends); creating one is async
    let topicConfig = this.existingTopic(h) ?? (await this.findOrCreateTopic(h, req));
    let topic = h.topic;
    let queueId = h.queueId;
    let reconsumeTimes = h.reconsumeTimes ?? 0;
    let toDlq = false;
    if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) && !batch) {
      const group = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
      const g = ctx.groups.get(group);
      if (!g) fail(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
      const maxReconsume = req.version >= VERSION_WITH_MAX_RECONSUME && h.maxReconsumeTimes !== undefined ? h.maxReconsumeTimes : g.retryMaxTimes;
      if (reconsumeTimes > maxReconsume) {
        topic = DLQ_GROUP_TOPIC_PREFIX + group;
        topicConfig = await ctx.topics.createSystemGroupTopic(topic, 1, Perm.WRITE);
        queueId = 0;
        toDlq = true;
        ctx.registerSoon();
      }
    }
    const queueNums = Math.max(topicConfig.readQueueNums, topicConfig.writeQueueNums);
    if (queueId >= queueNums) {
      fail(ResponseCode.INVALID_PARAMETER, `request queueId[${queueId}] is illegal, ${JSON.stringify(topicConfig)} Producer: ${conn.remoteAddress}`);
    }
    if (queueId < 0) queueId = Math.floor(Math.random() * Math.max(1, topicConfig.writeQueueNums));

    const bornHost = hostOf(conn.remoteAddress);
    const records: MessageAppendRecord[] = [];
    const now = ctx.now();
    const addCommon = (props: string): string => {
      let p = props;
      let uniq = getProperty(p, MessageProperty.UNIQ_KEY);
      if (uniq === undefined) {
        uniq = ctx.uniqKeys.next(now);
        p = appendProperty(p, MessageProperty.UNIQ_KEY, uniq);
      }
      if (getProperty(p, MessageProperty.CLUSTER) === undefined) p = appendProperty(p, MessageProperty.CLUSTER, ctx.config.brokerClusterName);
      return p;
    };
    const sysFlag = topicConfig.topicFilterType === 'MULTI_TAG' ? h.sysFlag | MessageSysFlag.MULTI_TAGS : h.sysFlag;
    try {
      if (batch) {
        if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) fail(ResponseCode.MESSAGE_ILLEGAL, 'batch request does not support retry group ' + topic);
        const entries = decodeBatchBody(body);
        if (entries.length === 0) fail(ResponseCode.MESSAGE_ILLEGAL, 'the batch is empty');
        for (const e of entries) {
          if (e.body.length > ctx.config.maxMessageSize) {
            fail(ResponseCode.MESSAGE_ILLEGAL, `a batched message body of ${e.body.length} bytes exceeds maxMessageSize ${ctx.config.maxMessageSize}`);
          }
          if (delayLevelOf(e.propertiesText, ctx.delayLevelMillis.length) > 0) fail(ResponseCode.MESSAGE_ILLEGAL, 'delayed messages are not supported in a batch');
          records.push(
            this.writer.buildRecord({
              topic,
              queueId,
              flag: e.flag,
              sysFlag: sysFlag & ~MessageSysFlag.COMPRESSED,
              bornTimestamp: h.bornTimestamp,
              bornHost,
              body: e.body,
              propertiesText: addCommon(e.propertiesText),
            }),
          );
        }
      } else {
        // 4.9.8 does not store WAIT of a single message (it only tells the broker when to answer)
        const sent = h.properties ?? '';
        const props = addCommon(getProperty(sent, MessageProperty.WAIT) === undefined ? sent : withoutProperty(sent, MessageProperty.WAIT));
        const delay = toDlq ? 0 : delayLevelOf(props, ctx.delayLevelMillis.length);
        records.push(
          this.writer.buildRecord(
            { topic, queueId, flag: h.flag, sysFlag, bornTimestamp: h.bornTimestamp, bornHost, body, propertiesText: props, reconsumeTimes },
            delay,
          ),
        );
      }
    } catch (e) {
      if (e instanceof MessageFormatError) fail(ResponseCode.MESSAGE_ILLEGAL, e.message);
      throw e;
    }

    const result = await this.writer.append(records);
    if (toDlq) ctx.stats.traffic.countDlq(getProperty(h.properties ?? '', MessageProperty.RETRY_TOPIC) ?? h.topic, topic.slice(DLQ_GROUP_TOPIC_PREFIX.length));
    const first = result.records[0]!;
    const storeHost = hostOf(ctx.storeHost);
    const ids = result.records.map((r) => encodeOffsetMsgId(storeHost, r.physicalOffset));
    const stored = records[0]!;
    return createResponse(req, ResponseCode.SUCCESS, {
      extFields: SendMessageResponseHeader.encode({
        msgId: ids.join(','),
        // a delayed message reports the queue it was asked for, as Java does
        queueId: stored.topic === topic ? stored.queueId : queueId,
        queueOffset: first.queueOffset,
        MSG_REGION: ctx.config.regionId,
        TRACE_ON: String(ctx.config.traceOn),
      }),
    });
  }

  private existingTopic(h: SendMessageHeader): TopicConfig | undefined {
    const existing = this.ctx.topics.get(h.topic);
    if (existing && (existing.perm & Perm.WRITE) === 0) fail(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] not allow send`);
    return existing;
  }

  private async findOrCreateTopic(h: SendMessageHeader, req: RemotingCommand): Promise<TopicConfig> {
    const ctx = this.ctx;
    const existing = this.existingTopic(h);
    if (existing) return existing;
    let created: Promise<TopicConfig> | undefined;
    if (h.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      const g = ctx.groups.get(h.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length));
      if (g) created = ctx.topics.createSystemGroupTopic(h.topic, Math.max(1, g.retryQueueNums), Perm.READ | Perm.WRITE);
    } else {
      created = ctx.topics.autoCreateFromTemplate(h.topic, h.defaultTopic, h.defaultTopicQueueNums);
    }
    if (!created) {
      fail(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please! (client ${req.language} v${req.version})`);
    }
    const tc = await created;
    ctx.log(`topic ${h.topic} created on send: ${JSON.stringify(tc)}`);
    ctx.registerSoon();
    return tc;
  }
}
