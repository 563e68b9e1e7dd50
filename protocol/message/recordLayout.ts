// Where things sit in a stored message record (the commit-log format PULL_MESSAGE returns),
// and in-place patching of the fields the commit log only knows at append time.
import { writeSafeInt64 } from './int64.js';
import { MessageSysFlag } from './sysFlag.js';

/** Magic v1: 1-byte topic length. Emitted by us whenever the topic fits in 127 bytes. */
export const MESSAGE_MAGIC_V1 = 0xdaa320a7;
/** Magic v2: 2-byte topic length, for longer topics. */
export const MESSAGE_MAGIC_V2 = 0xdaa320ab;
/** Filler at the end of a Java commit-log file; never a message. */
export const BLANK_MAGIC = 0xcbd43194;

/** Longest topic a v1 record can hold: Java reads the length as a signed byte. */
export const MAX_TOPIC_BYTES_V1 = 127;
/** Longest topic a v2 record can hold (signed i16 length). */
export const MAX_TOPIC_BYTES_V2 = 32767;

// Byte positions inside a record. Everything up to and including the born host's start is
// fixed; from STORETIMESTAMP on, positions move by 12 when the born host is IPv6.
export const TOTALSIZE_POS = 0;
export const MAGIC_POS = 4;
export const BODYCRC_POS = 8;
export const QUEUEID_POS = 12;
export const FLAG_POS = 16;
export const QUEUE_OFFSET_POS = 20;
export const PHYSICAL_OFFSET_POS = 28;
export const SYSFLAG_POS = 36;
export const BORN_TIMESTAMP_POS = 40;
export const BORN_HOST_POS = 48;

/** 48 bytes up to the born host + 8 store timestamp + 4 reconsume times + 8 prepared tx offset + 4 body length. */
const FIXED_WITHOUT_HOSTS = 72;

/** Bytes of one host field (IP + i32 port). */
export function hostFieldSize(ipv6: boolean): number {
  return ipv6 ? 20 : 8;
}

/** STORETIMESTAMP's position for a record with this sysFlag (56, or 68 with an IPv6 born host). */
export function storeTimestampPos(sysFlag: number): number {
  return BORN_HOST_POS + hostFieldSize((sysFlag & MessageSysFlag.BORNHOST_V6) !== 0);
}

/** BODYLEN's position; BODY follows it. */
export function bodyLengthPos(sysFlag: number): number {
  return (
    storeTimestampPos(sysFlag) + 8 + hostFieldSize((sysFlag & MessageSysFlag.STOREHOST_V6) !== 0) + 4 + 8
  );
}

/**
 * TOTALSIZE for the given field sizes. v1 with IPv4 hosts: 91 + body + topic + properties.
 */
export function storedMessageSizeOf(
  sysFlag: number,
  magic: number,
  bodyBytes: number,
  topicBytes: number,
  propertiesBytes: number,
): number {
  const hosts =
    hostFieldSize((sysFlag & MessageSysFlag.BORNHOST_V6) !== 0) +
    hostFieldSize((sysFlag & MessageSysFlag.STOREHOST_V6) !== 0);
  const topicLenSize = magic === MESSAGE_MAGIC_V2 ? 2 : 1;
  return FIXED_WITHOUT_HOSTS + hosts + bodyBytes + topicLenSize + topicBytes + 2 + propertiesBytes;
}

// The commit log patches these after encoding, once it has assigned offsets and the time.
// `recordStart` is where the record begins inside `buf`.

export function setQueueOffset(buf: Buffer, recordStart: number, queueOffset: number): void {
  writeSafeInt64(buf, recordStart + QUEUE_OFFSET_POS, queueOffset, 'queueOffset');
}

export function setPhysicalOffset(buf: Buffer, recordStart: number, physicalOffset: number): void {
  writeSafeInt64(buf, recordStart + PHYSICAL_OFFSET_POS, physicalOffset, 'physicalOffset');
}

/** Reads the record's sysFlag to find the field, so it works for IPv4 and IPv6 born hosts. */
export function setStoreTimestamp(buf: Buffer, recordStart: number, storeTimestamp: number): void {
  const sysFlag = buf.readInt32BE(recordStart + SYSFLAG_POS);
  writeSafeInt64(buf, recordStart + storeTimestampPos(sysFlag), storeTimestamp, 'storeTimestamp');
}
