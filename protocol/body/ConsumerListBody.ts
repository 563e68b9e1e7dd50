// GetConsumerListByGroupResponseBody: the GET_CONSUMER_LIST_BY_GROUP (38) answer (spec §4.5).
import { asArray, fastJsonBody, parseBody, stringField } from './fastjson.js';

export interface GetConsumerListByGroupResponseBody {
  consumerIdList: string[];
}

export type ConsumerListBody = GetConsumerListByGroupResponseBody;

export function encodeConsumerListBody(v: ConsumerListBody): Buffer {
  return fastJsonBody({ consumerIdList: v.consumerIdList });
}

export function decodeConsumerListBody(body: Buffer): ConsumerListBody {
  return { consumerIdList: asArray(parseBody(body, 'GetConsumerListByGroupResponseBody').consumerIdList).map((s) => stringField(s)) };
}

export const encodeGetConsumerListByGroupResponseBody = encodeConsumerListBody;
export const decodeGetConsumerListByGroupResponseBody = decodeConsumerListBody;
