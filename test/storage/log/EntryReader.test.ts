// EntryReader.copyMessageBodies, the pull path's read: bodies copied back to back, one pread
// per run of nearby entries in one data file, each header checked against what the caller
// says is there, and a short count when a data file is gone.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import { BLOCK_BYTES } from '../../../storage/log/EntryReader.js';
import { LogCorruptionError } from '../../../storage/log/LogCorruptionError.js';
import type { LogEntry, SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { ReadFiles } from '../../../storage/log/segmentFiles.js';
import { tempDir } from '../../helpers/processes.js';
import { SMALL, bodyFor, dataFile, fill, openSmall } from './logTestKit.js';

/** ReadFiles that counts its reads (pread or readv) and the bytes they read. */
class CountingFiles extends ReadFiles {
  reads = 0;
  bytes = 0;
  override readInto(file: string, out: Buffer, outOffset: number, length: number, position: number): number {
    this.reads++;
    const n = super.readInto(file, out, outOffset, length, position);
    this.bytes += n;
    return n;
  }
  override readvInto(file: string, buffers: readonly Buffer[], position: number): number {
    this.reads++;
    const n = super.readvInto(file, buffers, position);
    this.bytes += n;
    return n;
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

for (const room of [false, true]) {
  const where = room ? 'in place, in the room the output has past the bodies' : 'through scratch space (no room in the output)';
  t.test(`a run of adjacent entries is read by itself with one pread, ${where}: nothing read ahead, nothing kept`, async (t) => {
    const { log } = await openSmall(tempDir(t), { dataSegmentSize: 64 * 1024 });
    t.teardown(() => log.close());
    await fill(log, 60, { batch: 6 });
    const all = log.readRange(0, 60, 1 << 30);
    t.equal(new Set(all.map((e) => e.pos - (e.pos % (64 * 1024)))).size, 1, 'all in one data file');
    const files = new CountingFiles();
    t.teardown(() => files.closeAll());
    const reader = log.readerOver(files);
    const limit = log.writtenPosition;
    const spanOf = (entries: LogEntry[]): number => entries.at(-1)!.pos + 48 + entries.at(-1)!.body.length - entries[0]!.pos;
    const read = (entries: LogEntry[], maxGap = 16 * 1024): Buffer => {
      const bodies = entries.reduce((a, e) => a + e.body.length, 0);
      // the room a caller gives: a header's worth per entry (one gap of another entry fits in it too)
      const out = Buffer.alloc(5 + bodies + (room ? 48 * entries.length + 512 : 0), 0xee);
      t.equal(reader.copyMessageBodies(entries.map((e) => e.pos), entries.map((e) => e.body.length), entries.length, out, 5, maxGap, limit), entries.length);
      t.ok(out.subarray(0, 5).every((b) => b === 0xee), 'nothing written before the offset asked');
      return out.subarray(5, 5 + bodies);
    };

    const run = all.slice(10, 42);
    t.same(read(run), Buffer.concat(run.map((e) => e.body)), '32 adjacent entries: their bodies, from the offset asked');
    t.equal(files.reads, 1, 'one pread');
    t.equal(files.bytes, spanOf(run), 'exactly the bytes of the run: nothing past it although the limit allows more');
    t.same(read(run), Buffer.concat(run.map((e) => e.body)), 'the same run again');
    t.equal(files.reads, 2, 'read from the file again: the bytes were not kept');

    // one entry left out (another queue's): the gap is read through and dropped
    const holed = [...all.slice(20, 30), ...all.slice(31, 45)];
    const before = files.bytes;
    t.same(read(holed), Buffer.concat(holed.map((e) => e.body)), 'a run with one entry missing: its bodies');
    t.equal(files.reads, 3, 'one pread');
    t.equal(files.bytes - before, spanOf(holed), 'the bytes of the run, the gap included');

    // a queue interleaved with another, read with maxGap 0: every entry is a run of its own, dense
    // by itself, but the call is not: they read ahead and keep the bytes, as interleaved queues want
    const apart = all.filter((_, i) => i % 2 === 0).slice(0, 10);
    t.same(read(apart, 0), Buffer.concat(apart.map((e) => e.body)), 'every other entry: their bodies');
    t.equal(files.reads, 4, 'one pread that read ahead: the other nine from its window');

    const many = log.readRange(0, 60, 1 << 30);
    t.same(read(many), Buffer.concat(many.map((e) => e.body)), 'all 60 bodies in one call');
  });
}

t.test('sparse runs go through aligned blocks: overlapping pulls of interleaved queues read each byte once', async (t) => {
  const { log } = await openSmall(tempDir(t), { dataSegmentSize: 1 << 20, indexSegmentSize: 64 * 1024 });
  t.teardown(() => log.close());
  await fill(log, 3000, { batch: 50 });
  const all = log.readRange(0, 3000, 1 << 30);
  t.ok(log.writtenPosition > 5 * BLOCK_BYTES, `a log of several blocks (${log.writtenPosition} bytes)`);
  const queues = [0, 1, 2, 3].map((q) => all.filter((_, i) => i % 4 === q));
  const files = new CountingFiles();
  t.teardown(() => files.closeAll());
  const reader = log.readerOver(files);
  const limit = log.writtenPosition;
  // pulls of 32 that drift: queue q starts q * 5 entries behind queue 0 and they take turns
  const next = [0, 0, 0, 0];
  let pulls = 0;
  while (next.some((n, q) => n < queues[q]!.length)) {
    for (let q = 0; q < 4; q++) {
      const entries = queues[q]!.slice(next[q], next[q]! + 32 - (pulls < 4 ? q * 5 : 0));
      if (entries.length === 0) continue;
      const out = Buffer.alloc(entries.reduce((a, e) => a + e.body.length, 0));
      t.equal(reader.copyMessageBodies(entries.map((e) => e.pos), entries.map((e) => e.body.length), entries.length, out, 0, 16 * 1024, limit), entries.length);
      if (!out.equals(Buffer.concat(entries.map((e) => e.body)))) t.fail(`queue ${q} at ${next[q]}: wrong bodies`);
      next[q]! += entries.length;
      pulls++;
    }
  }
  t.ok(files.bytes <= limit, `bytes read (${files.bytes}) at most the log's (${limit}): none read twice`);
  t.ok(files.reads <= Math.ceil(limit / BLOCK_BYTES), `${files.reads} reads for ${pulls} pulls`);
});

t.test('entries whose header or body crosses a block boundary are read whole from two blocks', async (t) => {
  const { log } = await openSmall(tempDir(t), { dataSegmentSize: 1 << 20, indexSegmentSize: 64 * 1024 });
  t.teardown(() => log.close());
  const B = BLOCK_BYTES;
  // fillers up to a chosen start, then the entry that should start there
  const appendAt = async (start: number, bodyLength: number, tag: number): Promise<LogEntry> => {
    let p = log.writtenPosition;
    while (start - p >= 48 + 1000 + 48 + 1) {
      const r = log.append([{ magic: EntryMagic.MESSAGE, term: 1, body: bodyFor(9000 + tag, 1000) }]);
      await log.whenWritten(r.endPosition);
      p = log.writtenPosition;
    }
    if (start > p) {
      const r = log.append([{ magic: EntryMagic.MESSAGE, term: 1, body: bodyFor(8000 + tag, start - p - 48) }]);
      await log.whenWritten(r.endPosition);
    }
    t.equal(log.writtenPosition, start, `the entry starts at ${start}`);
    const r = log.append([{ magic: EntryMagic.MESSAGE, term: 1, body: bodyFor(tag, bodyLength) }]);
    await log.whenWritten(r.endPosition);
    return log.readRange(log.lastIndex, 1, 1 << 30)[0]!;
  };
  const headerSplit = await appendAt(B - 20, 300, 1); // 20 header bytes in block 0, 28 in block 1
  const bodySplit = await appendAt(2 * B - 100, 500, 2); // header in block 1, body across into block 2
  const far = await appendAt(3 * B + 5000, 200, 3);
  const filler = log.readRange(headerSplit.index + 1, 1, 1 << 30)[0]!;
  const files = new CountingFiles();
  t.teardown(() => files.closeAll());
  const reader = log.readerOver(files);
  const picked = [headerSplit, filler, bodySplit, far];
  const out = Buffer.alloc(picked.reduce((a, e) => a + e.body.length, 0));
  // far apart, so sparse as a whole: through the blocks
  t.equal(reader.copyMessageBodies(picked.map((e) => e.pos), picked.map((e) => e.body.length), picked.length, out, 0, 16 * 1024, log.writtenPosition), picked.length);
  t.same(out, Buffer.concat(picked.map((e) => e.body)), 'every body whole, in order');
  const reads = files.reads;
  t.same(read1(reader, headerSplit), headerSplit.body, 'the entry with the split header, alone, again');
  t.same(read1(reader, bodySplit), bodySplit.body, 'the entry with the split body, alone, again');
  t.equal(files.reads, reads, 'from the kept blocks: nothing read');
  const bad = [headerSplit, far];
  t.throws(
    () => reader.copyMessageBodies(bad.map((e) => e.pos), [headerSplit.body.length + 1, far.body.length], 2, Buffer.alloc(1000), 0, 16 * 1024, log.writtenPosition),
    LogCorruptionError,
    'a split header that disagrees is corruption too',
  );
});

function read1(reader: ReturnType<SegmentedLog['readerOver']>, e: LogEntry): Buffer {
  const out = Buffer.alloc(e.body.length);
  reader.copyMessageBodies([e.pos], [e.body.length], 1, out, 0, 16 * 1024);
  return out;
}

t.test('a data file cut short under a run: the entries read whole are copied, the count says how many', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir, { dataSegmentSize: 64 * 1024 });
  t.teardown(() => log.close());
  await fill(log, 20, { batch: 5 });
  const all = log.readRange(0, 20, 1 << 30);
  const cut = all[12]!.pos + 48 + 10; // inside entry 12's body
  const file = dataFile(dir, 0);
  const saved = fs.readFileSync(file);
  fs.truncateSync(file, cut);
  t.teardown(() => fs.writeFileSync(file, saved));
  const r = copy(log, all, 16 * 1024);
  t.equal(r.n, 12, 'entries 0..11 copied');
  t.equal(r.reads, 1, 'in one pread');
  t.same(r.out.subarray(0, all.slice(0, 12).reduce((a, e) => a + e.body.length, 0)), Buffer.concat(all.slice(0, 12).map((e) => e.body)));
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
  // entries far apart (other queues' between them) go through the read-ahead window: checked the same way
  const apartSizes = [sizes[0]!, sizes[2]! + 1];
  t.throws(() => copy(log, [all[0]!, all[2]!], 16 * 1024, apartSizes), LogCorruptionError, 'a wrong body length, read through a window');
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

  // the same through the blocks: every other entry (sparse), reading ahead to the written limit
  const sparse = all.filter((_, i) => i % 2 === 0);
  const inFirst = sparse.filter((e) => e.pos < SMALL.dataSegmentSize).length;
  const files = new CountingFiles();
  const reader = log.readerOver(files);
  const out = Buffer.alloc(sparse.reduce((a, e) => a + e.body.length, 0));
  t.equal(reader.copyMessageBodies(sparse.map((e) => e.pos), sparse.map((e) => e.body.length), sparse.length, out, 0, 16 * 1024, log.writtenPosition), inFirst, 'sparse: the entries of the first file');
  t.same(out.subarray(0, sparse.slice(0, inFirst).reduce((a, e) => a + e.body.length, 0)), Buffer.concat(sparse.slice(0, inFirst).map((e) => e.body)));
  fs.renameSync(path.join(dir, 'moved'), secondFile);
  // the file is back: nothing of it was kept as read, so the same call now reads it
  const again = Buffer.alloc(out.length);
  t.equal(reader.copyMessageBodies(sparse.map((e) => e.pos), sparse.map((e) => e.body.length), sparse.length, again, 0, 16 * 1024, log.writtenPosition), sparse.length, 'every entry once the file is back');
  t.same(again, Buffer.concat(sparse.map((e) => e.body)));
  files.closeAll();
});
