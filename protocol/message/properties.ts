// The message properties text: `name \x01 value \x02 name \x01 value ...`. Producers send it
// in the send header, the broker stores it in the record, consumers parse it.
import { MessageFormatError } from './MessageFormatError.js';

export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';

/** PROPLEN is a signed i16 in the stored record, so the UTF-8 text must fit in 32767 bytes. */
export const MAX_PROPERTIES_BYTES = 32767;

/** Well-known property names (the wire spelling is the value). */
export const MessageProperty = {
  TAGS: 'TAGS',
  KEYS: 'KEYS',
  UNIQ_KEY: 'UNIQ_KEY',
  WAIT: 'WAIT',
  DELAY: 'DELAY',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  TRAN_MSG: 'TRAN_MSG',
  PGROUP: 'PGROUP',
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  TRAN_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  TRANSACTION_ID: '__transactionId__',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  RETRY_TOPIC: 'RETRY_TOPIC',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  CONSUME_START_TIME: 'CONSUME_START_TIME',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  CLUSTER: 'CLUSTER',
  MSG_REGION: 'MSG_REGION',
  TRACE_ON: 'TRACE_ON',
  SHARDING_KEY: '__SHARDINGKEY',
  POP_CK: 'POP_CK',
  FIRST_POP_TIME: '1ST_POP_TIME',
  INNER_NUM: 'INNER_NUM',
  INNER_BASE: 'INNER_BASE',
  CORRELATION_ID: 'CORRELATION_ID',
  REPLY_TO_CLIENT: 'REPLY_TO_CLIENT',
  TTL: 'TTL',
  ARRIVE_TIME: 'ARRIVE_TIME',
  MSG_TYPE: 'MSG_TYPE',
  BORN_HOST: '__BORNHOST',
  BORN_TIMESTAMP: 'BORN_TIMESTAMP',
  TRACE_CONTEXT: 'TRACE_CONTEXT',
  CRC32: '__CRC32#',
  DLQ_ORIGIN_TOPIC: 'DLQ_ORIGIN_TOPIC',
  DLQ_ORIGIN_MESSAGE_ID: 'DLQ_ORIGIN_MESSAGE_ID',
  START_DELIVER_TIME: '__STARTDELIVERTIME',
} as const;

export type MessagePropertyName = (typeof MessageProperty)[keyof typeof MessageProperty];

export type PropertiesInput = ReadonlyMap<string, string> | Readonly<Record<string, string>> | Iterable<readonly [string, string]>;

/**
 * Calls `visit(start, sep, end)` for every item Java keeps: split on 0x02; an item counts only
 * if it has at least 3 chars and its first 0x01 sits after index 0 and before the last
 * char (so empty names and empty values are dropped). The name is text[start, sep), the value
 * everything after the first 0x01, text[sep + 1, end). Positions, not strings: a caller cuts
 * out only what it needs.
 */
function scanProperties(text: string, visit: (start: number, sep: number, end: number) => void): void {
  const len = text.length;
  let start = 0;
  while (start < len) {
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = len;
    if (end - start >= 3) {
      const sep = text.indexOf(NAME_VALUE_SEPARATOR, start);
      if (sep > start && sep < end - 1) visit(start, sep, end);
    }
    start = end + 1;
  }
}

/** Parses the properties text; a repeated name keeps its last value, as Java's map does. */
export function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  scanProperties(text, (start, sep, end) => {
    map.set(text.slice(start, sep), text.slice(sep + 1, end));
  });
  return map;
}

/**
 * One property without building a map (the broker reads TAGS/UNIQ_KEY/DELAY per send): what
 * parseProperties(text).get(name) gives, with names compared in place, so that only the value
 * found is cut out of the text (the last occurrence wins, as in parseProperties).
 */
export function getProperty(text: string, name: string): string | undefined {
  let valueStart = -1;
  let valueEnd = -1;
  scanProperties(text, (start, sep, end) => {
    if (sep - start === name.length && text.startsWith(name, start)) {
      valueStart = sep + 1;
      valueEnd = end;
    }
  });
  return valueStart < 0 ? undefined : text.slice(valueStart, valueEnd);
}

/** Names and values the text format can carry and a parser gives back unchanged. */
export function checkProperty(name: string, value: string): void {
  if (name.length === 0 || name.includes(NAME_VALUE_SEPARATOR) || name.includes(PROPERTY_SEPARATOR)) {
    throw new MessageFormatError('BAD_PROPERTY', `property name ${JSON.stringify(name)} is empty or contains a separator (0x01/0x02)`);
  }
  // An empty value is dropped by every parser, and 0x02 would split the item.
  if (value.length === 0 || value.includes(PROPERTY_SEPARATOR)) {
    throw new MessageFormatError('BAD_PROPERTY', `property ${name} has an empty value or one containing 0x02`);
  }
}

function entriesOf(props: PropertiesInput): Iterable<readonly [string, string]> {
  if (props instanceof Map) return props.entries();
  if (Symbol.iterator in (props as object)) return props as Iterable<readonly [string, string]>;
  return Object.entries(props as Record<string, string>);
}

/**
 * Serializes properties without a trailing separator, the way the 4.9.8 client and broker
 * send and store them (parsers accept both).
 */
export function serializeProperties(props: PropertiesInput): string {
  let text = '';
  for (const [name, value] of entriesOf(props)) {
    checkProperty(name, value);
    if (text.length > 0) text += PROPERTY_SEPARATOR;
    text += name + NAME_VALUE_SEPARATOR + value;
  }
  return text;
}

/**
 * Appends one property to existing text without re-serializing it (the broker adds CLUSTER
 * or a missing UNIQ_KEY to what the producer sent). Does not remove an earlier item of the
 * same name: the appended one wins on parse.
 */
export function appendProperty(text: string, name: string, value: string): string {
  checkProperty(name, value);
  const pair = name + NAME_VALUE_SEPARATOR + value;
  if (text.length === 0 || text.endsWith(PROPERTY_SEPARATOR)) return text + pair;
  return text + PROPERTY_SEPARATOR + pair;
}

/** UTF-8 byte length of the properties text, the number stored in PROPLEN. */
export function propertiesByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The broker's size check on incoming properties: undefined when the text fits in a stored
 * record, else a sentence naming the limit (for the refusal's remark).
 */
export function checkPropertiesSize(text: string): string | undefined {
  const bytes = propertiesByteLength(text);
  if (bytes > MAX_PROPERTIES_BYTES) {
    return `message properties are ${bytes} bytes, more than the limit of ${MAX_PROPERTIES_BYTES}`;
  }
  return undefined;
}
