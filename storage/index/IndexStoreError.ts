// Typed failures of the index store, so the caller can tell a damaged folder (rebuild it)
// from a bad dispatch record (a bug upstream) from a store that stopped after a failed write.

export type IndexStoreErrorCode =
  /** the folder is not a usable index database (onDamaged: 'fail') */
  | 'DAMAGED'
  /** another open store (this process or another) holds the folder's lock */
  | 'LOCKED'
  /** a dispatch record breaks the rules (bad field, offsets going backwards, ...) */
  | 'BAD_DISPATCH'
  /** a log entry body is not a readable stored-message record */
  | 'BAD_RECORD'
  /** a RocksDB write failed; the store accepts no more writes and must be reopened */
  | 'FAILED'
  | 'CLOSED';

export class IndexStoreError extends Error {
  override name = 'IndexStoreError';

  constructor(
    readonly code: IndexStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
