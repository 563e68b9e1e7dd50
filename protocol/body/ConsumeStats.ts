// ConsumeStats: the GET_CONSUME_STATS (208) answer. offsetTable is keyed by MessageQueue
// objects (fastjson object keys), consumeTps is a Java double.
import { asObject, fastJsonBody, javaDouble, numberField, objectKeyedMap, parseBody } from './fastjson.js';
import { MessageQueueMap, messageQueueFromKeyText, messageQueueToJson } from './MessageQueue.js';

export interface OffsetWrapper {
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
  /** 5.x only; a 4.9 broker does not write it. */
  pullOffset?: number;
}

export interface ConsumeStats {
  offsetTable: MessageQueueMap<OffsetWrapper>;
  consumeTps: number;
}

export function encodeConsumeStats(v: ConsumeStats): Buffer {
  const entries = [...v.offsetTable].map(([mq, o]) => [
    messageQueueToJson(mq),
    { brokerOffset: o.brokerOffset, consumerOffset: o.consumerOffset, lastTimestamp: o.lastTimestamp, pullOffset: o.pullOffset },
  ] as const);
  return fastJsonBody({ consumeTps: javaDouble(v.consumeTps), offsetTable: objectKeyedMap(entries) });
}

export function decodeConsumeStats(body: Buffer): ConsumeStats {
  const o = parseBody(body, 'ConsumeStats');
  const offsetTable = new MessageQueueMap<OffsetWrapper>();
  for (const [key, raw] of Object.entries(asObject(o.offsetTable))) {
    const w = asObject(raw);
    const wrapper: OffsetWrapper = {
      brokerOffset: numberField(w.brokerOffset),
      consumerOffset: numberField(w.consumerOffset),
      lastTimestamp: numberField(w.lastTimestamp),
    };
    if (w.pullOffset !== undefined) wrapper.pullOffset = numberField(w.pullOffset);
    offsetTable.set(messageQueueFromKeyText(key), wrapper);
  }
  return { offsetTable, consumeTps: numberField(o.consumeTps) };
}

/** ConsumeStats.computeTotalDiff: the sum of brokerOffset - consumerOffset. */
export function consumeStatsTotalDiff(v: ConsumeStats): number {
  let diff = 0;
  for (const [, o] of v.offsetTable) diff += o.brokerOffset - o.consumerOffset;
  return diff;
}
