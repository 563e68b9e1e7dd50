// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42) bodies (spec §4.8): the request names a group, a
// client and a set of queues; the lock answer lists the queues now held by that client.
import { asArray, booleanField, fastJsonBody, parseBody, stringField } from './fastjson.js';
import { messageQueueFromJson, messageQueueToJson, type MessageQueue } from './MessageQueue.js';

export interface LockBatchRequestBody {
  consumerGroup: string;
  clientId: string;
  /** 5.x only */
  onlyThisBroker?: boolean;
  mqSet: MessageQueue[];
}

export type UnlockBatchRequestBody = LockBatchRequestBody;

export interface LockBatchResponseBody {
  lockOKMQSet: MessageQueue[];
}

function encodeRequest(v: LockBatchRequestBody): Buffer {
  return fastJsonBody({
    clientId: v.clientId,
    consumerGroup: v.consumerGroup,
    mqSet: v.mqSet.map(messageQueueToJson),
    onlyThisBroker: v.onlyThisBroker,
  });
}

function decodeRequest(body: Buffer, what: string): LockBatchRequestBody {
  const o = parseBody(body, what);
  const v: LockBatchRequestBody = {
    consumerGroup: stringField(o.consumerGroup),
    clientId: stringField(o.clientId),
    mqSet: asArray(o.mqSet).map(messageQueueFromJson),
  };
  if (o.onlyThisBroker !== undefined) v.onlyThisBroker = booleanField(o.onlyThisBroker);
  return v;
}

export function encodeLockBatchRequestBody(v: LockBatchRequestBody): Buffer {
  return encodeRequest(v);
}

export function decodeLockBatchRequestBody(body: Buffer): LockBatchRequestBody {
  return decodeRequest(body, 'LockBatchRequestBody');
}

export function encodeUnlockBatchRequestBody(v: UnlockBatchRequestBody): Buffer {
  return encodeRequest(v);
}

export function decodeUnlockBatchRequestBody(body: Buffer): UnlockBatchRequestBody {
  return decodeRequest(body, 'UnlockBatchRequestBody');
}

export function encodeLockBatchResponseBody(v: LockBatchResponseBody): Buffer {
  return fastJsonBody({ lockOKMQSet: v.lockOKMQSet.map(messageQueueToJson) });
}

export function decodeLockBatchResponseBody(body: Buffer): LockBatchResponseBody {
  return { lockOKMQSet: asArray(parseBody(body, 'LockBatchResponseBody').lockOKMQSet).map(messageQueueFromJson) };
}
