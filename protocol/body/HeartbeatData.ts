// HeartbeatData: the HEART_BEAT (34) body (spec §4.5). Decoding accepts what the Java client
// writes (every field present, sorted) and what ali-ons writes (expressionType often absent,
// JSON.stringify order); absent fields take the Java class defaults.
import { asArray, asObject, booleanField, enumField, fastJsonBody, numberField, parseBody, stringField } from './fastjson.js';

export const CONSUME_TYPES = ['CONSUME_ACTIVELY', 'CONSUME_PASSIVELY', 'CONSUME_POP'] as const;
export type ConsumeType = (typeof CONSUME_TYPES)[number];

export const MESSAGE_MODELS = ['BROADCASTING', 'CLUSTERING'] as const;
export type MessageModel = (typeof MESSAGE_MODELS)[number];

export const CONSUME_FROM_WHERES = [
  'CONSUME_FROM_LAST_OFFSET',
  'CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST',
  'CONSUME_FROM_MIN_OFFSET',
  'CONSUME_FROM_MAX_OFFSET',
  'CONSUME_FROM_FIRST_OFFSET',
  'CONSUME_FROM_TIMESTAMP',
] as const;
export type ConsumeFromWhere = (typeof CONSUME_FROM_WHERES)[number];

/** SubscriptionData.SUB_ALL */
export const SUB_ALL = '*';

export interface SubscriptionData {
  classFilterMode: boolean;
  topic: string;
  /** the expression: "*", "TagA || TagB", or SQL92 text */
  subString: string;
  tagsSet: string[];
  /** Java String.hashCode of each tag */
  codeSet: number[];
  subVersion: number;
  /** "TAG" or "SQL92" */
  expressionType: string;
}

export interface ProducerData {
  groupName: string;
}

export interface ConsumerData {
  groupName: string;
  consumeType: ConsumeType;
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

export interface HeartbeatData {
  clientID: string;
  producerDataSet: ProducerData[];
  consumerDataSet: ConsumerData[];
  /** 5.x heartbeat V2 only */
  heartbeatFingerprint?: number;
  withoutSub?: boolean;
}

export function subscriptionDataFromJson(v: unknown): SubscriptionData {
  const o = asObject(v);
  return {
    classFilterMode: booleanField(o.classFilterMode),
    topic: stringField(o.topic),
    subString: stringField(o.subString, SUB_ALL),
    tagsSet: asArray(o.tagsSet).map((t) => stringField(t)),
    codeSet: asArray(o.codeSet).map((c) => numberField(c)),
    subVersion: numberField(o.subVersion),
    expressionType: stringField(o.expressionType, 'TAG') || 'TAG',
  };
}

/** The JSON shape fastjson writes for a SubscriptionData. */
export function subscriptionDataToJson(s: SubscriptionData): Record<string, unknown> {
  return {
    classFilterMode: s.classFilterMode,
    codeSet: s.codeSet,
    expressionType: s.expressionType,
    subString: s.subString,
    subVersion: s.subVersion,
    tagsSet: s.tagsSet,
    topic: s.topic,
  };
}

export function consumerDataFromJson(v: unknown): ConsumerData {
  const o = asObject(v);
  return {
    groupName: stringField(o.groupName),
    consumeType: enumField(o.consumeType, CONSUME_TYPES, 'CONSUME_PASSIVELY'),
    messageModel: enumField(o.messageModel, MESSAGE_MODELS, 'CLUSTERING'),
    consumeFromWhere: enumField(o.consumeFromWhere, CONSUME_FROM_WHERES, 'CONSUME_FROM_LAST_OFFSET'),
    subscriptionDataSet: asArray(o.subscriptionDataSet).map(subscriptionDataFromJson),
    unitMode: booleanField(o.unitMode),
  };
}

export function encodeHeartbeatData(v: HeartbeatData): Buffer {
  return fastJsonBody({
    clientID: v.clientID,
    consumerDataSet: v.consumerDataSet.map((c) => ({
      consumeFromWhere: c.consumeFromWhere,
      consumeType: c.consumeType,
      groupName: c.groupName,
      messageModel: c.messageModel,
      subscriptionDataSet: c.subscriptionDataSet.map(subscriptionDataToJson),
      unitMode: c.unitMode,
    })),
    heartbeatFingerprint: v.heartbeatFingerprint,
    producerDataSet: v.producerDataSet.map((p) => ({ groupName: p.groupName })),
    withoutSub: v.withoutSub,
  });
}

export function decodeHeartbeatData(body: Buffer): HeartbeatData {
  const o = parseBody(body, 'HeartbeatData');
  const hb: HeartbeatData = {
    clientID: stringField(o.clientID),
    producerDataSet: asArray(o.producerDataSet).map((p) => ({ groupName: stringField(asObject(p).groupName) })),
    consumerDataSet: asArray(o.consumerDataSet).map(consumerDataFromJson),
  };
  if (o.heartbeatFingerprint !== undefined) hb.heartbeatFingerprint = numberField(o.heartbeatFingerprint);
  if (o.withoutSub !== undefined) hb.withoutSub = booleanField(o.withoutSub);
  return hb;
}
