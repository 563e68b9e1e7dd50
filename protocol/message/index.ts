// Public API of the message formats: stored records, batch bodies, properties, sysFlag,
// message ids and tag codes.
export { MessageFormatError, type MessageFormatErrorCode } from './MessageFormatError.js';
export {
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  MAX_PROPERTIES_BYTES,
  MessageProperty,
  type MessagePropertyName,
  type PropertiesInput,
  parseProperties,
  getProperty,
  serializeProperties,
  appendProperty,
  checkProperty,
  propertiesByteLength,
  checkPropertiesSize,
} from './properties.js';
export {
  MessageSysFlag,
  TransactionType,
  CompressionType,
  transactionType,
  withTransactionType,
  isCompressed,
  compressionType,
  withCompression,
  isBornHostV6,
  isStoreHostV6,
} from './sysFlag.js';
export { DEFAULT_MAX_INFLATED_BYTES, inflateBody, deflateBody } from './compression.js';
export {
  type HostAddress,
  type HostInput,
  parseIp,
  formatIp,
  encodeHostAddress,
  decodeHostAddress,
  parseHostAddress,
  formatHostAddress,
} from './hostAddress.js';
export {
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  BLANK_MAGIC,
  MAX_TOPIC_BYTES_V1,
  MAX_TOPIC_BYTES_V2,
  TOTALSIZE_POS,
  MAGIC_POS,
  BODYCRC_POS,
  QUEUEID_POS,
  FLAG_POS,
  QUEUE_OFFSET_POS,
  PHYSICAL_OFFSET_POS,
  SYSFLAG_POS,
  BORN_TIMESTAMP_POS,
  BORN_HOST_POS,
  hostFieldSize,
  storeTimestampPos,
  bodyLengthPos,
  storedMessageSizeOf,
  setQueueOffset,
  setPhysicalOffset,
  setStoreTimestamp,
} from './recordLayout.js';
export {
  type StoredMessageInput,
  storedMessageSize,
  encodeStoredMessage,
  encodeStoredMessageInto,
} from './recordEncoder.js';
export {
  type StoredMessage,
  type DecodeStoredMessageOptions,
  decodeStoredMessage,
  iterateStoredMessages,
  decodeStoredMessages,
} from './recordDecoder.js';
export {
  BATCH_ENTRY_OVERHEAD,
  DEFAULT_MAX_BATCH_ENTRIES,
  type BatchEntry,
  type BatchEntryInput,
  type DecodeBatchOptions,
  decodeBatchBody,
  encodeBatchBody,
} from './batch.js';
export {
  type OffsetMsgId,
  type UniqKeyParts,
  type ParsedUniqKey,
  type MonthBounds,
  type UniqKeyGeneratorOptions,
  encodeOffsetMsgId,
  decodeOffsetMsgId,
  encodeUniqKey,
  parseUniqKey,
  localMonthBounds,
  UniqKeyGenerator,
} from './messageId.js';
export {
  SUBSCRIBE_ALL,
  type TagSubscription,
  javaStringHash,
  tagsCodeOf,
  parseTagSubscription,
  matchesTagsCode,
  matchesTags,
} from './tagsCode.js';
export { crc32, maskedCrc32 } from '../crc32.js';
