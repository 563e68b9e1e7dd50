// The classic import's pieces without a broker: the progress record and how the index keeps it,
// and the planner that cuts the Java 4.9.8 classic commit log (test/fixtures/store) into
// bounded batches, skips records the group holds already and leaves transaction halves out.
import path from 'node:path';
import t, { type Test } from 'tap';
import { TransactionType, decodeStoredMessage, setPhysicalOffset } from '../../../protocol/message/index.js';
import { ClassicImportPlanner, importedRecord, type ClassicBatch, type ImportedQueues } from '../../../server/broker/ClassicImport.js';
import type { MessageAppendRecord } from '../../../server/broker/commitlog/CommitLog.js';
import {
  CLASSIC_IMPORT_SLOT,
  MetadataDecodeError,
  MetadataMagic,
  classicImportProgressFromSlots,
  classicImportRecord,
  decodeBrokerMetadata,
  type ClassicImportProgress,
} from '../../../server/broker/metadata/BrokerMetadata.js';
import { ClassicCommitLog, type ClassicRecord } from '../../../storage/classic/ClassicCommitLog.js';
import type { DelayOffsetsDispatch } from '../../../storage/index/DispatchRequest.js';
import { tempDir } from '../../helpers/processes.js';
import { extractStore, manifestStore } from '../../helpers/storeManifest.js';
import { storedRecord } from '../../helpers/storedRecord.js';

const store = manifestStore('classic');
const SEGMENT = store.broker.mappedFileSizeCommitLog;
const END = 3435;

async function openFixture(t: Test): Promise<ClassicCommitLog> {
  const dir = tempDir(t, 'raftmq-classic-plan-');
  extractStore(store, dir);
  return ClassicCommitLog.open(path.join(dir, store.root, 'commitlog'), { segmentSize: SEGMENT });
}

function start(end = END): ClassicImportProgress {
  return { importer: 'n0', start: 0, next: 0, end, records: 0, skipped: 0, done: false };
}

const empty: ImportedQueues = { maxOffset: () => 0 };

async function allBatches(planner: ClassicImportPlanner): Promise<ClassicBatch[]> {
  const out: ClassicBatch[] = [];
  for (let b = await planner.next(); b !== undefined; b = await planner.next()) out.push(b);
  return out;
}

function applyProgress(p: ClassicImportProgress): ClassicImportProgress | undefined {
  const r = classicImportRecord(p);
  const [d] = decodeBrokerMetadata({ magic: r.magic, index: 7, term: 1, pos: 700, body: r.body }) as DelayOffsetsDispatch[];
  return classicImportProgressFromSlots(new Map(d!.offsets.map((o) => [o.level, o.offset])));
}

t.test('the progress record goes through the index and back unchanged; a broken one is refused', async (t) => {
  const p: ClassicImportProgress = { importer: 'n12', start: 4096, next: 90_000_000_123, end: 2 ** 40, records: 123_456, skipped: 3, done: false };
  t.same(applyProgress(p), p);
  t.same(applyProgress({ ...p, importer: '', done: true }), { ...p, importer: '', done: true }, 'a single-node import has no importer id');
  const r = classicImportRecord(p);
  t.equal(r.magic, MetadataMagic.CLASSIC_IMPORT);
  const [d] = decodeBrokerMetadata({ magic: r.magic, index: 1, term: 1, pos: 0, body: r.body }) as DelayOffsetsDispatch[];
  t.equal(d!.kind, 'delayOffsets');
  t.ok(d!.offsets.every((o) => o.level >= CLASSIC_IMPORT_SLOT.STATE && o.level <= CLASSIC_IMPORT_SLOT.SKIPPED), 'only the reserved slots, no real delay level');
  t.equal(classicImportProgressFromSlots(new Map([[3, 1]])), undefined, 'real delay offsets alone are no import');

  const bad = (body: unknown): void => {
    t.throws(() => decodeBrokerMetadata({ magic: MetadataMagic.CLASSIC_IMPORT, index: 2, term: 1, pos: 0, body: Buffer.from(JSON.stringify(body)) }), MetadataDecodeError);
  };
  bad({ ...p, importer: 'node-0' });
  bad({ ...p, next: p.end + 1 });
  bad({ ...p, start: p.next + 1 });
  bad({ ...p, records: -1 });
  bad({ ...p, done: 'yes' });
});

t.test('the fixture in batches of 4: every record once, in order, each batch with its progress last', async (t) => {
  const log = await openFixture(t);
  const batches = await allBatches(new ClassicImportPlanner(log.iterate(), start(), empty, { maxBytes: 1 << 20, maxMessages: 4 }));
  t.same(batches.map((b) => b.messages), [4, 4, 3]);
  const messages = batches.flatMap((b) => b.records.slice(0, -1) as MessageAppendRecord[]);
  t.equal(messages.length, store.messageCount);
  for (const [i, m] of store.messages.entries()) {
    const r = messages[i]!;
    t.match(r, { topic: m.topic, queueId: m.queueId, keepQueueOffset: m.queueOffset, keepStoreTimestamp: m.storeTimestamp }, `record ${i} keeps its queue and time`);
    const back = decodeStoredMessage(r.record);
    t.equal(back.physicalOffset, m.physicalOffset, 'the bytes are the classic ones (the log patches the offset later)');
    t.equal(back.body.toString('hex'), m.storedBodyHex);
  }
  for (const [i, b] of batches.entries()) {
    const last = b.records[b.records.length - 1]!;
    t.equal(last.kind, 'metadata');
    const following = store.messages[batches.slice(0, i + 1).reduce((n, x) => n + x.messages, 0)];
    t.equal(b.progress.next, following ? following.physicalOffset : END, `batch ${i} says where the next one starts`);
    t.same(applyProgress(b.progress), b.progress);
  }
  t.match(batches[2]!.progress, { records: 11, skipped: 0, next: END, done: false }, 'done is written by the importer, after the config');
});

t.test('a batch stops at maxBytes, but a record larger than that goes alone', async (t) => {
  const log = await openFixture(t);
  const batches = await allBatches(new ClassicImportPlanner(log.iterate(), start(), empty, { maxBytes: 520, maxMessages: 256 }));
  for (const b of batches) {
    const bytes = b.records.slice(0, -1).reduce((n, r) => n + (r as MessageAppendRecord).record.length, 0);
    t.ok(b.messages === 1 || bytes <= 520, `${b.messages} records, ${bytes} bytes`);
  }
  t.ok(batches.some((b) => b.messages === 1 && (b.records[0] as MessageAppendRecord).record.length > 520), 'the 594-byte compressed record has a batch of its own');
  t.equal(batches.reduce((n, b) => n + b.messages, 0), store.messageCount);
});

t.test('after a batch cut short by a crash, the records that committed are found in the queues and not proposed again', async (t) => {
  const log = await openFixture(t);
  // the first batch of 4 proposed; the first 3 committed, its progress record and the 4th did not
  const committed = store.messages.slice(0, 3);
  const queues: ImportedQueues = {
    maxOffset: (topic, queueId) => {
      const mine = committed.filter((m) => m.topic === topic && m.queueId === queueId);
      return mine.length === 0 ? 0 : Math.max(...mine.map((m) => m.queueOffset)) + 1;
    },
  };
  const batches = await allBatches(new ClassicImportPlanner(log.iterate(0), start(), queues, { maxBytes: 1 << 20, maxMessages: 4 }));
  t.equal(batches[0]!.present, 3);
  const proposed = batches.flatMap((b) => b.records.slice(0, -1) as MessageAppendRecord[]);
  t.same(
    proposed.map((r) => `${r.topic}:${r.queueId}:${r.keepQueueOffset}`),
    store.messages.slice(3).map((m) => `${m.topic}:${m.queueId}:${m.queueOffset}`),
    'exactly the records that did not commit',
  );
  t.equal(batches[batches.length - 1]!.progress.records, 11, 'the present ones count as imported');
});

t.test('resuming from a progress record starts at its next offset', async (t) => {
  const log = await openFixture(t);
  const fifth = store.messages[4]!;
  const from = { ...start(), next: fifth.physicalOffset, records: 4 };
  const batches = await allBatches(new ClassicImportPlanner(log.iterate(from.next), from, empty, { maxBytes: 1 << 20, maxMessages: 256 }));
  t.equal(batches.length, 1);
  t.equal(batches[0]!.messages, 7);
  t.equal((batches[0]!.records[0] as MessageAppendRecord).keepQueueOffset, fifth.queueOffset);
  t.equal(batches[0]!.progress.records, 11);
  t.equal(await new ClassicImportPlanner(log.iterate(END), { ...from, next: END }, empty).next(), undefined, 'nothing left at the end');
});

t.test('transaction halves and rolled-back records are left out and counted', async (t) => {
  let offset = 0;
  const records: ClassicRecord[] = [];
  const add = (sysFlag: number, queueOffset: number): void => {
    const bytes = storedRecord({ topic: 'TxTopic', queueId: 1, body: Buffer.from(`m${records.length}`), sysFlag, queueOffset, storeTimestamp: 1000 + records.length });
    setPhysicalOffset(bytes, 0, offset);
    records.push({ physicalOffset: offset, bytes, message: decodeStoredMessage(bytes) });
    offset += bytes.length;
  };
  add(0, 0);
  add(TransactionType.PREPARED, 0);
  add(TransactionType.COMMIT, 1);
  add(TransactionType.ROLLBACK, 0);
  add(0, 2);
  async function* source(): AsyncGenerator<ClassicRecord> {
    yield* records;
  }
  const planner = new ClassicImportPlanner(source(), start(offset), empty);
  const b = await planner.next();
  t.equal(await planner.next(), undefined);
  t.equal(b!.messages, 3);
  t.equal(b!.skipped, 2);
  t.same((b!.records.slice(0, -1) as MessageAppendRecord[]).map((r) => r.keepQueueOffset), [0, 1, 2]);
  t.match(b!.progress, { next: offset, records: 3, skipped: 2 });
  const copy = importedRecord(records[0]!).record;
  t.same(copy, records[0]!.bytes, 'an imported record has the classic bytes');
  copy[20] = 0x7f;
  t.not(records[0]!.bytes[20], 0x7f, 'in a copy of their own: patching it leaves the read chunk alone');
});

t.test('batch limits must be positive', async (t) => {
  t.throws(() => new ClassicImportPlanner((async function* () {})(), start(), empty, { maxBytes: 0, maxMessages: 1 }), RangeError);
});
