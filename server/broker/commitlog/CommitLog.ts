// The one commit log the broker's processors see: "append these records, tell me when they
// are committed, then apply them". The single-node LocalCommitLog implements it now and the
// Raft-replicated log will implement it later, so nothing above this interface changes when
// the log becomes replicated.
//
// Contract (both implementations):
// - append() is accepted only where writes are taken (the leader). It assigns queue offsets,
//   store time and log positions, patches them into the records, and resolves once the
//   entries are committed (flushDiskType: written or fsynced, on a quorum for Raft).
// - Every node applies committed entries in log order into the IndexStore and only then
//   tells onApplied listeners. The leader's own appends are applied through that same path;
//   nothing writes the index from append().
import type { ConsumeQueueEntry, IndexStore } from '../../../storage/index/IndexStore.js';
import type { DispatchRequest, MessageDispatch } from '../../../storage/index/DispatchRequest.js';
import type { SegmentSource } from '../../../storage/retention/DiskSpace.js';

/** A stored-message record encoded once by the send processor, placeholders for queue offset, physical offset and store time. */
export interface MessageAppendRecord {
  kind?: 'message';
  /** exactly one RocketMQ stored-message record; patched in place by append() */
  record: Buffer;
  topic: string;
  queueId: number;
  /** an imported record (classic upgrade) keeps its queue offset; the queue's next offset moves past it */
  keepQueueOffset?: number;
  /** an imported record keeps its store time */
  keepStoreTimestamp?: number;
}

/** Broker metadata (topic, subscription group, consumer/delay offsets): an entry of its own kind, decoded at apply by the broker's decoder. */
export interface MetadataAppendRecord {
  kind: 'metadata';
  /** EntryMagic.METADATA_MIN .. METADATA_MAX */
  magic: number;
  body: Buffer;
}

export type AppendRecord = MessageAppendRecord | MetadataAppendRecord;

/** What append() assigned to one record (same position in the result as in the call). */
export interface AppendedRecord {
  /** log (Raft) index of the entry */
  index: number;
  /** -1 for metadata */
  queueOffset: number;
  /** entry pos + 48: the RocketMQ commit-log offset, the same on every replica */
  physicalOffset: number;
  storeTimestamp: number;
  /** record (body) bytes */
  size: number;
}

export interface AppendResult {
  firstIndex: number;
  lastIndex: number;
  records: AppendedRecord[];
}

/** What long-polling pulls need to wake up; the MessageDispatch objects themselves, not copies. */
export type AppliedMessage = Pick<MessageDispatch, 'topic' | 'queueId' | 'queueOffset' | 'tagsCode' | 'physicalOffset' | 'size' | 'storeTimestamp'>;

export interface AppliedBatch {
  firstIndex: number;
  lastIndex: number;
  /** messages that got a consume-queue entry, in log order (half messages have none and are left out) */
  messages: readonly AppliedMessage[];
  /** decoded metadata records (topics, groups, offsets), so caches above can follow them */
  metadata: readonly Exclude<DispatchRequest, MessageDispatch>[];
}

export type AppliedListener = (batch: AppliedBatch) => void;

/** The read side of the index that the broker may use; writes go through the log only. */
export type IndexReader = Pick<
  IndexStore,
  | 'applied'
  | 'lastIndexed'
  | 'minOffset'
  | 'maxOffset'
  | 'queues'
  | 'getConsumeQueueEntry'
  | 'readConsumeQueue'
  | 'offsetByTimestamp'
  | 'earliestStoreTime'
  | 'queryByKey'
  | 'getByUniqKey'
  | 'getMetadata'
  | 'listMetadata'
  | 'getConsumerOffset'
  | 'listConsumerOffsets'
  | 'getDelayOffsets'
>;

export interface CommitLogStats {
  /** appends accepted and not yet applied (what maxPendingAppends limits) */
  pendingAppends: number;
  maxPendingAppends: number;
  lastIndex: number;
  committedIndex: number;
  appliedIndex: number;
}

export interface AppendOptions {
  /** the holder's own writes (an import) pass the write hold; see `writeHold` of the logs' options */
  pastHold?: boolean;
  /**
   * Called inside append() once the log took the records (their place in the log is fixed); a
   * refused append never calls it. Lets a caller keep several appends in flight without a gap.
   */
  onAccepted?: () => void;
}

/**
 * Holds ordinary writes while it returns a reason (a classic import under way): isWritable is
 * false and append() refuses with SYSTEM_BUSY and that reason, except appends with `pastHold`.
 */
export type WriteHold = () => string | undefined;

export interface CommitLog {
  /** Refuses with a CommitLogError subclass (its responseCode is the answer to the producer). */
  append(records: readonly AppendRecord[], options?: AppendOptions): Promise<AppendResult>;
  /** Called after each applied batch, in log order; returns the unsubscribe function. */
  onApplied(listener: AppliedListener): () => void;

  /** The stored record at a commit-log offset; undefined when that part of the log is gone (retention) or not there. */
  readMessage(physicalOffset: number, size: number): Buffer | undefined;
  /** The records of consume-queue entries back to back (a PULL body), those retention removed left out; `count` says how many it holds. The body is the start of the buffer `alloc` gave, when given. */
  readMessages(places: readonly Pick<ConsumeQueueEntry, 'physicalOffset' | 'size'>[], alloc?: (bytes: number) => Buffer): { body: Buffer; count: number };
  /** Reads the records' bytes into the page cache in the thread pool where they are not cached, so that readMessages does not wait for the disk on the event loop; resolves with the bytes read. */
  warmForRead(places: readonly Pick<ConsumeQueueEntry, 'physicalOffset' | 'size'>[]): Promise<number>;
  /** bytes warmForRead has read in the thread pool so far */
  readonly coldReadBytes: number;
  /** The stored record whose commit-log offset a client gave (message ids, send-back); undefined when no message starts there. */
  readMessageAt(physicalOffset: number): Buffer | undefined;
  /** smallest consume-queue offset still held (0 for an unknown queue) */
  minOffset(topic: string, queueId: number): number;
  /** next consume-queue offset of the applied state (0 for an unknown queue) */
  maxOffset(topic: string, queueId: number): number;
  readConsumeQueue(topic: string, queueId: number, fromOffset: number, maxCount: number): Promise<ConsumeQueueEntry[]>;
  /** the other index lookups (keys, ids, timestamps, metadata, consumer offsets) */
  readonly index: IndexReader;
  /** last log index whose effects are in the index */
  readonly appliedIndex: number;
  /** whether append() is accepted now (leader, open, not failed) */
  readonly isWritable: boolean;
  stats(): CommitLogStats;
  /** What the retention service deletes from: whole segments, oldest first, never what the index or (Raft) a live follower still needs. */
  retentionSource(): SegmentSource;
  /**
   * Raft only: the index was replaced (a segment copy from the leader); the listener reloads
   * whatever it keeps in memory from the index before later entries are applied.
   */
  onReset?(listener: () => Promise<void>): void;
  /** the log folder (for the disk the retention service watches) */
  readonly logDir: string;

  /** Stops taking appends, waits for those in flight to commit and apply, closes log and index. */
  close(): Promise<void>;
}
