// Turns one append() call into log entries: checks the records, plans their queue offsets, and
// (as the log's beforeWrite hook, once index and pos are known) patches queue offset, physical
// offset and store time into each record and decodes what the index will apply. Decoding here,
// before the bytes reach the log, refuses a record the index could not dispatch: one such
// entry in the log would stop apply for good. Shared by the local and (later) the Raft leader.
import { setPhysicalOffset, setQueueOffset, setStoreTimestamp } from '../../../protocol/message/index.js';
import { dispatchFromMessageRecord, type DispatchOptions, type DispatchRequest } from '../../../storage/index/DispatchRequest.js';
import { MAX_DISPATCHES_PER_APPLY } from '../../../storage/index/IndexStore.js';
import type { MetadataDecoder } from '../../../storage/LogIndexer.js';
import { ENTRY_HEADER_SIZE, EntryMagic } from '../../../storage/log/entryCodec.js';
import type { AppendEntry } from '../../../storage/log/SegmentedLog.js';
import type { DecodedEntry } from './CommitApplier.js';
import type { AppendRecord, AppendedRecord } from './CommitLog.js';
import { MessageIllegalError, MessageTooLargeError } from './CommitLogError.js';
import type { QueueOffsetAssigner, QueueRef } from './QueueOffsetAssigner.js';

export interface AppendLimits {
  /** header + body of one entry (the log's maxEntrySize) */
  maxEntrySize: number;
  maxBatchEntries: number;
  maxBatchBytes: number;
}

export interface AppendPlanContext {
  assigner: QueueOffsetAssigner;
  limits: AppendLimits;
  term: number;
  storeTimestamp: number;
  decodeMetadata?: MetadataDecoder | undefined;
  dispatchOptions?: DispatchOptions | undefined;
}

const NO_DISPATCHES: readonly DispatchRequest[] = Object.freeze([]);

export class AppendPlan {
  readonly entries: AppendEntry[];
  readonly results: AppendedRecord[];
  /** filled by beforeWrite, in log order */
  readonly decoded: DecodedEntry[];
  private readonly queues: Array<QueueRef | undefined>;
  private readonly offsets: number[];

  /** Checks sizes and plans offsets; throws MessageTooLargeError before anything is changed. */
  constructor(
    private readonly records: readonly AppendRecord[],
    private readonly ctx: AppendPlanContext,
  ) {
    const n = records.length;
    const { maxEntrySize, maxBatchEntries, maxBatchBytes } = ctx.limits;
    if (n > maxBatchEntries) throw new MessageTooLargeError(`a batch of ${n} records exceeds the log's ${maxBatchEntries} entries per append`);
    this.entries = new Array<AppendEntry>(n);
    this.queues = new Array<QueueRef | undefined>(n);
    this.results = new Array<AppendedRecord>(n);
    this.decoded = new Array<DecodedEntry>(n);
    this.offsets = new Array<number>(n);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      const body = r.kind === 'metadata' ? r.body : r.record;
      const size = ENTRY_HEADER_SIZE + body.length;
      if (size > maxEntrySize) {
        throw new MessageTooLargeError(`record ${i}: ${body.length} bytes, the log holds records of at most ${maxEntrySize - ENTRY_HEADER_SIZE} bytes`);
      }
      bytes += size;
      if (r.kind === 'metadata') {
        if (!Number.isInteger(r.magic) || r.magic < EntryMagic.METADATA_MIN || r.magic > EntryMagic.METADATA_MAX) {
          throw new RangeError(`record ${i}: metadata magic ${r.magic} is outside ${EntryMagic.METADATA_MIN}..${EntryMagic.METADATA_MAX}`);
        }
        this.entries[i] = { magic: r.magic, term: ctx.term, body };
      } else {
        this.entries[i] = { magic: EntryMagic.MESSAGE, term: ctx.term, body };
        this.queues[i] = r;
      }
    }
    if (bytes > maxBatchBytes) throw new MessageTooLargeError(`a batch of ${bytes} bytes exceeds the log's ${maxBatchBytes} bytes per append`);
    ctx.assigner.plan(this.queues, this.offsets);
  }

  /** The log's beforeWrite hook. Throws MessageIllegalError for a record the index cannot take. */
  readonly beforeWrite = (i: number, index: number, pos: number): void => {
    const r = this.records[i]!;
    const ts = this.ctx.storeTimestamp;
    if (r.kind === 'metadata') {
      let dispatches: readonly DispatchRequest[] = NO_DISPATCHES;
      if (this.ctx.decodeMetadata) {
        try {
          dispatches = this.ctx.decodeMetadata({ magic: r.magic, index, term: this.ctx.term, pos, body: r.body });
        } catch (e) {
          throw new MessageIllegalError(`metadata record ${i} (magic ${r.magic}) does not decode: ${(e as Error).message}`, { cause: e });
        }
        if (dispatches.length > MAX_DISPATCHES_PER_APPLY) throw new MessageIllegalError(`metadata record ${i} decodes to ${dispatches.length} records, over ${MAX_DISPATCHES_PER_APPLY}`);
      }
      this.decoded[i] = { index, pos, dispatches };
      this.results[i] = { index, queueOffset: -1, physicalOffset: pos + ENTRY_HEADER_SIZE, storeTimestamp: ts, size: r.body.length };
      return;
    }
    const rec = r.record;
    const queueOffset = this.offsets[i]!;
    const physicalOffset = pos + ENTRY_HEADER_SIZE;
    const storeTimestamp = r.keepStoreTimestamp ?? ts;
    let dispatch: DispatchRequest;
    try {
      setQueueOffset(rec, 0, queueOffset);
      setPhysicalOffset(rec, 0, physicalOffset);
      setStoreTimestamp(rec, 0, storeTimestamp);
      // decoded after patching: tagsCode of delayed messages depends on the store time
      dispatch = dispatchFromMessageRecord(index, pos, rec, this.ctx.dispatchOptions);
    } catch (e) {
      throw new MessageIllegalError(`record ${i} is not a stored message the index can take: ${(e as Error).message}`, { cause: e });
    }
    if (dispatch.topic !== r.topic || dispatch.queueId !== r.queueId) {
      throw new MessageIllegalError(`record ${i} holds ${dispatch.topic}:${dispatch.queueId} but was appended for ${r.topic}:${r.queueId}`);
    }
    this.decoded[i] = { index, pos, dispatches: [dispatch] };
    this.results[i] = { index, queueOffset, physicalOffset, storeTimestamp, size: rec.length };
  };

  /**
   * The Raft leader's write hook: record i was checked and patched by beforeWrite already (at a
   * placeholder position, before it was proposed); only its place in the log is new, so only
   * the physical offset, the result and the decoded dispatches change.
   */
  readonly placed = (i: number, index: number, pos: number): void => {
    const r = this.records[i]!;
    const physicalOffset = pos + ENTRY_HEADER_SIZE;
    if (r.kind !== 'metadata') setPhysicalOffset(r.record, 0, physicalOffset);
    // in place: the plan made these objects at the placeholder, and nothing else holds them yet
    const res = this.results[i]!;
    res.index = index;
    res.physicalOffset = physicalOffset;
    // what the index will apply, at the real place: the leader applies it without decoding the record again
    const d = this.decoded[i];
    if (d) {
      d.index = index;
      d.pos = pos;
      for (const x of d.dispatches) {
        x.index = index;
        x.pos = pos;
        if (x.kind === 'message') x.physicalOffset = physicalOffset;
      }
    }
  };

  /** The log accepted the batch: the planned offsets are taken. */
  accepted(): void {
    this.ctx.assigner.take(this.queues, this.offsets);
  }
}
