// Decodes stored message records: one at an offset, or the back-to-back records of a
// PULL_MESSAGE body. Every length is checked against the record's own TOTALSIZE, and
// errors name the byte offset of the bad record.
import { inflateBody } from './compression.js';
import { decodeHostAddress, type HostAddress } from './hostAddress.js';
import { readSafeInt64 } from './int64.js';
import { encodeOffsetMsgId } from './messageId.js';
import { MessageFormatError, type MessageFormatErrorCode } from './MessageFormatError.js';
import { MessageProperty, parseProperties } from './properties.js';
import {
  BLANK_MAGIC,
  BORN_HOST_POS,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  hostFieldSize,
  storedMessageSizeOf,
} from './recordLayout.js';
import { isBornHostV6, isStoreHostV6 } from './sysFlag.js';

export interface StoredMessage {
  /** TOTALSIZE: the record's length in bytes */
  storeSize: number;
  magic: number;
  bodyCrc: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  /** the body as stored (compressed if sysFlag bit 0); a view into the decoded buffer, not a copy */
  body: Buffer;
  topic: string;
  /** the properties text exactly as stored */
  propertiesText: string;
  properties: Map<string, string>;
  /** store host + physical offset, as clients compute it */
  offsetMsgId: string;
  /** UNIQ_KEY when present, else offsetMsgId (what the Java client calls msgId) */
  msgId: string;
  /** the plain body, only when decoding with `inflate: true` (same as body when not compressed) */
  inflatedBody?: Buffer;
}

export interface DecodeStoredMessageOptions {
  /** also inflate a compressed body into `inflatedBody` */
  inflate?: boolean;
  /** cap on an inflated body (default DEFAULT_MAX_INFLATED_BYTES) */
  maxInflatedBytes?: number;
}

/** The smallest legal record: v1, IPv4 hosts, empty body, topic and properties. */
const MIN_RECORD_SIZE = storedMessageSizeOf(0, MESSAGE_MAGIC_V1, 0, 0, 0);

function fail(code: MessageFormatErrorCode, start: number, what: string): MessageFormatError {
  return new MessageFormatError(code, `stored message at offset ${start}: ${what}`, start);
}

/** Decodes the record that starts at `offset` of `buf`. */
export function decodeStoredMessage(buf: Buffer, offset = 0, options?: DecodeStoredMessageOptions): StoredMessage {
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`record offset must be a non-negative integer, got ${offset}`);
  const start = offset;
  const left = buf.length - start;
  if (left < 8) throw fail('TRUNCATED', start, `only ${left} bytes left, TOTALSIZE and MAGICCODE need 8`);
  const storeSize = buf.readInt32BE(start);
  const magic = buf.readUInt32BE(start + 4);
  if (magic === BLANK_MAGIC) throw fail('BLANK_RECORD', start, 'BLANK magic (end-of-file filler), not a message');
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) {
    throw fail('BAD_MAGIC', start, `MAGICCODE 0x${magic.toString(16).padStart(8, '0')} is neither v1 (daa320a7) nor v2 (daa320ab)`);
  }
  if (storeSize < MIN_RECORD_SIZE) throw fail('SIZE_MISMATCH', start, `TOTALSIZE ${storeSize} is below the ${MIN_RECORD_SIZE}-byte minimum`);
  if (storeSize > left) throw fail('TRUNCATED', start, `TOTALSIZE ${storeSize} but only ${left} bytes left`);
  const end = start + storeSize;

  const sysFlag = buf.readInt32BE(start + 36);
  const bornV6 = isBornHostV6(sysFlag);
  const storeV6 = isStoreHostV6(sysFlag);
  const fixed = storedMessageSizeOf(sysFlag, magic, 0, 0, 0);
  if (storeSize < fixed) {
    throw fail('SIZE_MISMATCH', start, `TOTALSIZE ${storeSize} is below the ${fixed} bytes of fixed fields for sysFlag 0x${sysFlag.toString(16)}`);
  }

  const bornHost = decodeHostAddress(buf, start + BORN_HOST_POS, bornV6);
  let pos = start + BORN_HOST_POS + hostFieldSize(bornV6);
  const storeTimestamp = readSafeInt64(buf, pos, 'storeTimestamp');
  pos += 8;
  const storeHostPos = pos;
  const storeHostLen = hostFieldSize(storeV6);
  const storeHost = decodeHostAddress(buf, pos, storeV6);
  pos += storeHostLen;
  const reconsumeTimes = buf.readInt32BE(pos);
  const preparedTransactionOffset = readSafeInt64(buf, pos + 4, 'preparedTransactionOffset');
  const bodyLength = buf.readInt32BE(pos + 12);
  pos += 16;

  // Fixed fields fit (checked above); from here each length must leave room for what follows.
  const topicLenSize = magic === MESSAGE_MAGIC_V2 ? 2 : 1;
  if (bodyLength < 0 || pos + bodyLength + topicLenSize + 2 > end) {
    throw fail('LENGTH_OUT_OF_RANGE', start, `BODYLEN ${bodyLength} at byte ${pos - 4} runs past TOTALSIZE ${storeSize}`);
  }
  const body = buf.subarray(pos, pos + bodyLength);
  pos += bodyLength;
  // v1 topic length: read unsigned (Java reads a signed byte); we never write more than 127.
  const topicLength = topicLenSize === 1 ? buf.readUInt8(pos) : buf.readInt16BE(pos);
  pos += topicLenSize;
  if (topicLength < 0 || pos + topicLength + 2 > end) {
    throw fail('LENGTH_OUT_OF_RANGE', start, `TOPICLEN ${topicLength} at byte ${pos - topicLenSize} runs past TOTALSIZE ${storeSize}`);
  }
  const topic = buf.toString('utf8', pos, pos + topicLength);
  pos += topicLength;
  const propertiesLength = buf.readInt16BE(pos);
  pos += 2;
  if (propertiesLength < 0 || pos + propertiesLength > end) {
    throw fail('LENGTH_OUT_OF_RANGE', start, `PROPLEN ${propertiesLength} at byte ${pos - 2} runs past TOTALSIZE ${storeSize}`);
  }
  const propertiesText = buf.toString('utf8', pos, pos + propertiesLength);
  pos += propertiesLength;
  if (pos !== end) {
    throw fail('SIZE_MISMATCH', start, `fields end ${end - pos} bytes before TOTALSIZE ${storeSize}`);
  }

  const physicalOffset = readSafeInt64(buf, start + 28, 'physicalOffset');
  const properties = parseProperties(propertiesText);
  const offsetMsgId = encodeOffsetMsgId(buf.subarray(storeHostPos, storeHostPos + storeHostLen), physicalOffset);
  const message: StoredMessage = {
    storeSize,
    magic,
    bodyCrc: buf.readInt32BE(start + 8),
    queueId: buf.readInt32BE(start + 12),
    flag: buf.readInt32BE(start + 16),
    queueOffset: readSafeInt64(buf, start + 20, 'queueOffset'),
    physicalOffset,
    sysFlag,
    bornTimestamp: readSafeInt64(buf, start + 40, 'bornTimestamp'),
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    body,
    topic,
    propertiesText,
    properties,
    offsetMsgId,
    msgId: properties.get(MessageProperty.UNIQ_KEY) ?? offsetMsgId,
  };
  if (options?.inflate) message.inflatedBody = inflateBody(body, sysFlag, options.maxInflatedBytes);
  return message;
}

/** Yields the records laid back to back in `buf` (a pull body); stops at the first bad one with an error. */
export function* iterateStoredMessages(buf: Buffer, options?: DecodeStoredMessageOptions): Generator<StoredMessage, void, undefined> {
  let pos = 0;
  while (pos < buf.length) {
    const message = decodeStoredMessage(buf, pos, options);
    yield message;
    pos += message.storeSize;
  }
}

export function decodeStoredMessages(buf: Buffer, options?: DecodeStoredMessageOptions): StoredMessage[] {
  return [...iterateStoredMessages(buf, options)];
}
