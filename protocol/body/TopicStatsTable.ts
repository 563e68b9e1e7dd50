// TopicStatsTable: the GET_TOPIC_STATS_INFO (202) answer, offsetTable keyed by MessageQueue objects.
import { asObject, fastJsonBody, javaDouble, numberField, objectKeyedMap, parseBody } from './fastjson.js';
import { MessageQueueMap, messageQueueFromKeyText, messageQueueToJson } from './MessageQueue.js';

export interface TopicOffset {
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export interface TopicStatsTable {
  offsetTable: MessageQueueMap<TopicOffset>;
  /** 5.x only; a 4.9 broker does not write it. */
  topicPutTps?: number;
}

export function encodeTopicStatsTable(v: TopicStatsTable): Buffer {
  const entries = [...v.offsetTable].map(([mq, o]) => [
    messageQueueToJson(mq),
    { lastUpdateTimestamp: o.lastUpdateTimestamp, maxOffset: o.maxOffset, minOffset: o.minOffset },
  ] as const);
  return fastJsonBody({
    offsetTable: objectKeyedMap(entries),
    topicPutTps: v.topicPutTps === undefined ? undefined : javaDouble(v.topicPutTps),
  });
}

export function decodeTopicStatsTable(body: Buffer): TopicStatsTable {
  const o = parseBody(body, 'TopicStatsTable');
  const offsetTable = new MessageQueueMap<TopicOffset>();
  for (const [key, raw] of Object.entries(asObject(o.offsetTable))) {
    const w = asObject(raw);
    offsetTable.set(messageQueueFromKeyText(key), {
      minOffset: numberField(w.minOffset),
      maxOffset: numberField(w.maxOffset),
      lastUpdateTimestamp: numberField(w.lastUpdateTimestamp),
    });
  }
  const table: TopicStatsTable = { offsetTable };
  if (o.topicPutTps !== undefined) table.topicPutTps = numberField(o.topicPutTps);
  return table;
}
