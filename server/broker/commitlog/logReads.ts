// The read side both commit logs share: stored messages out of the segmented log by commit-log
// offset (pos + 48), and consume-queue bounds and entries out of the IndexStore.
import type { ConsumeQueueEntry, IndexStore } from '../../../storage/index/IndexStore.js';
import { ENTRY_HEADER_SIZE, EntryMagic } from '../../../storage/log/entryCodec.js';
import type { SegmentedLog } from '../../../storage/log/SegmentedLog.js';

export abstract class CommitLogReads {
  constructor(protected readonly indexStore: IndexStore) {}

  /** the log the records are read from */
  abstract get storage(): SegmentedLog;

  /** The record of a consume-queue entry (offset, size); undefined when retention removed it. Throws when the log holds something else there. */
  readMessage(physicalOffset: number, size: number): Buffer | undefined {
    const log = this.storage;
    const pos = physicalOffset - ENTRY_HEADER_SIZE;
    if (!Number.isSafeInteger(pos) || pos < log.startPosition || pos >= log.endPosition) return undefined;
    const e = log.entryAtPosition(pos);
    if (e.magic !== EntryMagic.MESSAGE || e.body.length !== size) {
      throw new RangeError(`commit-log offset ${physicalOffset} holds an entry of kind ${e.magic} and ${e.body.length} bytes, not a ${size}-byte message`);
    }
    return e.body;
  }

  /** The record at an offset a client gave (message id, send-back); undefined when no message starts there. */
  readMessageAt(physicalOffset: number): Buffer | undefined {
    const log = this.storage;
    const pos = physicalOffset - ENTRY_HEADER_SIZE;
    if (!Number.isSafeInteger(pos) || pos < log.startPosition || pos >= log.endPosition) return undefined;
    try {
      const e = log.entryAtPosition(pos);
      return e.magic === EntryMagic.MESSAGE ? e.body : undefined;
    } catch {
      // an offset made up, or one inside an entry
      return undefined;
    }
  }

  minOffset(topic: string, queueId: number): number {
    return this.indexStore.minOffset(topic, queueId);
  }

  maxOffset(topic: string, queueId: number): number {
    return this.indexStore.maxOffset(topic, queueId);
  }

  readConsumeQueue(topic: string, queueId: number, fromOffset: number, maxCount: number): Promise<ConsumeQueueEntry[]> {
    return this.indexStore.readConsumeQueue(topic, queueId, fromOffset, maxCount);
  }
}
