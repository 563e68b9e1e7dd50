// What the index store applies: one record per effect of a committed log entry, in log
// order. Message records come from message entries (dispatchFromMessageRecord); the others
// from broker metadata entries, which the broker decodes itself.
import { readI16BE, readI32BE, readI64BE, readU32BE } from '../../protocol/bytes.js';
import {
  BORN_HOST_POS,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  MessageSysFlag,
  TransactionType,
  javaStringHash,
} from '../../protocol/message/index.js';
import { IndexStoreError } from './IndexStoreError.js';

interface DispatchBase {
  /** Raft index of the log entry this record comes from */
  index: number;
  /** the entry's log position (start of its 48-byte header) */
  pos: number;
}

export interface MessageDispatch extends DispatchBase {
  kind: 'message';
  topic: string;
  queueId: number;
  queueOffset: number;
  /** RocketMQ physical offset of the record (pos + 48 for our log) */
  physicalOffset: number;
  /** the record's TOTALSIZE */
  size: number;
  tagsCode: number;
  storeTimestamp: number;
  /** the KEYS words */
  keys: readonly string[];
  uniqKey?: string | undefined;
  /** transaction half messages: key indexes only, no consume-queue entry (as the Java broker) */
  skipConsumeQueue?: boolean;
}

/** Topic config or subscription group, opaque JSON by name; value null deletes it. */
export interface NamedConfigDispatch extends DispatchBase {
  kind: 'topic' | 'subscriptionGroup';
  name: string;
  value: string | null;
}

export interface ConsumerOffsetsDispatch extends DispatchBase {
  kind: 'consumerOffsets';
  group: string;
  topic: string;
  offsets: ReadonlyArray<{ queueId: number; offset: number }>;
}

/** Forget a group's offsets: all of them, or those of one topic. */
export interface DeleteConsumerOffsetsDispatch extends DispatchBase {
  kind: 'deleteConsumerOffsets';
  group: string;
  topic?: string | undefined;
}

/** Progress of the delay service per delay level (offsets in SCHEDULE_TOPIC_XXXX queue level-1). */
export interface DelayOffsetsDispatch extends DispatchBase {
  kind: 'delayOffsets';
  offsets: ReadonlyArray<{ level: number; offset: number }>;
}

export type DispatchRequest =
  | MessageDispatch
  | NamedConfigDispatch
  | ConsumerOffsetsDispatch
  | DeleteConsumerOffsetsDispatch
  | DelayOffsetsDispatch;

export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';

/** RocketMQ's default messageDelayLevel "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h", in ms. */
export const DEFAULT_DELAY_LEVEL_MILLIS: readonly number[] = [
  1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200,
].map((s) => s * 1000);

export interface DispatchOptions {
  /** delay of each level (level 1 first), for the tagsCode of SCHEDULE_TOPIC_XXXX entries */
  delayLevelMillis?: readonly number[];
}

// Property names as bytes, compared in place while scanning the properties.
const P_TAGS = [0x54, 0x41, 0x47, 0x53]; // TAGS
const P_KEYS = [0x4b, 0x45, 0x59, 0x53]; // KEYS
const P_DELAY = [0x44, 0x45, 0x4c, 0x41, 0x59]; // DELAY
const P_UNIQ_KEY = [0x55, 0x4e, 0x49, 0x51, 0x5f, 0x4b, 0x45, 0x59]; // UNIQ_KEY
const NO_KEYS: readonly string[] = Object.freeze([]);

function bad(index: number, pos: number, what: string): IndexStoreError {
  return new IndexStoreError('BAD_RECORD', `message entry ${index} at log position ${pos}: ${what}`);
}

function readI64(b: Buffer, o: number, index: number, pos: number, what: string): number {
  const v = readI64BE(b, o);
  if (!Number.isSafeInteger(v)) throw bad(index, pos, `${what} is beyond 2^53`);
  return v;
}

// Consecutive records mostly share a topic: keep the last one's bytes and string.
let lastTopicBytes = Buffer.alloc(0);
let lastTopic = '';

function topicAt(b: Buffer, at: number, length: number): string {
  const last = lastTopicBytes;
  if (last.length === length) {
    let i = 0;
    while (i < length && b[at + i] === last[i]) i++;
    if (i === length) return lastTopic;
  }
  lastTopic = b.toString('utf8', at, at + length);
  lastTopicBytes = Buffer.from(b.subarray(at, at + length));
  return lastTopic;
}

function nameIs(b: Buffer, start: number, end: number, name: readonly number[]): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (b[start + i] !== name[i]) return false;
  return true;
}

/** KEYS split on spaces, empty words dropped (as the Java index service does). */
function splitKeys(text: string | undefined): readonly string[] {
  if (text === undefined) return NO_KEYS;
  if (text.indexOf(' ') < 0) return [text];
  const words = text.split(' ');
  const out: string[] = [];
  for (const w of words) if (w.length > 0) out.push(w);
  return out;
}

/**
 * Reads the fields the index needs from a message entry's body (one RocketMQ stored-message
 * record) without decoding the whole record. Properties are scanned as bytes and only TAGS,
 * KEYS, UNIQ_KEY and DELAY are turned into strings; as in Java, a repeated name keeps its last
 * value and an empty value counts as absent.
 */
export function dispatchFromMessageRecord(index: number, pos: number, body: Buffer, options?: DispatchOptions): MessageDispatch {
  const n = body.length;
  if (n < 8) throw bad(index, pos, `body of ${n} bytes is too short for a stored message`);
  const size = readI32BE(body, 0);
  if (size !== n) throw bad(index, pos, `TOTALSIZE ${size} differs from the entry body length ${n}`);
  const magic = readU32BE(body, 4);
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) {
    throw bad(index, pos, `MAGICCODE 0x${magic.toString(16)} is not a stored message`);
  }
  const sysFlag = readI32BE(body, 36);
  let p = BORN_HOST_POS + ((sysFlag & MessageSysFlag.BORNHOST_V6) !== 0 ? 20 : 8);
  // STORETIMESTAMP, STOREHOST, RECONSUMETIMES, PREPARED_TRANSACTION_OFFSET, BODYLEN
  const hostEnd = p + 8 + ((sysFlag & MessageSysFlag.STOREHOST_V6) !== 0 ? 20 : 8);
  if (hostEnd + 16 > n) throw bad(index, pos, 'record ends inside its fixed fields');
  const storeTimestamp = readI64(body, p, index, pos, 'STORETIMESTAMP');
  p = hostEnd + 12;
  const bodyLength = readI32BE(body, p);
  p += 4;
  const topicLenSize = magic === MESSAGE_MAGIC_V2 ? 2 : 1;
  if (bodyLength < 0 || p + bodyLength + topicLenSize > n) throw bad(index, pos, `BODYLEN ${bodyLength} runs past the record`);
  p += bodyLength;
  const topicLength = topicLenSize === 1 ? (body[p] as number) : readI16BE(body, p);
  p += topicLenSize;
  if (topicLength <= 0 || p + topicLength + 2 > n) throw bad(index, pos, `TOPICLEN ${topicLength} runs past the record`);
  const topic = topicAt(body, p, topicLength);
  p += topicLength;
  const propertiesLength = readI16BE(body, p);
  p += 2;
  if (propertiesLength < 0 || p + propertiesLength !== n) throw bad(index, pos, `PROPLEN ${propertiesLength} does not end at TOTALSIZE`);

  let tags: string | undefined;
  let keys: string | undefined;
  let uniqKey: string | undefined;
  let delay: string | undefined;
  let start = p;
  while (start < n) {
    let sep = start;
    while (sep < n && body[sep] !== 0x01 && body[sep] !== 0x02) sep++;
    let end = sep;
    while (end < n && body[end] !== 0x02) end++;
    // Java keeps an item only with a non-empty name and a non-empty value.
    if (sep > start && sep < end - 1) {
      const len = sep - start;
      if (len === 4) {
        if (nameIs(body, start, sep, P_TAGS)) tags = body.toString('utf8', sep + 1, end);
        else if (nameIs(body, start, sep, P_KEYS)) keys = body.toString('utf8', sep + 1, end);
      } else if (len === 8 && nameIs(body, start, sep, P_UNIQ_KEY)) uniqKey = body.toString('utf8', sep + 1, end);
      else if (len === 5 && nameIs(body, start, sep, P_DELAY)) delay = body.toString('utf8', sep + 1, end);
    }
    start = end + 1;
  }

  let tagsCode = tags === undefined ? 0 : javaStringHash(tags);
  if (delay !== undefined && topic === SCHEDULE_TOPIC) tagsCode = deliverTimestamp(delay, storeTimestamp, options, tagsCode);

  const dispatch: MessageDispatch = {
    kind: 'message',
    index,
    pos,
    topic,
    queueId: readI32BE(body, 12),
    queueOffset: readI64(body, 20, index, pos, 'QUEUEOFFSET'),
    physicalOffset: readI64(body, 28, index, pos, 'PHYSICALOFFSET'),
    size,
    tagsCode,
    storeTimestamp,
    keys: splitKeys(keys),
    uniqKey,
  };
  const tx = sysFlag & MessageSysFlag.TRANSACTION_MASK;
  if (tx === TransactionType.PREPARED) dispatch.skipConsumeQueue = true;
  else if (tx === TransactionType.ROLLBACK) {
    // Java neither queues nor indexes a rolled-back record.
    dispatch.skipConsumeQueue = true;
    dispatch.keys = NO_KEYS;
    dispatch.uniqKey = undefined;
  }
  return dispatch;
}

/** The delay service's consume-queue tagsCode: when the message is due (Java's computeDeliverTimestamp). */
function deliverTimestamp(delay: string, storeTimestamp: number, options: DispatchOptions | undefined, fallback: number): number {
  const table = options?.delayLevelMillis ?? DEFAULT_DELAY_LEVEL_MILLIS;
  let level = Number.parseInt(delay, 10);
  if (!Number.isInteger(level) || level <= 0) return fallback;
  if (level > table.length) level = table.length;
  const ms = table[level - 1];
  return storeTimestamp + (ms ?? 1000);
}
