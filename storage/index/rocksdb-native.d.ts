// The part of rocksdb-native (3.18.1, plain CommonJS without types) that storage/index uses.
// Keys and values are Buffers throughout; no key/value encodings are configured.
declare module 'rocksdb-native' {
  namespace RocksDB {
    interface Options {
      /** default true; false makes opening a folder without a database an error */
      createIfMissing?: boolean;
      readOnly?: boolean;
      maxBackgroundJobs?: number;
      /** options of the default column family */
      writeBufferSize?: number;
      maxWriteBufferNumber?: number;
    }

    interface IteratorRange {
      gt?: Buffer;
      gte?: Buffer;
      lt?: Buffer;
      lte?: Buffer;
    }

    interface IteratorOptions {
      reverse?: boolean;
      /** most entries to yield */
      limit?: number;
      /** entries fetched per round trip to the native side (default 8) */
      capacity?: number;
      /** false: keys only (value is null) */
      values?: boolean;
    }

    interface Entry {
      key: Buffer;
      value: Buffer;
    }

    interface BatchOptions {
      /** operations the native buffer holds before it grows */
      capacity?: number;
      autoDestroy?: boolean;
    }

    /**
     * Queue operations, then flush them as one atomic RocksDB write (WAL, no fsync). Buffers
     * are read by the native side during the flush, so they must not change until it settles.
     * The batch is empty and reusable after a flush.
     */
    interface WriteBatch {
      tryPut(key: Buffer, value: Buffer): void;
      tryDelete(key: Buffer): void;
      tryDeleteRange(start: Buffer, end: Buffer): void;
      flush(): Promise<void>;
      destroy(): void;
    }

    interface ReadBatch {
      /** resolves with the value, or null when the key is absent */
      get(key: Buffer): Promise<Buffer | null>;
      tryFlush(): void;
      destroy(): void;
    }
  }

  class RocksDB {
    constructor(path: string, options?: RocksDB.Options);
    readonly opened: boolean;
    readonly closed: boolean;
    readonly path: string;
    ready(): Promise<void>;
    close(options?: { force?: boolean }): Promise<void>;
    read(options?: RocksDB.BatchOptions): RocksDB.ReadBatch;
    write(options?: RocksDB.BatchOptions): RocksDB.WriteBatch;
    get(key: Buffer): Promise<Buffer | null>;
    iterator(range: RocksDB.IteratorRange, options?: RocksDB.IteratorOptions): AsyncIterable<RocksDB.Entry>;
    /** writes the memtable to an SST file */
    flush(): Promise<void>;
    compactRange(start?: Buffer | null, end?: Buffer | null): Promise<void>;
  }

  export = RocksDB;
}
