// The indexes are rebuilt from the log: the Java DLedger store's consume queues come out as the
// Java broker wrote them, a deleted index folder comes back identical, and an index that is ahead
// of a cut log is trimmed.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { IndexStore, type ConsumeQueueEntry } from '../../storage/index/IndexStore.js';
import { LogIndexer } from '../../storage/LogIndexer.js';
import { EntryMagic } from '../../storage/log/entryCodec.js';
import { SegmentedLog } from '../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../storage/log/SyncLogWriter.js';
import { setPhysicalOffset } from '../../protocol/message/index.js';
import { storedRecord } from '../helpers/storedRecord.js';
import { tempDir } from '../helpers/processes.js';
import { extractStore, manifestStore } from '../helpers/storeManifest.js';

async function allQueues(index: IndexStore): Promise<Record<string, ConsumeQueueEntry[]>> {
  const out: Record<string, ConsumeQueueEntry[]> = {};
  for (const q of index.queues()) {
    out[`${q.topic}/${q.queueId}`] = await index.readConsumeQueue(q.topic, q.queueId, q.min, q.max - q.min + 1);
  }
  return out;
}

/** Java's consume-queue files: 20-byte units (offset i64, size i32, tagsCode i64) until a zero unit. */
function javaConsumeQueues(root: string): Record<string, Array<{ physicalOffset: number; size: number; tagsCode: number }>> {
  const out: Record<string, Array<{ physicalOffset: number; size: number; tagsCode: number }>> = {};
  const cqRoot = path.join(root, 'consumequeue');
  for (const topic of fs.readdirSync(cqRoot)) {
    for (const qid of fs.readdirSync(path.join(cqRoot, topic))) {
      const units: Array<{ physicalOffset: number; size: number; tagsCode: number }> = [];
      for (const file of fs.readdirSync(path.join(cqRoot, topic, qid)).sort()) {
        const b = fs.readFileSync(path.join(cqRoot, topic, qid, file));
        for (let p = 0; p + 20 <= b.length; p += 20) {
          const size = b.readInt32BE(p + 8);
          if (size === 0) break;
          units.push({ physicalOffset: Number(b.readBigInt64BE(p)), size, tagsCode: Number(b.readBigInt64BE(p + 12)) });
        }
      }
      if (units.length > 0) out[`${topic}/${qid}`] = units;
    }
  }
  return out;
}

t.test('the Java DLedger store: our consume queues equal the Java broker\'s, and a rebuild gives the same', async (t) => {
  const root = tempDir(t);
  extractStore(manifestStore('dledger-node2'), root);
  const storeRoot = path.join(root, 'node2');
  const log = await SegmentedLog.open({ dir: path.join(storeRoot, 'dledger-n2'), writer: new SyncLogWriter(), dataSegmentSize: 1024 * 1024 });
  t.teardown(() => log.close());
  const dbDir = path.join(root, 'index-db');
  let index = await IndexStore.open(dbDir);
  const report = await new LogIndexer(log, index).catchUp();
  t.equal(report.entries, 11);
  t.equal(index.applied.index, 10, 'the checkpoint reached the last entry');

  const ours = await allQueues(index);
  const java = javaConsumeQueues(storeRoot);
  const oursComparable = Object.fromEntries(
    Object.entries(ours).map(([k, list]) => [k, list.map((e) => ({ physicalOffset: e.physicalOffset, size: e.size, tagsCode: e.tagsCode }))]),
  );
  t.same(oursComparable, java, 'every queue, offset, size and tags code as the Java broker dispatched them');

  await index.close();
  fs.rmSync(dbDir, { recursive: true });
  index = await IndexStore.open(dbDir);
  t.equal(index.applied.index, -1, 'a missing folder starts empty');
  await new LogIndexer(log, index).catchUp();
  t.same(await allQueues(index), ours, 'rebuilt from the log: identical');
  await index.close();

  fs.mkdirSync(dbDir, { recursive: true });
  for (const f of fs.readdirSync(dbDir)) fs.writeFileSync(path.join(dbDir, f), 'garbage');
  index = await IndexStore.open(dbDir);
  await new LogIndexer(log, index).catchUp();
  t.same(await allQueues(index), ours, 'a damaged folder is rebuilt from the log too');
  await index.close();
});

t.test('an index ahead of a cut log is trimmed, then catches up again', async (t) => {
  const root = tempDir(t);
  const log = await SegmentedLog.open({ dir: path.join(root, 'log'), writer: new SyncLogWriter(), dataSegmentSize: 64 * 1024, indexSegmentSize: 4096 });
  t.teardown(() => log.close());
  const record = (queueOffset: number, physicalOffset: number): Buffer =>
    storedRecord({
      topic: 'T',
      queueOffset,
      physicalOffset,
      storeTimestamp: 1000 + queueOffset,
      body: Buffer.from(`m${queueOffset}`),
      properties: { TAGS: 'a', KEYS: `k${queueOffset}` },
    });
  for (let i = 0; i < 20; i++) {
    const body = record(i, 0);
    log.append([{ magic: EntryMagic.MESSAGE, term: 1, body }], { beforeWrite: (_i, _index, pos) => setPhysicalOffset(body, 0, pos + 48) });
    await log.whenWritten(log.endPosition);
  }
  const index = await IndexStore.open(path.join(root, 'index-db'));
  t.teardown(() => index.close());
  const indexer = new LogIndexer(log, index);
  await indexer.catchUp();
  t.equal(index.maxOffset('T', 0), 20);
  await log.truncateSuffix(15);
  const report = await indexer.catchUp();
  t.equal(report.removedMessages, 5, 'five index entries pointed past the new end');
  t.equal(index.maxOffset('T', 0), 15);
  t.same(await index.queryByKey('T', 'k17', 10, 0, Number.MAX_SAFE_INTEGER), [], 'their keys are gone too');
  for (let i = 15; i < 18; i++) {
    const body = record(i, 0);
    log.append([{ magic: EntryMagic.MESSAGE, term: 2, body }], { beforeWrite: (_i, _index, pos) => setPhysicalOffset(body, 0, pos + 48) });
  }
  await log.whenWritten(log.endPosition);
  await indexer.catchUp();
  t.equal(index.maxOffset('T', 0), 18);
  t.equal(index.applied.index, 17);
});
