// The message SYSFLAG field: compression, multi-tags, transaction type, and which host
// fields of the stored record are 16-byte IPv6.

export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  /** bits 2-3 hold the transaction type, one of TransactionType */
  TRANSACTION_MASK: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  /** 5.x inner batch: the client unwraps only when NEED_UNWRAP and INNER_BATCH are both set */
  NEED_UNWRAP: 0x40,
  INNER_BATCH: 0x80,
  /** bits 8-10: the compression algorithm, one of CompressionType */
  COMPRESSION_TYPE_MASK: 0x700,
} as const;

export const TransactionType = {
  NOT_TYPE: 0x0,
  /** a half message, invisible until committed */
  PREPARED: 0x4,
  COMMIT: 0x8,
  ROLLBACK: 0xc,
} as const;
export type TransactionType = (typeof TransactionType)[keyof typeof TransactionType];

/** Values of bits 8-10. 0 is what producers before compression types wrote; it means zlib. */
export const CompressionType = {
  LEGACY_ZLIB: 0,
  LZ4: 1,
  ZSTD: 2,
  ZLIB: 3,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

export function transactionType(sysFlag: number): TransactionType {
  return (sysFlag & MessageSysFlag.TRANSACTION_MASK) as TransactionType;
}

/** sysFlag with its transaction bits replaced (commit/rollback rewrite a half message's type). */
export function withTransactionType(sysFlag: number, type: TransactionType): number {
  return (sysFlag & ~MessageSysFlag.TRANSACTION_MASK) | type;
}

export function isCompressed(sysFlag: number): boolean {
  return (sysFlag & MessageSysFlag.COMPRESSED) !== 0;
}

export function compressionType(sysFlag: number): CompressionType {
  return ((sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK) >>> 8) as CompressionType;
}

/** sysFlag marked compressed with the given algorithm (Java 4.9.8 sends ZLIB: 0x301). */
export function withCompression(sysFlag: number, type: CompressionType): number {
  return (sysFlag & ~MessageSysFlag.COMPRESSION_TYPE_MASK) | MessageSysFlag.COMPRESSED | (type << 8);
}

export function isBornHostV6(sysFlag: number): boolean {
  return (sysFlag & MessageSysFlag.BORNHOST_V6) !== 0;
}

export function isStoreHostV6(sysFlag: number): boolean {
  return (sysFlag & MessageSysFlag.STOREHOST_V6) !== 0;
}
