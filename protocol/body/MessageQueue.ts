// MessageQueue {topic, brokerName, queueId}: the key of the offset tables in admin bodies and
// the element of lock sets. fastjson writes it with sorted keys; Java sorts it by topic, then
// broker name, then queue id (MessageQueue.compareTo).
import { asObject, fastJsonBody, numberField, parseBody, stringField } from './fastjson.js';

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** A stable, unambiguous string key for maps and sets. */
export function messageQueueKey(mq: MessageQueue): string {
  return JSON.stringify([mq.topic, mq.brokerName, mq.queueId]);
}

export function compareMessageQueues(a: MessageQueue, b: MessageQueue): number {
  // Java's String.compareTo compares UTF-16 code units, as JS's < does.
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/** The JSON shape fastjson writes (keys sorted when rendered). */
export function messageQueueToJson(mq: MessageQueue): { brokerName: string; queueId: number; topic: string } {
  return { brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic };
}

export function messageQueueFromJson(v: unknown): MessageQueue {
  const o = asObject(v);
  return { topic: stringField(o.topic), brokerName: stringField(o.brokerName), queueId: numberField(o.queueId) };
}

/** A key read back from an object-keyed map: the lenient reader turns the key object into its canonical text. */
export function messageQueueFromKeyText(text: string): MessageQueue {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = {};
  }
  return messageQueueFromJson(doc);
}

export function encodeMessageQueue(mq: MessageQueue): Buffer {
  return fastJsonBody(messageQueueToJson(mq));
}

export function decodeMessageQueue(body: Buffer): MessageQueue {
  return messageQueueFromJson(parseBody(body, 'MessageQueue'));
}

/** A map keyed by message queue (Java's HashMap<MessageQueue, V>), in insertion order. */
export class MessageQueueMap<V> implements Iterable<[MessageQueue, V]> {
  private readonly entriesByKey = new Map<string, [MessageQueue, V]>();

  constructor(entries?: Iterable<readonly [MessageQueue, V]>) {
    if (entries) for (const [mq, v] of entries) this.set(mq, v);
  }

  get size(): number {
    return this.entriesByKey.size;
  }

  set(mq: MessageQueue, value: V): this {
    const own: MessageQueue = { topic: mq.topic, brokerName: mq.brokerName, queueId: mq.queueId };
    this.entriesByKey.set(messageQueueKey(mq), [own, value]);
    return this;
  }

  get(mq: MessageQueue): V | undefined {
    return this.entriesByKey.get(messageQueueKey(mq))?.[1];
  }

  has(mq: MessageQueue): boolean {
    return this.entriesByKey.has(messageQueueKey(mq));
  }

  delete(mq: MessageQueue): boolean {
    return this.entriesByKey.delete(messageQueueKey(mq));
  }

  /** Adds every entry of another map (Java's putAll). */
  putAll(other: MessageQueueMap<V>): this {
    for (const [mq, v] of other) this.set(mq, v);
    return this;
  }

  keys(): MessageQueue[] {
    return [...this.entriesByKey.values()].map(([mq]) => mq);
  }

  /** Entries ordered as Java's Collections.sort(mqList) orders the keys. */
  sorted(): Array<[MessageQueue, V]> {
    return [...this.entriesByKey.values()].sort((a, b) => compareMessageQueues(a[0], b[0]));
  }

  [Symbol.iterator](): Iterator<[MessageQueue, V]> {
    return this.entriesByKey.values();
  }
}
