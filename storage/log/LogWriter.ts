// The contract between the log (main thread) and whatever performs its disk writes: the worker
// thread in production, a synchronous writer in some tests. The log decides every byte and
// position; the writer only writes them, in order, and says how far it got.

/** Bytes for one file at one position. Buffers are written back to back with one positioned writev. */
export interface WriteOp {
  /** absolute path of the segment file (created if missing) */
  file: string;
  /** byte position inside that file */
  filePosition: number;
  buffers: Buffer[];
  /**
   * Bytes that recovery can rebuild from other files (the index segments): a sync group does
   * not wait for their fsync; background flushes, flush(), truncate, release and close still
   * sync them. A file's first op decides this for the file.
   */
  lazySync?: boolean;
}

/**
 * One group of writes that moves the log's end to `endPosition` (an absolute log position, the
 * sum over all data files). Groups are applied in submission order; a group is "written" when
 * all its ops are in the OS, "durable" when they are also fsynced.
 */
export interface WriteGroup {
  ops: WriteOp[];
  endPosition: number;
  /** fsync this group (and everything before it) before reporting it durable. */
  sync: boolean;
}

export interface WriterProgress {
  written: number;
  durable: number;
}

export interface LogWriter {
  /** Hand over a group; never blocks. Buffers must not be changed afterwards, unless `releasesOnSubmit`. */
  submit(group: WriteGroup): void;
  /**
   * True when submit() is done with the group's buffers by the time it returns (written, or
   * dropped after a failure): the caller may then reuse them for the next group.
   */
  readonly releasesOnSubmit?: boolean;
  /**
   * True when no group submitted so far still holds its buffers (all written, or dropped after
   * a failure): a writer that queues groups (SyncLogWriter's coalescing) says so between
   * batches, and the caller may then reuse its buffers for the next group.
   */
  readonly buffersReleased?: boolean;
  /**
   * Write the groups queued so far now rather than at the writer's own time (a coalescing
   * writer's next immediate): the caller has submitted everything its batch holds. Optional; a
   * no-op for writers that do not queue.
   */
  writeQueued?(): void;
  /** Highest end position written / fsynced so far. */
  progress(): WriterProgress;
  /** Called (on the main thread) whenever progress moves. */
  onProgress(listener: (p: WriterProgress) => void): void;
  /** Called once if a write or fsync fails; no further progress is reported after it. */
  onError(listener: (e: Error) => void): void;
  /** fsync everything submitted so far; resolves with the durable position. */
  flush(): Promise<number>;
  /** Truncate a file to a length (used by recovery and suffix truncation), after pending writes. */
  truncate(file: string, length: number): Promise<void>;
  /** Close the writer's handle on a file (before the log deletes it), after pending writes. */
  release(file: string): Promise<void>;
  /** Finish pending writes, fsync, stop. */
  close(): Promise<void>;
}
