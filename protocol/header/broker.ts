// Custom headers of the requests a broker serves and sends (spec §4.1-4.11).
import { bool, defineHeader, int, long, str } from './schema.js';

/** SEND_MESSAGE (10) uses these long names; SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE use a..n (below). */
export const SendMessageRequestHeader = defineHeader('SendMessageRequestHeader', {
  producerGroup: str.R,
  topic: str.R,
  defaultTopic: str.R,
  defaultTopicQueueNums: int.R,
  queueId: int.R,
  sysFlag: int.R,
  bornTimestamp: long.R,
  flag: int.R,
  properties: str.o,
  reconsumeTimes: int.o,
  unitMode: bool.o,
  batch: bool.o,
  maxReconsumeTimes: int.o,
  bname: str.o,
});

export const SendMessageRequestHeaderV2 = defineHeader('SendMessageRequestHeaderV2', {
  a: str.R,
  b: str.R,
  c: str.R,
  d: int.R,
  e: int.R,
  f: int.R,
  g: long.R,
  h: int.R,
  i: str.o,
  j: int.o,
  k: bool.o,
  l: int.o,
  m: bool.o,
  n: str.o,
});

export type SendMessageHeader = ReturnType<typeof SendMessageRequestHeader.decode>;

/** The V2 short names mapped to the V1 long names. */
export function sendHeaderFromV2(v2: ReturnType<typeof SendMessageRequestHeaderV2.decode>): SendMessageHeader {
  return {
    producerGroup: v2.a,
    topic: v2.b,
    defaultTopic: v2.c,
    defaultTopicQueueNums: v2.d,
    queueId: v2.e,
    sysFlag: v2.f,
    bornTimestamp: v2.g,
    flag: v2.h,
    properties: v2.i,
    reconsumeTimes: v2.j,
    unitMode: v2.k,
    maxReconsumeTimes: v2.l,
    batch: v2.m,
    bname: v2.n,
  };
}

export function sendHeaderToV2(h: SendMessageHeader): ReturnType<typeof SendMessageRequestHeaderV2.decode> {
  return {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic,
    d: h.defaultTopicQueueNums,
    e: h.queueId,
    f: h.sysFlag,
    g: h.bornTimestamp,
    h: h.flag,
    i: h.properties,
    j: h.reconsumeTimes,
    k: h.unitMode,
    l: h.maxReconsumeTimes,
    m: h.batch,
    n: h.bname,
  };
}

export const SendMessageResponseHeader = defineHeader('SendMessageResponseHeader', {
  msgId: str.R,
  queueId: int.R,
  queueOffset: long.R,
  transactionId: str.o,
  batchUniqId: str.o,
  MSG_REGION: str.o,
  TRACE_ON: str.o,
});

export const PullMessageRequestHeader = defineHeader('PullMessageRequestHeader', {
  consumerGroup: str.R,
  topic: str.R,
  queueId: int.R,
  queueOffset: long.R,
  maxMsgNums: int.R,
  sysFlag: int.R,
  commitOffset: long.R,
  suspendTimeoutMillis: long.R,
  subscription: str.o,
  subVersion: long.R,
  expressionType: str.o,
  maxMsgBytes: int.o,
  bname: str.o,
});

export const PullMessageResponseHeader = defineHeader('PullMessageResponseHeader', {
  suggestWhichBrokerId: long.R,
  nextBeginOffset: long.R,
  minOffset: long.R,
  maxOffset: long.R,
});

export const QueryConsumerOffsetRequestHeader = defineHeader('QueryConsumerOffsetRequestHeader', {
  consumerGroup: str.R,
  topic: str.R,
  queueId: int.R,
  setZeroIfNotFound: bool.o,
  bname: str.o,
});

export const QueryConsumerOffsetResponseHeader = defineHeader('QueryConsumerOffsetResponseHeader', {
  offset: long.o,
});

export const UpdateConsumerOffsetRequestHeader = defineHeader('UpdateConsumerOffsetRequestHeader', {
  consumerGroup: str.R,
  topic: str.R,
  queueId: int.R,
  commitOffset: long.R,
  bname: str.o,
});

export const GetMaxOffsetRequestHeader = defineHeader('GetMaxOffsetRequestHeader', {
  topic: str.R,
  queueId: int.R,
  committed: bool.o,
  bname: str.o,
});

export const GetMinOffsetRequestHeader = defineHeader('GetMinOffsetRequestHeader', {
  topic: str.R,
  queueId: int.R,
  bname: str.o,
});

/** Response of GET_MAX_OFFSET, GET_MIN_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP. */
export const OffsetResponseHeader = defineHeader('OffsetResponseHeader', {
  offset: long.R,
});

export const SearchOffsetRequestHeader = defineHeader('SearchOffsetRequestHeader', {
  topic: str.R,
  queueId: int.R,
  timestamp: long.R,
  boundaryType: str.o,
  bname: str.o,
});

export const GetEarliestMsgStoretimeRequestHeader = defineHeader('GetEarliestMsgStoretimeRequestHeader', {
  topic: str.R,
  queueId: int.R,
  bname: str.o,
});

export const GetEarliestMsgStoretimeResponseHeader = defineHeader('GetEarliestMsgStoretimeResponseHeader', {
  timestamp: long.R,
});

export const ViewMessageRequestHeader = defineHeader('ViewMessageRequestHeader', {
  offset: long.R,
  topic: str.o,
});

export const QueryMessageRequestHeader = defineHeader('QueryMessageRequestHeader', {
  topic: str.R,
  key: str.R,
  maxNum: int.R,
  beginTimestamp: long.R,
  endTimestamp: long.R,
  _UNIQUE_KEY_QUERY: bool.o,
});

export const QueryMessageResponseHeader = defineHeader('QueryMessageResponseHeader', {
  indexLastUpdateTimestamp: long.R,
  indexLastUpdatePhyoffset: long.R,
});

export const UnregisterClientRequestHeader = defineHeader('UnregisterClientRequestHeader', {
  clientID: str.R,
  producerGroup: str.o,
  consumerGroup: str.o,
});

export const ConsumerSendMsgBackRequestHeader = defineHeader('ConsumerSendMsgBackRequestHeader', {
  offset: long.R,
  group: str.R,
  delayLevel: int.R,
  originMsgId: str.o,
  originTopic: str.o,
  unitMode: bool.o,
  maxReconsumeTimes: int.o,
  bname: str.o,
});

export const EndTransactionRequestHeader = defineHeader('EndTransactionRequestHeader', {
  topic: str.o,
  producerGroup: str.R,
  tranStateTableOffset: long.R,
  commitLogOffset: long.R,
  commitOrRollback: int.R,
  fromTransactionCheck: bool.o,
  msgId: str.R,
  transactionId: str.o,
});

export const CheckTransactionStateRequestHeader = defineHeader('CheckTransactionStateRequestHeader', {
  topic: str.o,
  tranStateTableOffset: long.R,
  commitLogOffset: long.R,
  msgId: str.o,
  transactionId: str.o,
  offsetMsgId: str.o,
  bname: str.o,
});

export const GetConsumerListByGroupRequestHeader = defineHeader('GetConsumerListByGroupRequestHeader', {
  consumerGroup: str.R,
});

export const NotifyConsumerIdsChangedRequestHeader = defineHeader('NotifyConsumerIdsChangedRequestHeader', {
  consumerGroup: str.R,
});

export const CreateTopicRequestHeader = defineHeader('CreateTopicRequestHeader', {
  topic: str.R,
  defaultTopic: str.R,
  readQueueNums: int.R,
  writeQueueNums: int.R,
  perm: int.R,
  topicFilterType: str.R,
  topicSysFlag: int.o,
  order: bool.R,
  attributes: str.o,
  force: bool.o,
});

export const DeleteTopicRequestHeader = defineHeader('DeleteTopicRequestHeader', {
  topic: str.R,
});

export const GetTopicStatsInfoRequestHeader = defineHeader('GetTopicStatsInfoRequestHeader', {
  topic: str.R,
});

export const GetConsumeStatsRequestHeader = defineHeader('GetConsumeStatsRequestHeader', {
  consumerGroup: str.R,
  topic: str.o,
});

export const GetConsumerConnectionListRequestHeader = defineHeader('GetConsumerConnectionListRequestHeader', {
  consumerGroup: str.R,
});

export const GetProducerConnectionListRequestHeader = defineHeader('GetProducerConnectionListRequestHeader', {
  producerGroup: str.R,
});

export const DeleteSubscriptionGroupRequestHeader = defineHeader('DeleteSubscriptionGroupRequestHeader', {
  groupName: str.R,
  cleanOffset: bool.o,
});

export const QueryTopicConsumeByWhoRequestHeader = defineHeader('QueryTopicConsumeByWhoRequestHeader', {
  topic: str.R,
});

export const GetConsumerRunningInfoRequestHeader = defineHeader('GetConsumerRunningInfoRequestHeader', {
  consumerGroup: str.R,
  clientId: str.R,
  jstackEnable: bool.o,
});

export const ResetOffsetRequestHeader = defineHeader('ResetOffsetRequestHeader', {
  topic: str.R,
  group: str.R,
  timestamp: long.R,
  isForce: bool.R,
});

export const GetAllTopicConfigRequestHeader = defineHeader('GetAllTopicConfigRequestHeader', {
  topicSeq: int.o,
  dataVersion: str.o,
});
