// EntryReader.copyMessageBodies, the pull path's read: bodies copied back to back, one pread
// per run of nearby entries in one data file, each header checked against what the caller
// says is there, and a short count when a data file is gone.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import { LogCorruptionError } from '../../../storage/log/LogCorruptionError.js';
import type { LogEntry, SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { ReadFiles } from '../../../storage/log/segmentFiles.js';
import { tempDir } from '../../helpers/processes.js';
import { SMALL, bodyFor, dataFile, fill, openSmall } from './logTestKit.js';

/** ReadFiles that counts its preads. */
class CountingFiles extends ReadFiles {
  reads = 0;
  override readInto(file: string, out: Buffer, outOffset: number, length: number, position: number): number {
    this.reads++;
    return super.readInto(file, out, outOffset, length, position);
  }
}


/** Copies the bodies of `entries` with `maxGap`; returns the bytes, the count and the preads. */
function copy(log: SegmentedLog, entries: LogEntry[], maxGap: number, sizes = entries.map((e) => e.body.length)): { out: Buffer; n: number; reads: number } {
  const files = new CountingFiles();
  const out = Buffer.alloc(sizes.reduce((a, b) => a + b, 0) + 3);
  const n = log.readerOver(files).copyMessageBodies(entries.map((e) => e.pos), sizes, entries.length, out, 3, maxGap);
  files.closeAll();
  return { out: out.subarray(3), n, reads: files.reads };
}

const filesOf = (entries: LogEntry[]): number => new Set(entries.map((e) => e.pos - (e.pos % SMALL.dataSegmentSize))).size;

t.test('bodies back to back, one pread per run of neighbours in one data file', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  await fill(log, 40, { batch: 6 });
  const all = log.readRange(0, 40, 1 << 30);
  t.equal(all.length, 40);

  const whole = copy(log, all, 0);
  t.equal(whole.n, 40);
  t.same(whole.out, Buffer.concat(all.map((e) => e.body)), 'every body, in order, at the offset asked');
  t.equal(whole.reads, filesOf(all), `adjacent entries: one pread per data file (${filesOf(all)})`);

  const everyOther = all.filter((_, i) => i % 2 === 0);
  const apart = copy(log, everyOther, 0);
  t.same(apart.out, Buffer.concat(everyOther.map((e) => e.body)));
  t.equal(apart.reads, everyOther.length, 'gaps larger than maxGap: one pread each');
  const through = copy(log, everyOther, 16 * 1024);
  t.same(through.out, apart.out, 'reading through the gaps gives the same bytes');
  t.equal(through.reads, filesOf(everyOther), 'gaps within maxGap are read through: one pread per data file');
});

t.test('a pread reads ahead up to the written limit and keeps the bytes: interleaved queues share it until dropCache', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  await fill(log, 40, { batch: 6 });
  const first = log.dataSegments[0]!;
  const inFirst = log.readRange(0, 40, 1 << 30).filter((e) => e.pos - (e.pos % SMALL.dataSegmentSize) === first.start);
  t.ok(inFirst.length >= 6, `entries in the first data file (${inFirst.length})`);
  const queueA = inFirst.filter((_, i) => i % 2 === 0);
  const queueB = inFirst.filter((_, i) => i % 2 === 1);
  const files = new CountingFiles();
  t.teardown(() => files.closeAll());
  const reader = log.readerOver(files);
  const read = (entries: LogEntry[], limit: number): Buffer => {
    const out = Buffer.alloc(entries.reduce((a, e) => a + e.body.length, 0));
    t.equal(reader.copyMessageBodies(entries.map((e) => e.pos), entries.map((e) => e.body.length), entries.length, out, 0, 16 * 1024, limit), entries.length);
    return out;
  };
  const limit = log.writtenPosition;
  t.same(read(queueA, limit), Buffer.concat(queueA.map((e) => e.body)), 'queue A: its bodies');
  t.equal(files.reads, 1, 'one pread');
  t.same(read(queueB, limit), Buffer.concat(queueB.map((e) => e.body)), 'queue B, interleaved with A: its bodies');
  t.equal(files.reads, 1, 'from the bytes read for A: no pread');
  t.same(read(queueA.slice(1), limit), Buffer.concat(queueA.slice(1).map((e) => e.body)), 'A again, from its second entry');
  t.equal(files.reads, 1, 'still none');
  // several windows are kept: a read elsewhere in the log does not push out the first
  const second = log.dataSegments[1]!;
  const inSecond = log.readRange(0, 40, 1 << 30).filter((e) => e.pos - (e.pos % SMALL.dataSegmentSize) === second.start);
  t.same(read(inSecond, limit), Buffer.concat(inSecond.map((e) => e.body)), 'entries of the second data file');
  t.equal(files.reads, 2, 'one pread there');
  t.same(read(queueB, limit), Buffer.concat(queueB.map((e) => e.body)), 'B again');
  t.equal(files.reads, 2, 'still from the first window');
  reader.dropCache();
  t.same(read(queueB, limit), Buffer.concat(queueB.map((e) => e.body)), 'B after dropCache: the same bodies');
  t.equal(files.reads, 3, 'read from the file again');

  // without a limit nothing past the entries asked is read: B's last entry lies past A's last
  const fresh = log.readerOver(files);
  const before = files.reads;
  const lastA = queueA.at(-1)!;
  const lastB = queueB.at(-1)!;
  const outA = Buffer.alloc(queueA.reduce((a, e) => a + e.body.length, 0));
  fresh.copyMessageBodies(queueA.map((e) => e.pos), queueA.map((e) => e.body.length), queueA.length, outA, 0, 16 * 1024);
  const outB = Buffer.alloc(queueB.reduce((a, e) => a + e.body.length, 0));
  fresh.copyMessageBodies(queueB.map((e) => e.pos), queueB.map((e) => e.body.length), queueB.length, outB, 0, 16 * 1024);
  t.same(outB, Buffer.concat(queueB.map((e) => e.body)));
  t.equal(files.reads - before, lastB.pos > lastA.pos ? 2 : 1, 'no read-ahead without a limit');
});

t.test('a header that disagrees with the caller is corruption, named by file and offset', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  t.teardown(() => log.close());
  await fill(log, 10);
  const noop = log.append([{ magic: EntryMagic.NOOP, term: 1, body: bodyFor(99) }]);
  await log.whenWritten(noop.endPosition);
  const all = log.readRange(0, 11, 1 << 30);
  const sizes = all.map((e) => e.body.length);
  sizes[3] = sizes[3]! + 1;
  t.throws(() => copy(log, all.slice(0, 5), 0, sizes.slice(0, 5)), LogCorruptionError, 'a body length other than the header says');
  t.throws(() => copy(log, all.slice(10), 0), LogCorruptionError, 'an entry that is not a message');
  const shifted = [{ ...all[2]!, pos: all[2]!.pos + 1 }];
  t.throws(() => copy(log, shifted, 0), /log corruption in .*data.* at byte \d+/, 'a position inside an entry');
});

t.test('a data file gone under the reader: the entries before it are copied, the count says how many', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  t.teardown(() => log.close());
  await fill(log, 40, { batch: 6 });
  const all = log.readRange(0, 40, 1 << 30);
  const second = all.findIndex((e) => e.pos >= SMALL.dataSegmentSize);
  const secondFile = dataFile(dir, SMALL.dataSegmentSize);
  fs.renameSync(secondFile, path.join(dir, 'moved'));
  const r = copy(log, all, 16 * 1024);
  t.equal(r.n, second, `copied the ${second} entries of the first file`);
  t.same(r.out.subarray(0, all.slice(0, second).reduce((a, e) => a + e.body.length, 0)), Buffer.concat(all.slice(0, second).map((e) => e.body)));
  fs.renameSync(path.join(dir, 'moved'), secondFile);
});
