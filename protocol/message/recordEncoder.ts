// Encodes a stored message record. The broker's send path encodes each message once, with
// zero placeholders for queue offset, physical offset and store time, and the commit log
// patches those in place (recordLayout.ts setters) when it appends.
import { writeI16BE, writeI32BE } from '../bytes.js';
import { maskedCrc32 } from '../crc32.js';
import { encodeHostAddress, type HostInput } from './hostAddress.js';
import { checkInt32, checkSafeInt64, writeSafeInt64 } from './int64.js';
import { MessageFormatError } from './MessageFormatError.js';
import { MAX_PROPERTIES_BYTES, serializeProperties, type PropertiesInput } from './properties.js';
import {
  MAX_TOPIC_BYTES_V1,
  MAX_TOPIC_BYTES_V2,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  storedMessageSizeOf,
} from './recordLayout.js';
import { MessageSysFlag } from './sysFlag.js';

export interface StoredMessageInput {
  topic: string;
  queueId: number;
  /** the producer's user flag */
  flag: number;
  /** bits 4/5 (IPv6 hosts) are set from the hosts given, whatever this says */
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostInput;
  storeHost: HostInput;
  /** as stored: already compressed when sysFlag bit 0 is set */
  body: Uint8Array;
  /** the properties text (properties.ts), stored verbatim; wins over `properties` */
  propertiesText?: string;
  /** or the properties as a map/record, serialized with serializeProperties */
  properties?: PropertiesInput;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number;
  /** masked CRC-32 of body; computed when absent */
  bodyCrc?: number;
  /** placeholders (0) unless given; patch with setQueueOffset/setPhysicalOffset/setStoreTimestamp */
  queueOffset?: number;
  physicalOffset?: number;
  storeTimestamp?: number;
  /** MESSAGE_MAGIC_V1 or V2; default v1 when the topic fits in 127 bytes, else v2 */
  magic?: number;
}

interface Measured {
  size: number;
  sysFlag: number;
  magic: number;
  born: Uint8Array;
  store: Uint8Array;
  topicBytes: number;
  propertiesText: string;
  propertiesBytes: number;
}

function hostBytes(host: HostInput, what: string): Uint8Array {
  if (!(host instanceof Uint8Array)) return encodeHostAddress(host);
  if (host.length !== 8 && host.length !== 20) {
    throw new MessageFormatError('BAD_ADDRESS', `${what} must be 8 (IPv4) or 20 (IPv6) encoded bytes, got ${host.length}`);
  }
  return host;
}

// Every check happens here, before the first byte is written, so a refused input never
// leaves a half-written record in a shared buffer.
function measure(input: StoredMessageInput): Measured {
  checkInt32(input.sysFlag, 'sysFlag');
  checkInt32(input.queueId, 'queueId');
  checkInt32(input.flag, 'flag');
  checkInt32(input.reconsumeTimes ?? 0, 'reconsumeTimes');
  if (input.bodyCrc !== undefined) checkInt32(input.bodyCrc, 'bodyCrc');
  checkSafeInt64(input.bornTimestamp, 'bornTimestamp');
  checkSafeInt64(input.queueOffset ?? 0, 'queueOffset');
  checkSafeInt64(input.physicalOffset ?? 0, 'physicalOffset');
  checkSafeInt64(input.storeTimestamp ?? 0, 'storeTimestamp');
  checkSafeInt64(input.preparedTransactionOffset ?? 0, 'preparedTransactionOffset');
  const born = hostBytes(input.bornHost, 'bornHost');
  const store = hostBytes(input.storeHost, 'storeHost');
  let sysFlag = input.sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6);
  if (born.length === 20) sysFlag |= MessageSysFlag.BORNHOST_V6;
  if (store.length === 20) sysFlag |= MessageSysFlag.STOREHOST_V6;

  const topicBytes = Buffer.byteLength(input.topic, 'utf8');
  const magic = input.magic ?? (topicBytes <= MAX_TOPIC_BYTES_V1 ? MESSAGE_MAGIC_V1 : MESSAGE_MAGIC_V2);
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) {
    throw new MessageFormatError('BAD_MAGIC', `cannot encode with magic 0x${(magic >>> 0).toString(16)}`);
  }
  const maxTopic = magic === MESSAGE_MAGIC_V1 ? MAX_TOPIC_BYTES_V1 : MAX_TOPIC_BYTES_V2;
  if (topicBytes === 0 || topicBytes > maxTopic) {
    throw new MessageFormatError('LENGTH_OUT_OF_RANGE', `topic is ${topicBytes} bytes; a ${magic === MESSAGE_MAGIC_V1 ? 'v1' : 'v2'} record holds 1..${maxTopic}`);
  }
  const propertiesText = input.propertiesText ?? (input.properties ? serializeProperties(input.properties) : '');
  const propertiesBytes = Buffer.byteLength(propertiesText, 'utf8');
  if (propertiesBytes > MAX_PROPERTIES_BYTES) {
    throw new MessageFormatError('LENGTH_OUT_OF_RANGE', `properties are ${propertiesBytes} bytes, more than ${MAX_PROPERTIES_BYTES}`);
  }
  const size = storedMessageSizeOf(sysFlag, magic, input.body.length, topicBytes, propertiesBytes);
  if (size > 0x7fffffff) {
    throw new MessageFormatError('LENGTH_OUT_OF_RANGE', `record of ${size} bytes does not fit TOTALSIZE (i32)`);
  }
  return { size, sysFlag, magic, born, store, topicBytes, propertiesText, propertiesBytes };
}

/** TOTALSIZE the record for `input` will have. */
export function storedMessageSize(input: StoredMessageInput): number {
  return measure(input).size;
}

function write(input: StoredMessageInput, m: Measured, buf: Buffer, start: number): void {
  const reconsumeTimes = input.reconsumeTimes ?? 0;
  const bodyCrc = input.bodyCrc ?? maskedCrc32(input.body);

  let pos = start;
  writeI32BE(buf, pos, m.size);
  writeI32BE(buf, pos + 4, m.magic);
  writeI32BE(buf, pos + 8, bodyCrc);
  writeI32BE(buf, pos + 12, input.queueId);
  writeI32BE(buf, pos + 16, input.flag);
  writeSafeInt64(buf, pos + 20, input.queueOffset ?? 0, 'queueOffset');
  writeSafeInt64(buf, pos + 28, input.physicalOffset ?? 0, 'physicalOffset');
  writeI32BE(buf, pos + 36, m.sysFlag);
  writeSafeInt64(buf, pos + 40, input.bornTimestamp, 'bornTimestamp');
  pos += 48;
  const born = m.born;
  for (let i = 0; i < born.length; i++) buf[pos + i] = born[i]!;
  pos += born.length;
  writeSafeInt64(buf, pos, input.storeTimestamp ?? 0, 'storeTimestamp');
  pos += 8;
  const store = m.store;
  for (let i = 0; i < store.length; i++) buf[pos + i] = store[i]!;
  pos += store.length;
  writeI32BE(buf, pos, reconsumeTimes);
  writeSafeInt64(buf, pos + 4, input.preparedTransactionOffset ?? 0, 'preparedTransactionOffset');
  writeI32BE(buf, pos + 12, input.body.length);
  pos += 16;
  buf.set(input.body, pos);
  pos += input.body.length;
  if (m.magic === MESSAGE_MAGIC_V1) {
    buf[pos] = m.topicBytes;
    pos += 1;
  } else {
    writeI16BE(buf, pos, m.topicBytes);
    pos += 2;
  }
  pos += buf.write(input.topic, pos, m.topicBytes, 'utf8');
  writeI16BE(buf, pos, m.propertiesBytes);
  pos += 2;
  pos += buf.write(m.propertiesText, pos, m.propertiesBytes, 'utf8');
  if (pos - start !== m.size) throw new Error(`stored message encoder wrote ${pos - start} bytes, expected ${m.size}`);
}

/** Encodes one record into a new buffer of exactly TOTALSIZE bytes. */
export function encodeStoredMessage(input: StoredMessageInput): Buffer {
  const m = measure(input);
  const buf = Buffer.allocUnsafe(m.size);
  write(input, m, buf, 0);
  return buf;
}

/**
 * Encodes one record into `target` at `offset` (e.g. several records of a batch into one
 * reused buffer) and returns the bytes written. Throws before writing if it does not fit.
 */
export function encodeStoredMessageInto(input: StoredMessageInput, target: Buffer, offset: number): number {
  const m = measure(input);
  if (!Number.isInteger(offset) || offset < 0 || offset + m.size > target.length) {
    throw new MessageFormatError('LENGTH_OUT_OF_RANGE', `a ${m.size}-byte record does not fit at offset ${offset} of a ${target.length}-byte buffer`, offset);
  }
  write(input, m, target, offset);
  return m.size;
}
