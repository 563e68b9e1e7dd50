// The single-node commit log: offsets assigned and patched into the stored bytes, commit per
// flushDiskType, apply into the index before listeners hear of it, restart and index rebuild,
// and each refusal with the response code the broker answers with.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { decodeStoredMessage } from '../../../../protocol/message/index.js';
import { storedRecord } from '../../../helpers/storedRecord.js';
import { ResponseCode } from '../../../../protocol/remoting/ResponseCode.js';
import type { ConsumeQueueEntry } from '../../../../storage/index/IndexStore.js';
import { EntryMagic } from '../../../../storage/log/entryCodec.js';
import { SyncLogWriter } from '../../../../storage/log/SyncLogWriter.js';
import { WorkerLogWriter, type FlushDiskType } from '../../../../storage/log/WorkerLogWriter.js';
import type { AppliedBatch, AppendRecord } from '../../../../server/broker/commitlog/CommitLog.js';
import {
  CommitLogBusyError,
  DiskFullError,
  MessageIllegalError,
  MessageTooLargeError,
  NotWritableError,
} from '../../../../server/broker/commitlog/CommitLogError.js';
import { LocalCommitLog, type LocalCommitLogOptions } from '../../../../server/broker/commitlog/LocalCommitLog.js';
import { MAX_COLD_READS } from '../../../../server/broker/commitlog/logReads.js';
import { builtAddon } from '../../../helpers/pageCache.js';
import { tempDir } from '../../../helpers/processes.js';

const SEGMENT = 4096;

function message(topic: string, queueId: number, text: string, tags = 'a'): AppendRecord {
  const record = storedRecord({ topic, queueId, body: Buffer.from(text), properties: { TAGS: tags, KEYS: text } });
  return { record, topic, queueId };
}

/** A clock that ticks 1 ms per call, so store times are known. */
function clock(start = 1_700_000_000_000): () => number {
  let now = start;
  return () => now++;
}

function openLog(dir: string, opts: Partial<LocalCommitLogOptions> = {}): Promise<LocalCommitLog> {
  return LocalCommitLog.open({
    logDir: path.join(dir, 'dledger-n0'),
    indexDir: path.join(dir, 'index-db'),
    writer: new SyncLogWriter(),
    dataSegmentSize: SEGMENT,
    indexSegmentSize: 32 * 64,
    now: clock(),
    log: () => undefined,
    ...opts,
  });
}

/** Resolves once the applied index reaches `index` (no polling: the listener says so). */
function appliedUpTo(log: LocalCommitLog, index: number): Promise<void> {
  if (log.appliedIndex >= index) return Promise.resolve();
  return new Promise((resolve) => {
    const off = log.onApplied((b) => {
      if (b.lastIndex >= index) {
        off();
        resolve();
      }
    });
  });
}

async function allQueues(log: LocalCommitLog): Promise<Record<string, ConsumeQueueEntry[]>> {
  const out: Record<string, ConsumeQueueEntry[]> = {};
  for (const q of log.index.queues()) out[`${q.topic}/${q.queueId}`] = await log.readConsumeQueue(q.topic, q.queueId, q.min, q.max - q.min);
  return out;
}

t.test('appends assign consecutive queue offsets per queue, and patch offsets and store time into the bytes', async (t) => {
  const log = await openLog(tempDir(t));
  t.teardown(() => log.close());
  const one = message('T', 0, 'first');
  const r1 = await log.append([one]);
  t.equal(r1.records.length, 1);
  t.equal(r1.records[0]!.queueOffset, 0);

  const batch = [message('T', 0, 'b1'), message('U', 1, 'b2'), message('T', 0, 'b3'), message('T', 1, 'b4'), message('U', 1, 'b5')];
  const r2 = await log.append(batch);
  t.same(r2.records.map((r) => r.queueOffset), [1, 0, 2, 0, 1], 'per queue, continuing across batches');
  t.equal(r2.firstIndex, r1.lastIndex + 1);
  const r3 = await log.append([message('U', 1, 'c1'), message('T', 0, 'c2')]);
  t.same(r3.records.map((r) => r.queueOffset), [2, 3]);
  t.equal(new Set(r2.records.map((r) => r.storeTimestamp)).size, 1, 'one store time per append');
  t.ok(r3.records[0]!.storeTimestamp > r2.records[0]!.storeTimestamp, 'store times grow');

  const appended = [
    { rec: one, res: r1.records[0]! },
    ...batch.map((rec, i) => ({ rec, res: r2.records[i]! })),
  ];
  for (const { rec, res } of appended) {
    if (rec.kind === 'metadata') throw new Error('unexpected');
    const m = decodeStoredMessage(rec.record);
    t.equal(m.queueOffset, res.queueOffset, 'queue offset in the bytes');
    t.equal(m.physicalOffset, res.physicalOffset, 'physical offset in the bytes');
    t.equal(m.storeTimestamp, res.storeTimestamp, 'store time in the bytes');
    t.equal(res.size, rec.record.length);
    const stored = log.readMessage(res.physicalOffset, res.size);
    t.ok(stored !== undefined && stored.equals(rec.record), 'readMessage gives exactly the record');
    const d = decodeStoredMessage(stored!);
    t.equal(d.physicalOffset, res.physicalOffset);
  }
  t.equal(log.readMessage(10_000_000, 100), undefined, 'an offset beyond the log reads nothing');
});

t.test('onApplied fires in log order, after the index has the entries', async (t) => {
  const log = await openLog(tempDir(t));
  t.teardown(() => log.close());
  const seen: AppliedBatch[] = [];
  const visible: boolean[] = [];
  const checks: Promise<void>[] = [];
  log.onApplied((b) => {
    seen.push(b);
    for (const m of b.messages) {
      t.ok(log.maxOffset(m.topic, m.queueId) > m.queueOffset, 'the max offset already counts it');
      checks.push(
        log.readConsumeQueue(m.topic, m.queueId, m.queueOffset, 1).then((cq) => {
          visible.push(cq[0]?.queueOffset === m.queueOffset && cq[0].physicalOffset === m.physicalOffset);
        }),
      );
    }
  });
  const results = await Promise.all([
    log.append([message('T', 0, 'x0', 'red')]),
    log.append([message('T', 0, 'x1'), message('T', 2, 'y0')]),
    log.append([message('T', 0, 'x2')]),
  ]);
  const last = results[2]!.lastIndex;
  await appliedUpTo(log, last);
  await Promise.all(checks);
  t.equal(visible.length, 4);
  t.ok(visible.every(Boolean), 'readConsumeQueue inside the listener sees every entry');
  const indexes = seen.flatMap((b) => {
    const out: number[] = [];
    for (let i = b.firstIndex; i <= b.lastIndex; i++) out.push(i);
    return out;
  });
  t.same(indexes, [0, 1, 2, 3], 'each entry once, in order');
  const msgs = seen.flatMap((b) => b.messages.map((m) => `${m.topic}/${m.queueId}@${m.queueOffset}`));
  t.same(msgs, ['T/0@0', 'T/0@1', 'T/2@0', 'T/0@2']);
  t.equal(seen[0]!.messages[0]!.tagsCode, 112785, 'tagsCode is the Java hash of the tag ("red")');
  t.equal(log.appliedIndex, last);
});

t.test('restart continues queue offsets, and a deleted index is rebuilt identically', async (t) => {
  const dir = tempDir(t);
  let log = await openLog(dir);
  const records: Buffer[] = [];
  // enough to roll several 4 KiB segments
  for (let k = 0; k < 10; k++) {
    const batch = Array.from({ length: 6 }, (_, i) => message(i % 2 ? 'A' : 'B', i % 3, `m${k}-${i}-${'z'.repeat(200)}`));
    await log.append(batch);
    for (const b of batch) if (b.kind !== 'metadata') records.push(Buffer.from(b.record));
  }
  t.ok(fs.readdirSync(path.join(dir, 'dledger-n0', 'data')).length > 3, 'the log rolled over segments');
  await log.close();
  await t.rejects(log.append([message('A', 0, 'late')]), NotWritableError, 'a closed log refuses appends');

  log = await openLog(dir);
  const before = await allQueues(log);
  const stored: Buffer[] = [];
  for (const list of Object.values(before)) for (const e of list) stored.push(log.readMessage(e.physicalOffset, e.size)!);
  t.equal(stored.length, records.length, 'every message is in a consume queue');
  const key = (b: Buffer): string => b.toString('hex');
  t.same(new Set(stored.map(key)), new Set(records.map(key)), 'and reads back byte for byte');

  const next = await log.append([message('A', 1, 'after'), message('B', 0, 'after'), message('C', 0, 'new')]);
  t.same(next.records.map((r) => r.queueOffset), [before['A/1']!.length, before['B/0']!.length, 0], 'offsets continue where they stopped');
  await appliedUpTo(log, next.lastIndex);
  const expected = await allQueues(log);
  await log.close();

  fs.rmSync(path.join(dir, 'index-db'), { recursive: true });
  log = await openLog(dir);
  t.teardown(() => log.close());
  t.same(await allQueues(log), expected, 'rebuilt from the log: the same consume queues');
  const again = await log.append([message('C', 0, 'again')]);
  t.equal(again.records[0]!.queueOffset, 1, 'and offsets continue from the rebuilt index');
});

t.test('refusals carry the broker\'s response codes and change nothing', async (t) => {
  let guard: { writable: boolean; reason?: string } = { writable: true };
  const log = await openLog(tempDir(t), { maxPendingAppends: 2, diskGuard: () => guard });
  t.teardown(() => log.close());

  const a = log.append([message('T', 0, 'a')]);
  const b = log.append([message('T', 0, 'b'), message('T', 0, 'c')]);
  const busy = log.append([message('T', 0, 'd')]);
  await t.rejects(busy, CommitLogBusyError);
  await busy.catch((e: CommitLogBusyError) => {
    t.equal(e.responseCode, ResponseCode.SYSTEM_BUSY);
    t.equal(e.limit, 'maxPendingAppends');
  });
  const [ra, rb] = await Promise.all([a, b]);
  t.same([...ra.records, ...rb.records].map((r) => r.queueOffset), [0, 1, 2]);
  await appliedUpTo(log, rb.lastIndex);
  t.equal(log.stats().pendingAppends, 0, 'applied appends free the limit');

  const huge = message('T', 0, 'x'.repeat(SEGMENT));
  const tooLarge = log.append([huge]);
  await t.rejects(tooLarge, MessageTooLargeError);
  await tooLarge.catch((e: MessageTooLargeError) => t.equal(e.responseCode, ResponseCode.MESSAGE_ILLEGAL));

  const wrongQueue = message('T', 0, 'w');
  if (wrongQueue.kind === 'metadata') throw new Error('unexpected');
  const illegal = log.append([message('T', 0, 'ok'), { ...wrongQueue, queueId: 3 }]);
  await t.rejects(illegal, MessageIllegalError, 'a record that names another queue than it was sent for');

  guard = { writable: false, reason: 'service not available now: the broker\'s disk is full' };
  const full = log.append([message('T', 0, 'full')]);
  await t.rejects(full, DiskFullError);
  await full.catch((e: DiskFullError) => {
    t.equal(e.responseCode, ResponseCode.SERVICE_NOT_AVAILABLE);
    t.match(e.message, /disk is full/, 'the guard\'s reason');
  });
  guard = { writable: true };

  const lastIndex = log.stats().lastIndex;
  const r = await log.append([message('T', 0, 'e')]);
  t.equal(r.records[0]!.queueOffset, 3, 'refused batches left no gap in the queue');
  t.equal(r.firstIndex, lastIndex + 1, 'nor in the log');
});

t.test('metadata records are applied through the decoder and reported to listeners', async (t) => {
  const MAGIC_TOPIC = EntryMagic.METADATA_MIN;
  const log = await openLog(tempDir(t), {
    decodeMetadata: (e) => {
      const { name, value } = JSON.parse(e.body.toString()) as { name: string; value: string };
      return [{ kind: 'topic', index: e.index, pos: e.pos, name, value }];
    },
  });
  t.teardown(() => log.close());
  const seen: string[] = [];
  log.onApplied((b) => {
    for (const m of b.metadata) if (m.kind === 'topic') seen.push(m.name);
  });
  const r = await log.append([
    { kind: 'metadata', magic: MAGIC_TOPIC, body: Buffer.from(JSON.stringify({ name: 'T', value: '{"perm":6}' })) },
    message('T', 0, 'm'),
  ]);
  t.equal(r.records[0]!.queueOffset, -1);
  t.equal(r.records[1]!.queueOffset, 0);
  await appliedUpTo(log, r.lastIndex);
  t.same(seen, ['T']);
  t.equal(await log.index.getMetadata('topic', 'T'), '{"perm":6}');
  await t.rejects(log.append([{ kind: 'metadata', magic: MAGIC_TOPIC, body: Buffer.from('not json') }]), MessageIllegalError, 'a metadata body the decoder refuses never reaches the log');
});

for (const flushDiskType of ['SYNC_FLUSH', 'ASYNC_FLUSH'] as FlushDiskType[]) {
  t.test(`${flushDiskType} with the writer worker commits`, async (t) => {
    const dir = tempDir(t);
    // the log owns the writer: close() below closes it
    const log = await openLog(dir, { writer: new WorkerLogWriter({ flushDiskType }), flushDiskType });
    t.teardown(() => log.close());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append([message('T', i % 2, `w${i}`), message('T', 2, `v${i}`)])));
    t.same(results.map((r) => r.records[1]!.queueOffset), Array.from({ length: 20 }, (_, i) => i));
    await appliedUpTo(log, results[19]!.lastIndex);
    t.equal(log.maxOffset('T', 2), 20);
    for (const r of results) for (const rec of r.records) t.ok(log.readMessage(rec.physicalOffset, rec.size), 'readable');
    await log.close();
  });
}

t.test('with a cache window, the background round fsyncs and drops the pages behind the window', async (t) => {
  const addon = builtAddon();
  const window = 64 * 1024;
  const log = await openLog(tempDir(t), {
    writer: undefined,
    logWriter: 'main',
    flushDiskType: 'ASYNC_FLUSH',
    dataSegmentSize: 64 * 1024,
    cacheWindow: window,
    flushIntervalCommitLog: 3_600_000, // the test runs the rounds
  });
  t.teardown(() => log.close());
  const body = 'x'.repeat(1000);
  for (let i = 0; i < 30; i++) await log.append(Array.from({ length: 10 }, (_, k) => message('T', k % 4, `${i}-${k}-${body}`)));
  const storage = log.storage;
  const end = storage.writtenPosition;
  t.ok(end > 4 * window, `the log is several windows long (${end} bytes)`);
  await log.backgroundRound();
  t.equal(log.pageCacheDroppedBytes, end - window - storage.startPosition, 'everything up to the window was dropped');

  for (const seg of storage.dataSegments) {
    const fd = fs.openSync(seg.path, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const cached = addon.cachedPages(fd, 0, size);
      if (seg.start + 64 * 1024 <= end - window) t.equal(cached, 0, `${path.basename(seg.path)}: behind the window, not cached`);
      else if (seg.start >= end - window) t.ok(cached > 0, `${path.basename(seg.path)}: in the window, cached`);
    } finally {
      fs.closeSync(fd);
    }
  }
  // the dropped messages still read back (from the disk)
  const first = await log.readConsumeQueue('T', 0, 0, 1);
  const { body: bytes } = log.readMessages(first);
  t.match(decodeStoredMessage(bytes).body.toString(), /^0-0-x+$/);

  // a pull of dropped messages reads them into the cache in the thread pool first
  const seg = storage.dataSegments[1]!;
  const fd = fs.openSync(seg.path, 'r');
  t.teardown(() => fs.closeSync(fd));
  await addon.dropCache(fd, 0, 64 * 1024);
  const places = (await log.readConsumeQueue('T', 1, 0, 40)).filter((e) => e.physicalOffset - 48 >= seg.start && e.physicalOffset - 48 + 48 + e.size <= seg.start + 64 * 1024);
  t.ok(places.length >= 3, `records of queue 1 in ${path.basename(seg.path)}`);
  // mincore, not the probe: a probe that misses may start the kernel's read-ahead
  t.equal(addon.cachedPages(fd, 0, 64 * 1024), 0, 'not cached before');
  const warmed = await log.warmForRead(places);
  t.ok(warmed >= places.length * 1000, `read in the thread pool: ${warmed} bytes`);
  for (const p of places) t.equal(addon.isCached(fd, p.physicalOffset - seg.start), true, `record at ${p.physicalOffset} cached`);
  t.equal(await log.warmForRead(places), 0, 'cached now: nothing read again');
  t.equal(log.coldReadBytes, warmed, 'counted');
  const read = log.readMessages(places);
  t.equal(read.count, places.length, 'and read');
  t.match(decodeStoredMessage(read.body).body.toString(), /^\d+-1-x+$/);
});

t.test('warmForRead reads, per data file, the runs of records whose first or last byte is not cached', async (t) => {
  const log = await openLog(tempDir(t), { writer: undefined, logWriter: 'main', flushDiskType: 'ASYNC_FLUSH', dataSegmentSize: 64 * 1024 });
  t.teardown(() => log.close());
  const body = 'y'.repeat(1000);
  let lastIndex = -1;
  for (let i = 0; i < 10; i++) lastIndex = (await log.append(Array.from({ length: 10 }, (_, k) => message('T', k % 2, `${i}-${k}-${body}`)))).lastIndex;
  await appliedUpTo(log, lastIndex);
  await log.storage.whenWritten(log.storage.endPosition);
  const storage = log.storage;
  t.ok(storage.dataSegments.length >= 2, 'two data files or more');
  const probes: Array<[number, number]> = [];
  const reads: Array<{ file: string; offset: number; length: number }> = [];
  const cachedBelow = storage.dataSegments[1]!.start; // the first file is "cold"
  const fdFile = new Map<number, string>();
  log.readWarmer = {
    isCached: (fd, offset) => {
      probes.push([fd, offset]);
      const file = fs.readlinkSync(`/proc/self/fd/${fd}`);
      fdFile.set(fd, file);
      const seg = storage.dataSegments.find((s) => fs.realpathSync(s.path) === file)!;
      return seg.start + offset >= cachedBelow;
    },
    readThrough: async (fd, offset, length) => {
      reads.push({ file: fs.readlinkSync(`/proc/self/fd/${fd}`), offset, length });
      return length;
    },
  };
  const q0 = await log.readConsumeQueue('T', 0, 0, 50);
  t.equal(q0.length, 50, 'half the records are queue 0\'s');
  // every other record of the log: one queue of two, gaps of one record (well below the read-through gap)
  const got = await log.warmForRead(q0);
  const firstFile = fs.realpathSync(storage.dataSegments[0]!.path);
  const inFirst = q0.filter((e) => e.physicalOffset - 48 + 48 + e.size <= storage.dataSegments[0]!.start + 64 * 1024 && e.physicalOffset - 48 >= storage.dataSegments[0]!.start);
  t.equal(reads.length, 1, 'one read: the first file\'s run (the others are cached)');
  t.equal(reads[0]!.file, firstFile);
  const lo = inFirst[0]!.physicalOffset - 48 - storage.dataSegments[0]!.start;
  const last = inFirst[inFirst.length - 1]!;
  t.equal(reads[0]!.offset, lo, 'from the first record\'s header');
  t.equal(reads[0]!.length, last.physicalOffset + last.size - storage.dataSegments[0]!.start - lo, 'to the last record\'s end');
  t.equal(got, reads[0]!.length);
  // per file, the run's first byte; then its last byte where the first was cached
  const expected: Array<[string, number]> = [];
  for (const seg of storage.dataSegments) {
    const inSeg = q0.filter((e) => e.physicalOffset - 48 >= seg.start && e.physicalOffset - 48 < seg.start + 64 * 1024);
    if (inSeg.length === 0) continue;
    const from = inSeg[0]!.physicalOffset - 48 - seg.start;
    const end = inSeg[inSeg.length - 1]!.physicalOffset + inSeg[inSeg.length - 1]!.size - seg.start;
    expected.push([fs.realpathSync(seg.path), from]);
    if (seg.start >= cachedBelow) expected.push([fs.realpathSync(seg.path), end - 1]);
  }
  t.ok(expected.length >= 3, 'the records lie in two files or more');
  t.same(probes.map(([fd, offset]) => [fdFile.get(fd), offset]), expected, 'first and last byte of each run probed');

  // runs far apart are read apart; records outside the log are skipped
  reads.length = 0;
  const far = [inFirst[0]!, { physicalOffset: inFirst[0]!.physicalOffset + 40_000, size: 100 }, { physicalOffset: -5, size: 10 }, { physicalOffset: storage.writtenPosition + 100, size: 10 }];
  await log.warmForRead(far);
  t.same(reads.map((r) => r.offset), [lo, lo + 40_000], 'two reads, 40 kB apart');
  t.same(reads.map((r) => r.length), [48 + inFirst[0]!.size, 148]);

  // at most MAX_COLD_READS pulls read in the thread pool at once; the others wait their turn
  const held: Array<() => void> = [];
  let started = 0;
  log.readWarmer = {
    isCached: () => false,
    readThrough: (_fd, _offset, length) => {
      started++;
      return new Promise<number>((resolve) => held.push(() => resolve(length)));
    },
  };
  const one = [q0[0]!];
  const pulls = [log.warmForRead(one), log.warmForRead(one), log.warmForRead(one)];
  await new Promise((r) => setImmediate(r));
  t.equal(started, MAX_COLD_READS, `${MAX_COLD_READS} reads started, the third pull waits`);
  held.shift()!();
  t.equal(await pulls[0], 48 + q0[0]!.size, 'the first pull is done');
  await new Promise((r) => setImmediate(r));
  t.equal(started, 3, 'and its slot went to the third');
  for (const release of held.splice(0)) release();
  t.same(await Promise.all(pulls.slice(1)), [48 + q0[0]!.size, 48 + q0[0]!.size], 'all done');

  // a probe that fails (no RWF_NOWAIT on this file system) turns warming off, said once
  const said: string[] = [];
  log.onWarmerOff = (line) => said.push(line);
  log.readWarmer = {
    isCached: () => {
      throw Object.assign(new Error('preadv2: Operation not supported'), { code: 'EOPNOTSUPP' });
    },
    readThrough: async () => 0,
  };
  t.equal(await log.warmForRead(q0.slice(0, 3)), 0, 'nothing read, no error');
  t.equal(log.readWarmer, null, 'warming is off');
  t.equal(await log.warmForRead(q0.slice(0, 3)), 0, 'and stays off');
  t.equal(said.length, 1, 'said once');
  t.match(said[0], /probe failed \(preadv2: Operation not supported\)/);
  t.equal(log.readMessages(q0.slice(0, 3)).count, 3, 'the records read as before');

  // a failing read is left for readMessages
  log.readWarmer = { isCached: () => false, readThrough: async () => Promise.reject(new Error('EIO')) };
  t.equal(await log.warmForRead(q0.slice(0, 3)), 0, 'nothing read, no error');
  t.equal(log.readMessages(q0.slice(0, 3)).count, 3, 'the records still read');
});
