// The classic import on a real commit log and index (the single-node LocalCommitLog, no broker
// around it): the Java 4.9.8 classic store's records land with their queue offsets, store times
// and bytes; ordinary writes wait while it runs; an import stopped between batches and a batch
// cut short both resume without losing or repeating a record; a group that took writes first is
// not imported into; a leader without the files refuses writes and hands leadership back.
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { decodeStoredMessage } from '../../../protocol/message/index.js';
import { CLASSIC_IMPORTED_MARKER, ClassicImport, importedRecord, openClassicCommitLog, type ClassicImportOptions } from '../../../server/broker/ClassicImport.js';
import type { AppendRecord } from '../../../server/broker/commitlog/CommitLog.js';
import { CommitLogBusyError } from '../../../server/broker/commitlog/CommitLogError.js';
import { LocalCommitLog } from '../../../server/broker/commitlog/LocalCommitLog.js';
import { classicImportRecord, decodeBrokerMetadata, type ClassicImportProgress } from '../../../server/broker/metadata/BrokerMetadata.js';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';
import type { DiskGuard } from '../../../storage/retention/RetentionPolicy.js';
import { tempDir } from '../../helpers/processes.js';
import { extractStore, manifestStore, type ManifestMessage } from '../../helpers/storeManifest.js';
import { storedRecord } from '../../helpers/storedRecord.js';

const store = manifestStore('classic');
const SEGMENT = store.broker.mappedFileSizeCommitLog;

interface Node {
  root: string;
  log: LocalCommitLog;
  imp: ClassicImport;
  lines: string[];
}

/** A store folder holding the classic fixture's commitlog/ (and config/, unused here). */
function classicStore(t: Test): string {
  const dir = tempDir(t, 'raftmq-classic-log-');
  extractStore(store, dir);
  return path.join(dir, store.root);
}

async function openNode(root: string, opts: Partial<ClassicImportOptions> & { noClassic?: boolean; diskGuard?: () => DiskGuard } = {}): Promise<Node> {
  const lines: string[] = [];
  const logLine = (l: string): void => void lines.push(l);
  const classic = opts.noClassic ? undefined : await openClassicCommitLog(path.join(root, 'commitlog'), SEGMENT, root, logLine);
  let imp: ClassicImport | undefined;
  const log = await LocalCommitLog.open({
    logDir: path.join(root, 'raftlog'),
    indexDir: path.join(root, 'index-rocksdb'),
    writer: new SyncLogWriter(),
    decodeMetadata: decodeBrokerMetadata,
    writeHold: () => (imp ? imp.holdReason() : 'starting'),
    diskGuard: opts.diskGuard,
    log: logLine,
  });
  imp = await ClassicImport.start({ commitLog: log, selfId: '', classic, storeRoot: root, log: logLine, takesWrites: () => true, batchMessages: 2, retryMs: 20, ...opts });
  return { root, log, imp, lines };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function queuesOf(messages: readonly ManifestMessage[]): Map<string, ManifestMessage[]> {
  const out = new Map<string, ManifestMessage[]>();
  for (const m of messages) {
    const k = `${m.topic}:${m.queueId}`;
    out.set(k, [...(out.get(k) ?? []), m]);
  }
  return out;
}

/** Every manifest record is in the log exactly once, at its queue offset, with its fields; the physical offset is ours. */
async function checkImported(t: Test, log: LocalCommitLog): Promise<void> {
  for (const [key, msgs] of queuesOf(store.messages)) {
    const [topic, q] = key.split(':') as [string, string];
    const queueId = Number(q);
    t.equal(log.maxOffset(topic, queueId), msgs[msgs.length - 1]!.queueOffset + 1, `${key} ends where the Java queue ended`);
    const entries = await log.readConsumeQueue(topic, queueId, 0, 100);
    t.same(entries.map((e) => e.queueOffset), msgs.map((m) => m.queueOffset), `${key}: each record once, at its Java queue offset`);
    for (const [i, e] of entries.entries()) {
      const m = msgs[i]!;
      const got = decodeStoredMessage(log.readMessage(e.physicalOffset, e.size)!);
      t.match(
        {
          topic: got.topic,
          queueId: got.queueId,
          queueOffset: got.queueOffset,
          storeTimestamp: got.storeTimestamp,
          bornTimestamp: got.bornTimestamp,
          sysFlag: got.sysFlag,
          reconsumeTimes: got.reconsumeTimes,
          bornHost: `${got.bornHost.address}:${got.bornHost.port}`,
          storeHost: `${got.storeHost.address}:${got.storeHost.port}`,
          body: got.body.toString('hex'),
          properties: Object.fromEntries(got.properties),
        },
        {
          topic: m.topic,
          queueId: m.queueId,
          queueOffset: m.queueOffset,
          storeTimestamp: m.storeTimestamp,
          bornTimestamp: m.bornTimestamp,
          sysFlag: m.sysFlag,
          reconsumeTimes: m.reconsumeTimes,
          bornHost: m.bornHost,
          storeHost: m.storeHost,
          body: m.storedBodyHex,
          properties: m.properties,
        },
        `${key}@${m.queueOffset}`,
      );
      t.equal(got.physicalOffset, e.physicalOffset, 'the record carries its new commit-log offset');
    }
  }
}

t.test('a classic store imported into the single-node log: every record, then ordinary writes continue the queues', async (t) => {
  const root = classicStore(t);
  const n = await openNode(root);
  t.teardown(() => n.log.close());
  t.equal(n.log.isWritable, false, 'writes wait for the import');
  t.ok(n.imp.hasRecordsToImport);
  await t.rejects(n.log.append([{ record: storedRecord({ topic: 'FxTopic', queueId: 2, body: Buffer.from('x') }), topic: 'FxTopic', queueId: 2 }]), CommitLogBusyError);
  n.imp.takingWrites();
  t.ok(n.imp.hidesGroup, 'out of the routes while it runs');
  await until('import done', () => n.imp.progress?.done === true && n.log.isWritable);
  t.match(n.imp.progress, { importer: '', start: 0, next: 3435, end: 3435, records: 11, skipped: 0, done: true });
  t.notOk(n.imp.hidesGroup);
  await checkImported(t, n.log);
  const uniq = store.messages[1]!.properties.UNIQ_KEY!;
  t.equal((await n.log.index.getByUniqKey(uniq)).length, 1, 'UNIQ_KEY ids still find their message');
  t.match(fs.readFileSync(path.join(root, CLASSIC_IMPORTED_MARKER), 'utf8'), /imported: 11 records \(classic offsets 0\.\.3435\)/);
  t.ok(n.lines.some((l) => /imported the classic commit log .*: 11 records/.test(l)), 'one line with the counts');
  t.equal(fs.statSync(path.join(root, 'commitlog', '00000000000000000000')).size, SEGMENT, 'the classic file is left as it was');

  const r = await n.log.append([{ record: storedRecord({ topic: 'FxTopic', queueId: 2, body: Buffer.from('after') }), topic: 'FxTopic', queueId: 2 }]);
  t.equal(r.records[0]!.queueOffset, 4, 'a new message continues after the Java queue offsets');
  t.ok(r.records[0]!.storeTimestamp >= store.messages[10]!.storeTimestamp, 'and is stored at the present time');

  await n.log.close();
  const again = await openClassicCommitLog(path.join(root, 'commitlog'), SEGMENT, root, () => undefined);
  t.equal(again, undefined, 'the marker keeps the classic log from being scanned again');
});

t.test('an import stopped between batches, then a batch cut short, resumes: nothing lost, nothing twice', async (t) => {
  const root = classicStore(t);
  // the node stops taking writes after two batches of 2 (asked once by takingWrites, then before each batch)
  let asked = 0;
  let n = await openNode(root, { takesWrites: () => asked++ < 3 });
  n.imp.takingWrites();
  await until('two batches applied', () => n.imp.progress?.records === 4);
  await n.imp.stop();
  const p = n.imp.progress as ClassicImportProgress;
  t.match(p, { records: 4, next: store.messages[4]!.physicalOffset, done: false }, 'stopped after two batches');
  t.equal(n.log.isWritable, false, 'an unfinished import still holds writes');
  await t.rejects(
    n.log.append([{ record: storedRecord({ topic: 'FxTopic', queueId: 2, body: Buffer.from('x') }), topic: 'FxTopic', queueId: 2 }]),
    { name: 'CommitLogBusyError', message: /importing the classic commit log .*: \d+ records so far, offset \d+ of 3435/ },
    'sends hear SYSTEM_BUSY and how far the import is',
  );

  // a crash in the middle of the next batch: its first record committed, its progress record did not
  const classic = (await openClassicCommitLog(path.join(root, 'commitlog'), SEGMENT, root, () => undefined))!;
  const cut = await classic.readAt(p.next);
  const extra: AppendRecord[] = [importedRecord(cut)];
  await n.log.append(extra, { pastHold: true });
  await n.log.close();

  n = await openNode(root);
  t.teardown(() => n.log.close());
  t.match(n.imp.progress, { records: p.records, done: false }, 'the applied state says where it stood');
  t.ok(n.imp.hidesGroup);
  n.imp.takingWrites();
  await until('import done', () => n.imp.progress?.done === true);
  t.equal(n.imp.progress!.records, 11, 'the record of the cut batch counts once');
  t.ok(n.lines.some((l) => /resuming the classic commit log import at offset/.test(l)));
  await checkImported(t, n.log);
});

t.test('an append refused with batches in flight leaves no gap: the import pauses and goes on from the applied state', async (t) => {
  const root = classicStore(t);
  // appends 1 (the start record) and 2-3 (batches) are taken, 4-6 refused (a full disk), then taken again
  let appends = 0;
  const n = await openNode(root, {
    batchMessages: 1,
    batchesInFlight: 4,
    diskGuard: () => (++appends >= 4 && appends <= 6 ? { writable: false, reason: 'test: the disk is full' } : { writable: true }),
  });
  t.teardown(() => n.log.close());
  n.imp.takingWrites();
  await until('import done', () => n.imp.progress?.done === true);
  t.ok(n.lines.some((l) => /import paused, trying again while this node takes writes: test: the disk is full/.test(l)), 'the refusal is logged once');
  t.equal(n.imp.progress!.records, 11);
  await checkImported(t, n.log);
});

t.test('a kept queue offset starts an empty queue there, moves the queue past it, and never goes back', async (t) => {
  const root = tempDir(t, 'raftmq-classic-kept-');
  const log = await LocalCommitLog.open({ logDir: path.join(root, 'raftlog'), indexDir: path.join(root, 'index-rocksdb'), writer: new SyncLogWriter(), decodeMetadata: decodeBrokerMetadata });
  t.teardown(() => log.close());
  const rec = (text: string, keep?: number): AppendRecord => ({
    record: storedRecord({ topic: 'Old', queueId: 3, body: Buffer.from(text), storeTimestamp: 1234 }),
    topic: 'Old',
    queueId: 3,
    ...(keep === undefined ? {} : { keepQueueOffset: keep, keepStoreTimestamp: 1234 }),
  });
  // a classic log whose older segments were deleted: its first record of the queue is at offset 100
  const r = await log.append([rec('a', 100), rec('b', 101)]);
  t.same(r.records.map((x) => [x.queueOffset, x.storeTimestamp]), [[100, 1234], [101, 1234]], 'offsets and store times kept');
  await until('applied', () => log.appliedIndex >= r.lastIndex);
  t.equal(log.minOffset('Old', 3), 100, 'the queue starts where the classic one did');
  t.equal(log.maxOffset('Old', 3), 102);
  await t.rejects(log.append([rec('again', 101)]), { name: 'MessageIllegalError', message: /keeps queue offset 101 of Old:3, below the queue's next offset 102/ });
  const next = await log.append([rec('new')]);
  t.equal(next.records[0]!.queueOffset, 102, 'an ordinary record continues after the kept ones');
  t.ok(next.records[0]!.storeTimestamp > 1234, 'at the present time');
});

t.test('a log that holds messages already is not imported into', async (t) => {
  const root = classicStore(t);
  const plain = await LocalCommitLog.open({ logDir: path.join(root, 'raftlog'), indexDir: path.join(root, 'index-rocksdb'), writer: new SyncLogWriter(), decodeMetadata: decodeBrokerMetadata });
  await plain.append([{ record: storedRecord({ topic: 'Other', body: Buffer.from('first') }), topic: 'Other', queueId: 0 }]);
  await plain.close();

  const n = await openNode(root);
  t.teardown(() => n.log.close());
  n.imp.takingWrites();
  t.equal(n.log.isWritable, true, 'writes go on');
  t.equal(n.imp.hasRecordsToImport, false);
  t.ok(n.lines.some((l) => /NOT importing the classic commit log/.test(l)), 'and the operator is told why');
  t.equal(n.log.maxOffset('FxTopic', 2), 0);
  t.notOk(fs.existsSync(path.join(root, CLASSIC_IMPORTED_MARKER)), 'no marker: the next start says it again');
});

t.test('a leader without the files refuses writes naming the importer and hands leadership to it', async (t) => {
  const root = tempDir(t, 'raftmq-classic-other-');
  const plain = await LocalCommitLog.open({ logDir: path.join(root, 'raftlog'), indexDir: path.join(root, 'index-rocksdb'), writer: new SyncLogWriter(), decodeMetadata: decodeBrokerMetadata });
  const unfinished: ClassicImportProgress = { importer: 'n0', start: 0, next: 1251, end: 3435, records: 5, skipped: 0, done: false };
  await plain.append([classicImportRecord(unfinished)]);
  await plain.close();

  const asked: string[] = [];
  const seen: boolean[] = [];
  const n = await openNode(root, {
    noClassic: true,
    selfId: 'n1',
    transferLeadership: async (to) => void asked.push(to),
    onVisibilityChange: (hidden) => void seen.push(hidden),
  });
  t.teardown(() => n.log.close());
  t.ok(n.imp.hidesGroup);
  t.same(seen, [true], 'hidden from the start');
  t.match(n.imp.holdReason(), /the import of n0's classic commit log is unfinished \(5 records, offset 1251 of 3435\); writes wait until n0 leads again/);
  n.imp.takingWrites();
  await until('leadership offered to n0', () => asked.length > 0);
  t.same(asked, ['n0']);
  await t.rejects(n.log.append([{ record: storedRecord({ topic: 'FxTopic', body: Buffer.from('x') }), topic: 'FxTopic', queueId: 0 }]), { message: /n0's classic commit log is unfinished/ });

  // n0 finishes (its entries reach this node)
  await n.log.append([classicImportRecord({ ...unfinished, next: 3435, records: 11, done: true })], { pastHold: true });
  await until('the group is visible again', () => !n.imp.hidesGroup);
  t.same(seen, [true, false]);
  t.equal(n.log.isWritable, true);
});

t.test('a node with a copy of the same classic log takes an unfinished import over', async (t) => {
  const root = classicStore(t);
  let asked = 0;
  let n = await openNode(root, { selfId: 'n0', batchMessages: 3, takesWrites: () => asked++ < 2 });
  n.imp.takingWrites();
  await until('one batch applied', () => n.imp.progress?.records === 3);
  await n.imp.stop();
  await n.log.close();

  n = await openNode(root, { selfId: 'n2' });
  t.teardown(() => n.log.close());
  t.match(n.imp.holdReason(), /importing the classic commit log/, 'a copy can go on, so it holds as the importer');
  n.imp.takingWrites();
  await until('import done', () => n.imp.progress?.done === true);
  t.match(n.imp.progress, { importer: 'n2', records: 11 });
  t.ok(n.lines.some((l) => /continuing n0's classic commit log import/.test(l)));
  await checkImported(t, n.log);
});
