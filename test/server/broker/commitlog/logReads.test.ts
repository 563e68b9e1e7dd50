// CommitLogReads.readMessages, the PULL body: records from the files and from the log's memory
// (appended, not yet written) back to back, records retention removed left out, and a place
// that holds something else refused.
import t from 'tap';
import { CommitLogReads } from '../../../../server/broker/commitlog/logReads.js';
import type { IndexStore } from '../../../../storage/index/IndexStore.js';
import { ENTRY_HEADER_SIZE, EntryMagic } from '../../../../storage/log/entryCodec.js';
import { LogCorruptionError } from '../../../../storage/log/LogCorruptionError.js';
import type { LogWriter, WriteGroup, WriterProgress } from '../../../../storage/log/LogWriter.js';
import type { SegmentedLog } from '../../../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../../../storage/log/SyncLogWriter.js';
import { tempDir } from '../../../helpers/processes.js';
import { bodyFor, openSmall } from '../../../storage/log/logTestKit.js';

/** Holds submitted groups until the test lets them through to a SyncLogWriter: bytes not on disk yet. */
class HoldingWriter implements LogWriter {
  private readonly inner = new SyncLogWriter();
  private readonly held: WriteGroup[] = [];
  submit(group: WriteGroup): void {
    this.held.push(group);
  }
  letThrough(): void {
    for (const g of this.held.splice(0)) this.inner.submit(g);
  }
  progress(): WriterProgress {
    return this.inner.progress();
  }
  onProgress(l: (p: WriterProgress) => void): void {
    this.inner.onProgress(l);
  }
  onError(l: (e: Error) => void): void {
    this.inner.onError(l);
  }
  flush(): Promise<number> {
    this.letThrough();
    return this.inner.flush();
  }
  truncate(file: string, length: number): Promise<void> {
    return this.inner.truncate(file, length);
  }
  release(file: string): Promise<void> {
    this.letThrough();
    return this.inner.release(file);
  }
  close(): Promise<void> {
    this.letThrough();
    return this.inner.close();
  }
}

class Reads extends CommitLogReads {
  constructor(private readonly log: SegmentedLog) {
    super(undefined as unknown as IndexStore);
  }
  get storage(): SegmentedLog {
    return this.log;
  }
}

interface Place {
  physicalOffset: number;
  size: number;
  body: Buffer;
}

/** Appends messages (every `noopEvery`-th entry a no-op, which no place points at); returns the places of the messages. */
function append(log: SegmentedLog, from: number, count: number, noopEvery = 4): Place[] {
  const entries = Array.from({ length: count }, (_, k) => ({ magic: (from + k) % noopEvery === 3 ? EntryMagic.NOOP : EntryMagic.MESSAGE, term: 1, body: bodyFor(from + k) }));
  const r = log.append(entries);
  const out: Place[] = [];
  entries.forEach((e, k) => {
    if (e.magic === EntryMagic.MESSAGE) out.push({ physicalOffset: r.positions[k]! + ENTRY_HEADER_SIZE, size: e.body.length, body: e.body });
  });
  return out;
}

t.test('records from the files and from memory, back to back; removed ones left out', async (t) => {
  const writer = new HoldingWriter();
  const { log } = await openSmall(tempDir(t), { writer });
  t.teardown(() => log.close());
  const reads = new Reads(log);

  const onDisk: Place[] = [];
  for (let b = 0; b < 8; b++) onDisk.push(...append(log, b * 7, 7));
  writer.letThrough();
  await log.whenWritten(log.endPosition);
  const pending = append(log, 56, 9);
  t.ok(log.writtenPosition < log.endPosition, 'the last batch is held in memory, not on disk');

  const all = [...onDisk, ...pending];
  const whole = reads.readMessages(all);
  t.equal(whole.count, all.length);
  t.same(whole.body, Buffer.concat(all.map((p) => p.body)), 'every record in order, across files and into memory');

  const queue = all.filter((_, i) => i % 3 === 1);
  const some = reads.readMessages(queue);
  t.equal(some.count, queue.length);
  t.same(some.body, Buffer.concat(queue.map((p) => p.body)), 'a queue whose records are spread out');

  const wrong = [{ ...onDisk[4]!, size: onDisk[4]!.size - 1 }];
  t.throws(() => reads.readMessages(wrong), LogCorruptionError, 'a size the header does not say, on disk');
  t.throws(() => reads.readMessages([{ ...pending[1]!, size: 5 }]), RangeError, 'and in memory');

  writer.letThrough();
  await log.whenWritten(log.endPosition);
  const firstKept = log.dataSegments[2]!.start;
  await log.dropPrefix(log.entryAtPosition(firstKept).index);
  const kept = all.filter((p) => p.physicalOffset - ENTRY_HEADER_SIZE >= firstKept);
  t.ok(kept.length > 0 && kept.length < all.length, 'retention removed the first files');
  const after = reads.readMessages(all);
  t.equal(after.count, kept.length, 'the count leaves the removed records out');
  t.same(after.body, Buffer.concat(kept.map((p) => p.body)));
  t.same(reads.readMessages(all.slice(0, 2)), { body: Buffer.alloc(0), count: 0 }, 'nothing left: an empty body');
});

t.test('after a truncation, records written again at the same places are read as they are now, not as kept', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  const reads = new Reads(log);
  const old = append(log, 0, 12, 1); // all messages, no no-op
  await log.whenWritten(log.endPosition);
  const queue = old.filter((_, i) => i % 2 === 0);
  t.same(reads.readMessages(queue).body, Buffer.concat(queue.map((p) => p.body)), 'the first records');
  // cut from the fifth entry and write other records of the same sizes in a later term
  const cutAt = 4;
  await log.truncateSuffix(cutAt);
  const again = Array.from({ length: 12 - cutAt }, (_, k) => ({ magic: EntryMagic.MESSAGE, term: 2, body: bodyFor(5000 + k, old[cutAt + k]!.size) }));
  const r = log.append(again);
  await log.whenWritten(log.endPosition);
  const now: Place[] = [...old.slice(0, cutAt), ...again.map((e, k) => ({ physicalOffset: r.positions[k]! + ENTRY_HEADER_SIZE, size: e.body.length, body: e.body }))];
  t.same(now.map((p) => p.physicalOffset), old.map((p) => p.physicalOffset), 'the new records sit where the old ones did');
  const read = reads.readMessages(now.filter((_, i) => i % 2 === 0));
  t.same(read.body, Buffer.concat(now.filter((_, i) => i % 2 === 0).map((p) => p.body)), 'their bodies now, not the ones read before the truncation');
});
