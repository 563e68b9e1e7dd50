// Name server and broker calls used by mqadmin, bench and the tests: routes, cluster info, topic
// lists, KV; topic and group admin, stats, connections, broker config, message lookups, and a
// minimal producer (SEND_MESSAGE_V2) and pull consumer (PULL_MESSAGE).
import { decodeBrokerConfigBody } from '../protocol/body/BrokerConfigBody.js';
import { decodeConsumeStats, type ConsumeStats } from '../protocol/body/ConsumeStats.js';
import { decodeConsumerConnection, type ConsumerConnection } from '../protocol/body/ConsumerConnection.js';
import { decodeKVTable, type KVTable } from '../protocol/body/KVTable.js';
import { encodeSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../protocol/body/SubscriptionGroupConfig.js';
import type { TopicConfig } from '../protocol/body/TopicConfig.js';
import { decodeTopicConfigWrapper, type TopicConfigWrapper } from '../protocol/body/TopicConfigWrapper.js';
import { decodeTopicStatsTable, type TopicStatsTable } from '../protocol/body/TopicStatsTable.js';
import { MessageQueueMap, type MessageQueue } from '../protocol/body/MessageQueue.js';
import * as B from '../protocol/header/broker.js';
import { decodeStoredMessage, decodeStoredMessages, type StoredMessage } from '../protocol/message/recordDecoder.js';
import { clusterInfoFromJson, topicRouteDataFromJson, type BrokerData, type ClusterInfo, type TopicRouteData } from '../protocol/body/route.js';
import * as H from '../protocol/header/namesrv.js';
import { parseLenientJson } from '../protocol/json/lenientJson.js';
import { RemotingError } from '../protocol/remoting/errors.js';
import { createRequest, type ExtFields, type RemotingCommand } from '../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../protocol/remoting/RequestCode.js';
import { ResponseCode, responseCodeName } from '../protocol/remoting/ResponseCode.js';
import { RemotingClient } from './RemotingClient.js';

export class AdminApi {
  private readonly client: RemotingClient;
  private readonly namesrvAddrs: string[];
  private next = 0;

  constructor(
    namesrvAddr: string,
    private readonly timeoutMs = 3000,
    client?: RemotingClient,
  ) {
    this.namesrvAddrs = namesrvAddr
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (this.namesrvAddrs.length === 0) throw new Error('no name server address given');
    this.client = client ?? new RemotingClient();
  }

  close(): void {
    this.client.close();
  }

  /** Ask the name servers in turn until one answers. */
  async invokeNamesrv(code: number, extFields?: ExtFields, body?: Buffer): Promise<RemotingCommand> {
    let lastError: unknown;
    for (let i = 0; i < this.namesrvAddrs.length; i++) {
      const addr = this.namesrvAddrs[(this.next + i) % this.namesrvAddrs.length] as string;
      try {
        return await this.client.invoke(addr, createRequest({ code, extFields, body }), this.timeoutMs);
      } catch (e) {
        lastError = e;
      }
    }
    this.next = (this.next + 1) % this.namesrvAddrs.length;
    throw lastError;
  }

  invokeBroker(addr: string, code: number, extFields?: ExtFields, body?: Buffer, timeoutMs = this.timeoutMs): Promise<RemotingCommand> {
    return this.client.invoke(addr, createRequest({ code, extFields, body }), timeoutMs);
  }

  async getTopicRoute(topic: string): Promise<TopicRouteData> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_ROUTEINFO_BY_TOPIC, H.GetRouteInfoRequestHeader.encode({ topic })));
    return topicRouteDataFromJson(jsonBody(res));
  }

  async getClusterInfo(): Promise<ClusterInfo> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_BROKER_CLUSTER_INFO));
    return clusterInfoFromJson(jsonBody(res));
  }

  async getAllTopicList(): Promise<string[]> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    return topicListOf(jsonBody(res));
  }

  async getTopicsByCluster(cluster: string): Promise<string[]> {
    const res = expectOk(await this.invokeNamesrv(RequestCode.GET_TOPICS_BY_CLUSTER, H.GetTopicsByClusterRequestHeader.encode({ cluster })));
    return topicListOf(jsonBody(res));
  }

  /** undefined when the name server has no such item (QUERY_NOT_FOUND). */
  async getKvConfig(namespace: string, key: string): Promise<string | undefined> {
    const res = await this.invokeNamesrv(RequestCode.GET_KV_CONFIG, H.GetKVConfigRequestHeader.encode({ namespace, key }));
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    return H.GetKVConfigResponseHeader.decode(expectOk(res).extFields).value;
  }

  /** Written to every name server, as the Java admin does. */
  async putKvConfig(namespace: string, key: string, value: string): Promise<void> {
    for (const addr of this.namesrvAddrs) {
      const req = createRequest({ code: RequestCode.PUT_KV_CONFIG, extFields: H.PutKVConfigRequestHeader.encode({ namespace, key, value }) });
      expectOk(await this.client.invoke(addr, req, this.timeoutMs));
    }
  }

  async deleteKvConfig(namespace: string, key: string): Promise<void> {
    for (const addr of this.namesrvAddrs) {
      const req = createRequest({ code: RequestCode.DELETE_KV_CONFIG, extFields: H.DeleteKVConfigRequestHeader.encode({ namespace, key }) });
      expectOk(await this.client.invoke(addr, req, this.timeoutMs));
    }
  }

  // ---- what DefaultMQAdminExt does over several brokers -----------------------------------

  /** Topic stats from every broker of the topic's route (master, else any address), merged. */
  async examineTopicStats(topic: string): Promise<TopicStatsTable> {
    const route = await this.getTopicRoute(topic);
    const merged: TopicStatsTable = { offsetTable: new MessageQueueMap() };
    for (const b of route.brokerDatas) {
      const addr = selectBrokerAddr(b);
      if (addr) merged.offsetTable.putAll((await this.getTopicStatsInfo(addr, topic)).offsetTable);
    }
    if (merged.offsetTable.size === 0) throw new Error('Not found the topic stats info');
    return merged;
  }

  /** Consume stats of a group from every broker that holds its retry topic, merged. */
  async examineConsumeStats(consumerGroup: string, topic?: string): Promise<ConsumeStats> {
    const route = await this.getTopicRoute(`%RETRY%${consumerGroup}`);
    const merged: ConsumeStats = { offsetTable: new MessageQueueMap(), consumeTps: 0 };
    for (const b of route.brokerDatas) {
      const addr = selectBrokerAddr(b);
      if (!addr) continue;
      const stats = await this.getConsumeStats(addr, consumerGroup, topic);
      merged.offsetTable.putAll(stats.offsetTable);
      merged.consumeTps += stats.consumeTps;
    }
    if (merged.offsetTable.size === 0) {
      throw new RemotingError(
        ResponseCode.CONSUMER_NOT_ONLINE,
        'Not found the consumer group consume stats, because return offset table is empty, maybe the consumer not consume any message',
      );
    }
    return merged;
  }

  /** The group's connections, asked of one broker of its retry topic (or of `brokerAddr`). */
  async examineConsumerConnection(consumerGroup: string, brokerAddr?: string): Promise<ConsumerConnection> {
    let addr = brokerAddr;
    if (!addr) {
      const route = await this.getTopicRoute(`%RETRY%${consumerGroup}`);
      const b = route.brokerDatas[0];
      addr = b ? selectBrokerAddr(b) : undefined;
    }
    const cc = addr ? await this.getConsumerConnectionList(addr, consumerGroup) : undefined;
    if (!cc || cc.connectionSet.length === 0) throw new RemotingError(ResponseCode.CONSUMER_NOT_ONLINE, 'Not found the consumer group connection');
    return cc;
  }

  // ---- broker admin calls -------------------------------------------------------------

  /** UPDATE_AND_CREATE_TOPIC to one broker. */
  async createTopic(addr: string, cfg: TopicConfig): Promise<void> {
    const ext = B.CreateTopicRequestHeader.encode({
      topic: cfg.topicName,
      defaultTopic: 'TBW102',
      readQueueNums: cfg.readQueueNums,
      writeQueueNums: cfg.writeQueueNums,
      perm: cfg.perm,
      topicFilterType: cfg.topicFilterType,
      topicSysFlag: cfg.topicSysFlag,
      order: cfg.order,
    });
    expectOk(await this.invokeBroker(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, ext));
  }

  async deleteTopicInBroker(addr: string, topic: string): Promise<void> {
    expectOk(await this.invokeBroker(addr, RequestCode.DELETE_TOPIC_IN_BROKER, B.DeleteTopicRequestHeader.encode({ topic })));
  }

  /** DELETE_TOPIC_IN_NAMESRV to every name server, as the Java admin does. */
  async deleteTopicInNamesrv(topic: string, clusterName?: string): Promise<void> {
    for (const addr of this.namesrvAddrs) {
      const req = createRequest({ code: RequestCode.DELETE_TOPIC_IN_NAMESRV, extFields: H.DeleteTopicFromNamesrvRequestHeader.encode({ topic, clusterName }) });
      expectOk(await this.client.invoke(addr, req, this.timeoutMs));
    }
  }

  async getAllTopicConfig(addr: string): Promise<TopicConfigWrapper> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_ALL_TOPIC_CONFIG));
    return decodeTopicConfigWrapper(res.body ?? Buffer.alloc(0));
  }

  async createSubscriptionGroup(addr: string, cfg: SubscriptionGroupConfig): Promise<void> {
    expectOk(await this.invokeBroker(addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, encodeSubscriptionGroupConfig(cfg)));
  }

  async getBrokerRuntimeInfo(addr: string): Promise<KVTable> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_BROKER_RUNTIME_INFO));
    return decodeKVTable(res.body ?? Buffer.alloc(0));
  }

  async getTopicStatsInfo(addr: string, topic: string): Promise<TopicStatsTable> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_TOPIC_STATS_INFO, B.GetTopicStatsInfoRequestHeader.encode({ topic })));
    return decodeTopicStatsTable(res.body ?? Buffer.alloc(0));
  }

  async getConsumeStats(addr: string, consumerGroup: string, topic?: string): Promise<ConsumeStats> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_CONSUME_STATS, B.GetConsumeStatsRequestHeader.encode({ consumerGroup, topic })));
    return decodeConsumeStats(res.body ?? Buffer.alloc(0));
  }

  /** Throws a RemotingError with code 206 CONSUMER_NOT_ONLINE when the group has no connection there. */
  async getConsumerConnectionList(addr: string, consumerGroup: string): Promise<ConsumerConnection> {
    const res = expectOk(
      await this.invokeBroker(addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, B.GetConsumerConnectionListRequestHeader.encode({ consumerGroup })),
    );
    return decodeConsumerConnection(res.body ?? Buffer.alloc(0));
  }

  /** The broker's properties, in the order the broker wrote them. */
  async getBrokerConfig(addr: string): Promise<Map<string, string>> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_BROKER_CONFIG));
    return decodeBrokerConfigBody(res.body);
  }

  async queryTopicConsumeByWho(addr: string, topic: string): Promise<string[]> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, B.QueryTopicConsumeByWhoRequestHeader.encode({ topic })));
    const list = (jsonBody(res) as { groupList?: unknown }).groupList;
    return Array.isArray(list) ? list.map(String) : [];
  }

  /** VIEW_MESSAGE_BY_ID: the record at a commit-log offset. */
  async viewMessage(addr: string, commitLogOffset: number): Promise<StoredMessage> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.VIEW_MESSAGE_BY_ID, B.ViewMessageRequestHeader.encode({ offset: commitLogOffset })));
    if (!res.body || res.body.length === 0) throw new Error(`broker ${addr} answered VIEW_MESSAGE_BY_ID without a message`);
    return decodeStoredMessage(res.body, 0, { inflate: true });
  }

  /** QUERY_MESSAGE by key (or by UNIQ_KEY); no match is an empty list. */
  async queryMessage(
    addr: string,
    q: { topic: string; key: string; maxNum: number; beginTimestamp: number; endTimestamp: number; uniqueKey?: boolean },
  ): Promise<StoredMessage[]> {
    const ext = B.QueryMessageRequestHeader.encode({
      topic: q.topic,
      key: q.key,
      maxNum: q.maxNum,
      beginTimestamp: q.beginTimestamp,
      endTimestamp: q.endTimestamp,
      _UNIQUE_KEY_QUERY: q.uniqueKey ? true : undefined,
    });
    const res = await this.invokeBroker(addr, RequestCode.QUERY_MESSAGE, ext);
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return [];
    expectOk(res);
    return res.body && res.body.length > 0 ? decodeStoredMessages(res.body, { inflate: true }) : [];
  }

  async getMinOffset(addr: string, mq: MessageQueue): Promise<number> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_MIN_OFFSET, B.GetMinOffsetRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId })));
    return B.OffsetResponseHeader.decode(res.extFields).offset;
  }

  async getMaxOffset(addr: string, mq: MessageQueue): Promise<number> {
    const res = expectOk(await this.invokeBroker(addr, RequestCode.GET_MAX_OFFSET, B.GetMaxOffsetRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId })));
    return B.OffsetResponseHeader.decode(res.extFields).offset;
  }

  async searchOffset(addr: string, mq: MessageQueue, timestamp: number): Promise<number> {
    const ext = B.SearchOffsetRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId, timestamp });
    const res = expectOk(await this.invokeBroker(addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext));
    return B.OffsetResponseHeader.decode(res.extFields).offset;
  }

  /** SEND_MESSAGE_V2 of one message; properties as the stored text ("k\u0001v\u0002..."). */
  async sendMessage(addr: string, m: SendRequest): Promise<SendResponse> {
    const ext = B.SendMessageRequestHeaderV2.encode(
      B.sendHeaderToV2({
        producerGroup: m.producerGroup,
        topic: m.topic,
        defaultTopic: 'TBW102',
        defaultTopicQueueNums: 4,
        queueId: m.queueId,
        sysFlag: m.sysFlag ?? 0,
        bornTimestamp: m.bornTimestamp,
        flag: m.flag ?? 0,
        properties: m.properties,
        reconsumeTimes: 0,
        unitMode: false,
        batch: false,
        bname: m.brokerName,
      }),
    );
    const res = await this.invokeBroker(addr, RequestCode.SEND_MESSAGE_V2, ext, m.body);
    const sendStatus = SEND_STATUS_BY_CODE.get(res.code);
    if (!sendStatus) expectOk(res);
    const h = B.SendMessageResponseHeader.decode(res.extFields);
    return { sendStatus: sendStatus ?? 'SEND_OK', offsetMsgId: h.msgId, queueId: h.queueId, queueOffset: h.queueOffset };
  }

  /** One PULL_MESSAGE without suspending; the status names are the Java client's PullStatus. */
  async pullMessage(addr: string, p: PullRequest): Promise<PullResponse> {
    const ext = B.PullMessageRequestHeader.encode({
      consumerGroup: p.consumerGroup,
      topic: p.mq.topic,
      queueId: p.mq.queueId,
      queueOffset: p.offset,
      maxMsgNums: p.maxNums,
      sysFlag: 4, // FLAG_SUBSCRIPTION only: DefaultMQPullConsumer.pull neither suspends nor commits
      commitOffset: 0,
      suspendTimeoutMillis: 0,
      subscription: p.subscription ?? '*',
      subVersion: 0,
      expressionType: 'TAG',
      bname: p.mq.brokerName,
    });
    const res = await this.invokeBroker(addr, RequestCode.PULL_MESSAGE, ext);
    const status = pullStatusOf(res.code);
    if (!status) expectOk(res);
    const h = B.PullMessageResponseHeader.decode(res.extFields);
    const messages = status === 'FOUND' && res.body && res.body.length > 0 ? decodeStoredMessages(res.body, { inflate: true }) : [];
    return { status: status ?? 'FOUND', nextBeginOffset: h.nextBeginOffset, minOffset: h.minOffset, maxOffset: h.maxOffset, messages };
  }
}

export interface SendRequest {
  producerGroup: string;
  topic: string;
  queueId: number;
  body: Buffer;
  /** the properties text, already serialized */
  properties: string;
  bornTimestamp: number;
  sysFlag?: number;
  flag?: number;
  brokerName?: string;
}

/** The Java client's SendStatus by response code. */
const SEND_STATUS_BY_CODE = new Map<number, SendStatus>([
  [0, 'SEND_OK'],
  [10, 'FLUSH_DISK_TIMEOUT'],
  [11, 'SLAVE_NOT_AVAILABLE'],
  [12, 'FLUSH_SLAVE_TIMEOUT'],
]);

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResponse {
  sendStatus: SendStatus;
  /** the broker's msgId header: the offset message id */
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
}

export interface PullRequest {
  consumerGroup: string;
  mq: MessageQueue;
  offset: number;
  maxNums: number;
  subscription?: string;
}

export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

export interface PullResponse {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  messages: StoredMessage[];
}

function pullStatusOf(code: number): PullStatus | undefined {
  switch (code) {
    case ResponseCode.SUCCESS:
      return 'FOUND';
    case ResponseCode.PULL_NOT_FOUND:
      return 'NO_NEW_MSG';
    case ResponseCode.PULL_RETRY_IMMEDIATELY:
      return 'NO_MATCHED_MSG';
    case ResponseCode.PULL_OFFSET_MOVED:
      return 'OFFSET_ILLEGAL';
    default:
      return undefined;
  }
}

/** BrokerData.selectBrokerAddr: the master, else the first address. */
export function selectBrokerAddr(b: BrokerData): string | undefined {
  return b.brokerAddrs.get(0) ?? [...b.brokerAddrs.entries()].sort((x, y) => x[0] - y[0])[0]?.[1];
}

export function expectOk(res: RemotingCommand): RemotingCommand {
  if (res.code !== ResponseCode.SUCCESS) {
    throw new RemotingError(res.code, `CODE: ${res.code} (${responseCodeName(res.code)}) DESC: ${res.remark ?? ''}`);
  }
  return res;
}

export function jsonBody(res: RemotingCommand): unknown {
  if (!res.body || res.body.length === 0) return {};
  return parseLenientJson(res.body.toString('utf8'));
}

function topicListOf(doc: unknown): string[] {
  const list = (doc as { topicList?: unknown }).topicList;
  return Array.isArray(list) ? list.map(String) : [];
}
