// ConsumerConnection: the GET_CONSUMER_CONNECTION_LIST (203) answer (spec §4.11).
import { asArray, asObject, enumField, fastJsonBody, numberField, parseBody, stringField } from './fastjson.js';
import {
  CONSUME_FROM_WHERES,
  CONSUME_TYPES,
  MESSAGE_MODELS,
  subscriptionDataFromJson,
  subscriptionDataToJson,
  type ConsumeFromWhere,
  type ConsumeType,
  type MessageModel,
  type SubscriptionData,
} from './HeartbeatData.js';

export interface Connection {
  clientId: string;
  clientAddr: string;
  /** LanguageCode name, e.g. "JAVA" */
  language: string;
  /** MQVersion ordinal, e.g. 409 = V4_9_8 */
  version: number;
}

export interface ConsumerConnection {
  connectionSet: Connection[];
  /** topic -> subscription */
  subscriptionTable: Map<string, SubscriptionData>;
  consumeType?: ConsumeType | undefined;
  messageModel?: MessageModel | undefined;
  consumeFromWhere?: ConsumeFromWhere | undefined;
}

export function encodeConsumerConnection(v: ConsumerConnection): Buffer {
  const subs: Record<string, unknown> = {};
  for (const [topic, s] of v.subscriptionTable) subs[topic] = subscriptionDataToJson(s);
  return fastJsonBody({
    connectionSet: v.connectionSet.map((c) => ({ clientAddr: c.clientAddr, clientId: c.clientId, language: c.language, version: c.version })),
    consumeFromWhere: v.consumeFromWhere,
    consumeType: v.consumeType,
    messageModel: v.messageModel,
    subscriptionTable: subs,
  });
}

export function decodeConsumerConnection(body: Buffer): ConsumerConnection {
  const o = parseBody(body, 'ConsumerConnection');
  const subscriptionTable = new Map<string, SubscriptionData>();
  for (const [topic, s] of Object.entries(asObject(o.subscriptionTable))) subscriptionTable.set(topic, subscriptionDataFromJson(s));
  const cc: ConsumerConnection = {
    connectionSet: asArray(o.connectionSet).map((c) => {
      const x = asObject(c);
      return {
        clientId: stringField(x.clientId),
        clientAddr: stringField(x.clientAddr),
        language: stringField(x.language, 'JAVA'),
        version: numberField(x.version),
      };
    }),
    subscriptionTable,
  };
  if (typeof o.consumeType === 'string') cc.consumeType = enumField(o.consumeType, CONSUME_TYPES, 'CONSUME_PASSIVELY');
  if (typeof o.messageModel === 'string') cc.messageModel = enumField(o.messageModel, MESSAGE_MODELS, 'CLUSTERING');
  if (typeof o.consumeFromWhere === 'string') {
    cc.consumeFromWhere = enumField(o.consumeFromWhere, CONSUME_FROM_WHERES, 'CONSUME_FROM_LAST_OFFSET');
  }
  return cc;
}

/** ConsumerConnection.computeMinVersion: the oldest client version in the group. */
export function consumerConnectionMinVersion(v: ConsumerConnection): number {
  let min = Number.MAX_SAFE_INTEGER;
  for (const c of v.connectionSet) if (c.version < min) min = c.version;
  return min;
}
