// Reading stored messages back out of the segmented log by commit-log offset (pos + 48); the
// same for the local and the Raft commit log.
import { ENTRY_HEADER_SIZE, EntryMagic } from '../../../storage/log/entryCodec.js';
import type { SegmentedLog } from '../../../storage/log/SegmentedLog.js';

/** The record of the consume-queue entry (offset, size); undefined when retention removed it. Throws when the log holds something else there. */
export function readMessage(log: SegmentedLog, physicalOffset: number, size: number): Buffer | undefined {
  const pos = physicalOffset - ENTRY_HEADER_SIZE;
  if (!Number.isSafeInteger(pos) || pos < log.startPosition || pos >= log.endPosition) return undefined;
  const e = log.entryAtPosition(pos);
  if (e.magic !== EntryMagic.MESSAGE || e.body.length !== size) {
    throw new RangeError(`commit-log offset ${physicalOffset} holds an entry of kind ${e.magic} and ${e.body.length} bytes, not a ${size}-byte message`);
  }
  return e.body;
}

/** The record at an offset a client gave (message id, send-back); undefined when no message starts there. */
export function readMessageAt(log: SegmentedLog, physicalOffset: number): Buffer | undefined {
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
