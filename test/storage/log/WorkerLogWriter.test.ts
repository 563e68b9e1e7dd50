// The writer worker thread: bytes land where the groups say, in order; written and durable move
// as the flush mode says; group commit batches fsyncs; truncate and release keep their place in
// the queue; I/O errors are reported once and fail what waits; the queued-bytes bound holds.
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { WriteGroup, WriterProgress } from '../../../storage/log/LogWriter.js';
import {
  LogWriteError,
  WorkerLogWriter,
  WriterBusyError,
  WriterClosedError,
  type WorkerLogWriterOptions,
} from '../../../storage/log/WorkerLogWriter.js';
import { tempDir } from '../../helpers/processes.js';

function open(t: Test, options: WorkerLogWriterOptions = {}): WorkerLogWriter {
  const w = new WorkerLogWriter(options);
  t.teardown(() => w.close().catch(() => undefined));
  return w;
}

function group(file: string, filePosition: number, data: string | Buffer, endPosition: number, sync = false): WriteGroup {
  return { ops: [{ file, filePosition, buffers: [typeof data === 'string' ? Buffer.from(data) : data] }], endPosition, sync };
}

/** Resolves with the first progress event that satisfies `pred` (events arrive in order). */
function progressWhere(w: WorkerLogWriter, pred: (p: WriterProgress) => boolean): Promise<WriterProgress> {
  return new Promise((resolve) => {
    let done = false;
    w.onProgress((p) => {
      if (!done && pred(p)) {
        done = true;
        resolve(p);
      }
    });
  });
}

function errorOf(w: WorkerLogWriter): Promise<Error> {
  return new Promise((resolve) => w.onError(resolve));
}

/** A deterministic byte pattern for position `pos` of a file. */
function pattern(seed: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

for (const staging of ['ring', 'message'] as const) {
  t.test(`${staging} staging: writes land at their positions in several files`, async (t) => {
    const dir = tempDir(t);
    const w = open(t, { flushDiskType: 'SYNC_FLUSH', staging });
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    w.submit({
      ops: [
        { file: a, filePosition: 0, buffers: [Buffer.from('hello '), Buffer.from('world')] },
        { file: b, filePosition: 4, buffers: [Buffer.from('BBBB')] },
      ],
      endPosition: 11,
      sync: false,
    });
    w.submit(group(a, 11, '!', 12));
    w.submit(group(b, 0, 'bbbb', 16));
    // a hole: the OS fills it with zeros
    w.submit(group(a, 20, 'far', 19));
    t.equal(await w.flush(), 19);
    t.equal(fs.readFileSync(a, 'latin1'), 'hello world!\0\0\0\0\0\0\0\0far');
    t.equal(fs.readFileSync(b, 'latin1'), 'bbbbBBBB');
    t.same(w.progress(), { written: 19, durable: 19 });
  });

  t.test(`${staging} staging: order is kept, and groups bigger than the staging ring arrive whole`, async (t) => {
    const dir = tempDir(t);
    // the smallest ring: 64 KiB, so the big ops below are split and wait on the main thread
    const w = open(t, { flushDiskType: 'ASYNC_FLUSH', staging, stagingBytes: 64 * 1024 });
    const files = [0, 1, 2].map((i) => path.join(dir, `f${i}`));
    const model = files.map(() => Buffer.alloc(0));
    const write = (f: number, pos: number, data: Buffer): void => {
      if (model[f]!.length < pos + data.length) model[f] = Buffer.concat([model[f]!, Buffer.alloc(pos + data.length - model[f]!.length)]);
      data.copy(model[f]!, pos);
    };
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let end = 0;
    for (let g = 0; g < 300; g++) {
      const ops = [];
      for (let k = 1 + rnd(3); k > 0; k--) {
        const f = rnd(files.length);
        // mostly small, sometimes larger than the ring; positions overlap earlier writes
        const len = rnd(10) === 0 ? 100_000 + rnd(100_000) : rnd(3000);
        const pos = rnd(400_000);
        const data = pattern(g * 31 + k, len);
        const cut = rnd(len + 1);
        ops.push({ file: files[f]!, filePosition: pos, buffers: [data.subarray(0, cut), data.subarray(cut)] });
        write(f, pos, data);
        end += len;
      }
      w.submit({ ops, endPosition: end, sync: false });
    }
    t.equal(await w.flush(), end);
    for (let f = 0; f < files.length; f++) t.ok(fs.readFileSync(files[f]!).equals(model[f]!), `file ${f} holds the last bytes written at each position`);
    t.equal(w.stats().queuedBytes, 0);
  });
}

t.test('SYNC_FLUSH: every progress event has durable == written, one per group commit', async (t) => {
  const dir = tempDir(t);
  const w = open(t, { flushDiskType: 'SYNC_FLUSH' });
  const events: WriterProgress[] = [];
  w.onProgress((p) => events.push(p));
  const file = path.join(dir, 'log');
  let end = 0;
  for (let i = 0; i < 20; i++) {
    const target = end + 100;
    const reached = progressWhere(w, (p) => p.durable >= target);
    w.submit(group(file, end, pattern(i, 100), target));
    end = target;
    const p = await reached;
    t.equal(p.durable, end);
  }
  t.ok(events.length >= 20);
  t.ok(events.every((p) => p.durable === p.written), 'durable equals written in every event');
  t.ok(events.every((p, i) => i === 0 || p.written > events[i - 1]!.written), 'positions only move forward');
  const s = w.stats();
  t.equal(s.groupsWritten, 20);
  t.equal(s.syncCount, 20, 'one group in flight at a time: one fsync round each');
});

for (const staging of ['ring', 'message'] as const) {
  t.test(`lazily synced files (index segments) wait for a full sync, data files do not (${staging})`, async (t) => {
    const dir = tempDir(t);
    const w = open(t, { flushDiskType: 'SYNC_FLUSH', staging });
    const data = path.join(dir, 'data');
    const index = path.join(dir, 'index');
    const both = (at: number, end: number): WriteGroup => ({
      ops: [
        { file: data, filePosition: at, buffers: [pattern(at, 100)] },
        { file: index, filePosition: at / 100 * 32, buffers: [pattern(at, 32)], lazySync: true },
      ],
      endPosition: end,
      sync: true,
    });
    w.submit(both(0, 100));
    await progressWhere(w, (p) => p.durable >= 100); // creates both files: their folder is synced too
    const before = w.stats().fsyncCalls;
    w.submit(both(100, 200));
    const p = await progressWhere(w, (x) => x.durable >= 200);
    t.equal(p.durable, 200, 'the group is durable');
    t.equal(w.stats().fsyncCalls - before, 1, 'after one fdatasync: the data file only');
    await w.flush();
    t.equal(w.stats().fsyncCalls - before, 2, 'flush() syncs the lazy index file as well');
    t.same(fs.readFileSync(index).subarray(32, 64), pattern(100, 32), 'the lazy file holds its bytes');
  });
}

t.test('ASYNC_FLUSH: durable lags until a sync group, flush() or the interval', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'log');
  const w = open(t, { flushDiskType: 'ASYNC_FLUSH', flushIntervalCommitLog: 3_600_000, initialPosition: 1000 });
  t.same(w.progress(), { written: 1000, durable: 1000 }, 'starts at the initial position');

  let p = progressWhere(w, (p) => p.written === 1100);
  w.submit(group(file, 0, pattern(1, 100), 1100));
  t.same(await p, { written: 1100, durable: 1000 }, 'written, not yet durable');
  t.equal(w.stats().syncCount, 0);

  p = progressWhere(w, (p) => p.written === 1200);
  w.submit(group(file, 100, pattern(2, 100), 1200, true));
  t.same(await p, { written: 1200, durable: 1200 }, 'a sync group is durable when reported');

  p = progressWhere(w, (p) => p.written === 1300);
  w.submit(group(file, 200, pattern(3, 100), 1300));
  t.same(await p, { written: 1300, durable: 1200 });
  t.equal(await w.flush(), 1300, 'flush() fsyncs and answers the durable position');
  t.same(w.progress(), { written: 1300, durable: 1300 });
  t.equal(w.stats().syncCount, 2);
});

t.test('ASYNC_FLUSH: the background fsync makes written data durable', async (t) => {
  const dir = tempDir(t);
  const w = open(t, { flushDiskType: 'ASYNC_FLUSH', flushIntervalCommitLog: 20 });
  const written = progressWhere(w, (p) => p.written === 100);
  const durable = progressWhere(w, (p) => p.durable === 100);
  w.submit(group(path.join(dir, 'log'), 0, pattern(1, 100), 100));
  const first = await written;
  t.equal(first.durable, 0, 'the write is reported before its fsync');
  await durable;
  t.equal(w.stats().syncCount, 1);
});

t.test('group commit: groups queued together share one fsync', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'log');
  // submitted in the tick the worker is created in: it finds all of them on its first look
  const w = open(t, { flushDiskType: 'SYNC_FLUSH' });
  for (let i = 0; i < 50; i++) w.submit(group(file, i * 10, pattern(i, 10), (i + 1) * 10));
  await progressWhere(w, (p) => p.durable === 500);
  let s = w.stats();
  t.equal(s.groupsWritten, 50);
  t.equal(s.syncCount, 1, '50 groups, one fsync round');
  t.equal(s.writeCalls, 1, 'contiguous writes to one file become one writev');

  // and with the worker running: a burst from one task is written and fsynced in few rounds
  for (let i = 50; i < 150; i++) w.submit(group(file, i * 10, pattern(i, 10), (i + 1) * 10));
  await progressWhere(w, (p) => p.durable === 1500);
  s = w.stats();
  t.equal(s.groupsWritten, 150);
  t.ok(s.syncCount - 1 <= 10, `100 more groups took ${s.syncCount - 1} fsync rounds`);
});

t.test('truncate and release keep their place after earlier writes', async (t) => {
  const dir = tempDir(t);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const w = open(t, { flushDiskType: 'ASYNC_FLUSH', flushIntervalCommitLog: 3_600_000 });
  w.submit(group(a, 0, 'x'.repeat(100), 100));
  const truncated = w.truncate(a, 10); // not awaited: it must still run after the write
  w.submit(group(a, 10, 'y'.repeat(5), 105));
  await truncated;
  await w.flush();
  t.equal(fs.readFileSync(a, 'latin1'), 'x'.repeat(10) + 'y'.repeat(5));

  // the group after a truncate is fsynced, so durable never counts bytes of the cut tail
  const after = progressWhere(w, (p) => p.written === 90);
  await w.truncate(a, 10);
  w.submit(group(a, 10, 'z', 90));
  t.same(await after, { written: 90, durable: 90 });

  w.submit(group(b, 0, 'before release', 200));
  const released = w.release(b);
  fs.rmSync(b, { force: true }); // may run before or after the worker wrote: the release promise says when
  await released;
  fs.rmSync(b, { force: true });
  w.submit(group(b, 5, 'again', 210));
  await w.flush();
  t.equal(fs.readFileSync(b, 'latin1'), '\0\0\0\0\0again', 'written again after release: a new handle on a new file');

  await w.release(path.join(dir, 'never-written'));
  t.notOk(fs.existsSync(path.join(dir, 'never-written')), 'releasing an unknown file creates nothing');
});

t.test('truncate can grow a file and cut a file the writer never wrote', async (t) => {
  const dir = tempDir(t);
  const c = path.join(dir, 'c');
  fs.writeFileSync(c, 'abcdefgh');
  const w = open(t);
  await w.truncate(c, 3);
  t.equal(fs.readFileSync(c, 'latin1'), 'abc');
  await w.truncate(c, 5);
  t.equal(fs.readFileSync(c, 'latin1'), 'abc\0\0');
});

t.test('an open error is reported once, names the file, and fails what waits', async (t) => {
  const dir = tempDir(t);
  const bad = path.join(dir, 'missing-folder', 'log');
  const w = open(t, { flushDiskType: 'SYNC_FLUSH' });
  let calls = 0;
  w.onError(() => calls++);
  const reported = errorOf(w);
  w.submit(group(bad, 0, 'x', 1));
  w.submit(group(bad, 1, 'y', 2));
  const flushed = w.flush();
  const e = await reported;
  t.type(e, LogWriteError);
  const le = e as LogWriteError;
  t.equal(le.op, 'open');
  t.equal(le.file, bad);
  t.equal(le.systemCode, 'ENOENT');
  t.match(le.message, bad);
  await t.rejects(flushed, le, 'the pending flush rejects with it');
  await t.rejects(w.flush(), le, 'a later flush rejects with it');
  await t.rejects(w.truncate(bad, 0), le);
  t.throws(() => w.submit(group(bad, 2, 'z', 3)), le, 'submit refuses');
  t.same(w.progress(), { written: 0, durable: 0 }, 'no progress after the failure');
  await t.rejects(w.close(), le, 'close reports that data was lost');
  t.equal(calls, 1, 'onError fired once');
});

t.test('a write error (ENOSPC from /dev/full) is reported with the operation', { skip: !fs.existsSync('/dev/full') && 'no /dev/full' }, async (t) => {
  const dir = tempDir(t);
  const w = open(t, { flushDiskType: 'SYNC_FLUSH' });
  const reported = errorOf(w);
  const good = path.join(dir, 'good');
  w.submit(group(good, 0, 'fine', 4));
  w.submit(group('/dev/full', 0, 'no room', 11));
  const e = (await reported) as LogWriteError;
  t.equal(e.op, 'write');
  t.equal(e.file, '/dev/full');
  t.equal(e.systemCode, 'ENOSPC');
  t.ok(w.progress().durable <= 4, 'the failed group is never reported');
  await t.rejects(w.flush(), e);
});

t.test('the queued-bytes bound throws a typed error, and lifts once bytes are written', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'log');
  const w = open(t, { flushDiskType: 'ASYNC_FLUSH', maxQueuedBytes: 64 * 1024 });
  const chunk = Buffer.alloc(16 * 1024, 1);
  // in the creating tick nothing can have been written yet
  for (let i = 0; i < 4; i++) w.submit(group(file, i * chunk.length, chunk, (i + 1) * chunk.length));
  const e = t.throws(() => w.submit(group(file, 4 * chunk.length, chunk, 5 * chunk.length))) as WriterBusyError;
  t.type(e, WriterBusyError);
  t.equal(e.code, 'ERR_RAFTMQ_WRITER_BUSY');
  t.equal(e.queuedBytes, 64 * 1024);
  t.equal(e.maxQueuedBytes, 64 * 1024);
  t.equal(w.stats().queuedBytes, 64 * 1024);
  t.equal(await w.flush(), 4 * chunk.length, 'the refused group was not queued');
  t.equal(w.stats().queuedBytes, 0);
  // with nothing queued, a group larger than the bound still goes (it could never go otherwise)
  const big = Buffer.alloc(100 * 1024, 2);
  w.submit(group(file, 4 * chunk.length, big, 4 * chunk.length + big.length));
  t.equal(await w.flush(), 4 * chunk.length + big.length);
  t.equal(fs.statSync(file).size, 4 * chunk.length + big.length);
});

t.test('close drains and fsyncs, then refuses', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'log');
  const w = new WorkerLogWriter({ flushDiskType: 'ASYNC_FLUSH', flushIntervalCommitLog: 3_600_000 });
  for (let i = 0; i < 10; i++) w.submit(group(file, i * 100, pattern(i, 100), (i + 1) * 100));
  await w.close();
  t.equal(fs.statSync(file).size, 1000);
  t.same(w.progress(), { written: 1000, durable: 1000 }, 'everything durable at close');
  t.equal(w.stats().syncCount, 1);
  t.throws(() => w.submit(group(file, 1000, 'x', 1001)), WriterClosedError);
  await t.rejects(w.flush(), WriterClosedError);
  await w.close(); // a second close is harmless
});

t.test('bad arguments are refused on the caller thread', async (t) => {
  t.throws(() => new WorkerLogWriter({ flushDiskType: 'SOMETIMES' as 'SYNC_FLUSH' }), RangeError);
  t.throws(() => new WorkerLogWriter({ stagingBytes: 100 }), RangeError);
  const w = open(t);
  t.throws(() => w.submit({ ops: [{ file: '/x', filePosition: -1, buffers: [] }], endPosition: 0, sync: false }), RangeError);
  t.throws(() => w.submit({ ops: [], endPosition: 1.5, sync: false }), RangeError);
});
