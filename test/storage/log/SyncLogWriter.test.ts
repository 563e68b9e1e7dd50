import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';
import type { WriterProgress } from '../../../storage/log/LogWriter.js';
import { tempDir } from '../../helpers/processes.js';

t.test('writes groups at positions, reports written and durable after the call', async (t) => {
  const dir = tempDir(t);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const w = new SyncLogWriter();
  const seen: WriterProgress[] = [];
  w.onProgress((p) => seen.push(p));
  w.submit({ ops: [{ file: a, filePosition: 0, buffers: [Buffer.from('he'), Buffer.from('llo')] }], endPosition: 5, sync: false });
  t.same(seen, [], 'listeners are not called inside submit');
  await Promise.resolve();
  t.same(seen, [{ written: 5, durable: 0 }]);
  w.submit({
    ops: [
      { file: a, filePosition: 5, buffers: [Buffer.from(' world')] },
      { file: b, filePosition: 4, buffers: [Buffer.from('x')] },
    ],
    endPosition: 11,
    sync: true,
  });
  t.same(w.progress(), { written: 11, durable: 11 }, 'a sync group is fsynced before submit returns');
  t.equal(fs.readFileSync(a, 'utf8'), 'hello world');
  t.same(fs.readFileSync(b), Buffer.from([0, 0, 0, 0, 0x78]), 'a new file is created, written at its position');
  w.submit({ ops: [{ file: a, filePosition: 0, buffers: [Buffer.from('J')] }], endPosition: 12, sync: false });
  t.equal(await w.flush(), 12);
  await w.truncate(a, 4);
  t.equal(fs.readFileSync(a, 'utf8'), 'Jell');
  await w.truncate(path.join(dir, 'missing'), 0);
  await w.release(a);
  fs.rmSync(a);
  w.submit({ ops: [{ file: a, filePosition: 0, buffers: [Buffer.from('new')] }], endPosition: 15, sync: true });
  t.equal(fs.readFileSync(a, 'utf8'), 'new', 'a released file is reopened (and recreated) on the next write');
  await w.close();
  t.throws(() => w.submit({ ops: [], endPosition: 16, sync: false }), /after close/);
});

t.test('a failed write is reported once and stops progress', async (t) => {
  const dir = tempDir(t);
  const w = new SyncLogWriter();
  const errors: Error[] = [];
  w.onError((e) => errors.push(e));
  w.submit({ ops: [{ file: path.join(dir, 'no-such-dir', 'f'), filePosition: 0, buffers: [Buffer.from('x')] }], endPosition: 1, sync: false });
  await Promise.resolve();
  t.equal(errors.length, 1);
  t.match(errors[0]!.message, /ENOENT/);
  w.submit({ ops: [{ file: path.join(dir, 'ok'), filePosition: 0, buffers: [Buffer.from('x')] }], endPosition: 2, sync: false });
  t.same(w.progress(), { written: 0, durable: 0 }, 'nothing after the failure');
  await t.rejects(w.flush(), /ENOENT/);
  await w.close();
});

t.test('coalesce: groups of one turn are written together, one writev per file run, after the turn', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const index = path.join(dir, 'index');
  const w = new SyncLogWriter({ coalesce: true });
  const seen: WriterProgress[] = [];
  w.onProgress((p) => seen.push(p));
  const calls: string[] = [];
  const real = fs.writevSync;
  fs.writevSync = ((fd: number, bufs: NodeJS.ArrayBufferView[], pos?: number) => {
    calls.push(`${fs.readlinkSync(`/proc/self/fd/${fd}`) === data ? 'data' : 'index'}@${pos}x${bufs.length}`);
    return real(fd, bufs, pos);
  }) as typeof fs.writevSync;
  t.teardown(() => {
    fs.writevSync = real;
  });
  // three appends as SegmentedLog makes them: a data op and an index op each, alternating files
  for (let i = 0; i < 3; i++) {
    w.submit({
      ops: [
        { file: data, filePosition: i * 3, buffers: [Buffer.from(`d${i}`), Buffer.from('.')] },
        { file: index, filePosition: i * 2, buffers: [Buffer.from(`i${i}`)] },
      ],
      endPosition: (i + 1) * 3,
      sync: i === 1,
    });
  }
  t.same(calls, [], 'nothing is written inside submit');
  t.notOk(fs.existsSync(data));
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.resolve();
  t.same(calls.sort(), ['data@0x6', 'index@0x3'], 'one writev per file');
  t.equal(fs.readFileSync(data, 'utf8'), 'd0.d1.d2.');
  t.equal(fs.readFileSync(index, 'utf8'), 'i0i1i2');
  t.same(seen, [{ written: 9, durable: 9 }], 'one progress report; a sync group makes the whole batch durable');

  // a gap (a suffix truncation rewrote from an earlier position) starts a new writev
  calls.length = 0;
  w.submit({ ops: [{ file: data, filePosition: 9, buffers: [Buffer.from('x')] }], endPosition: 10, sync: false });
  w.submit({ ops: [{ file: data, filePosition: 4, buffers: [Buffer.from('Y')] }], endPosition: 5, sync: false });
  t.equal(await w.flush(), 5, 'flush writes what is queued first, then fsyncs');
  t.same(calls, ['data@9x1', 'data@4x1'], 'in submission order');
  t.equal(fs.readFileSync(data, 'utf8'), 'd0.dY.d2.x');
  w.submit({ ops: [{ file: index, filePosition: 6, buffers: [Buffer.from('z')] }], endPosition: 11, sync: false });
  await w.close();
  t.equal(fs.readFileSync(index, 'utf8'), 'i0i1i2z', 'close writes what is queued');
});

t.test('coalesce: writeQueued writes what is queued at once, in one writev per file run', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const w = new SyncLogWriter({ coalesce: true });
  const seen: WriterProgress[] = [];
  w.onProgress((p) => seen.push(p));
  w.submit({ ops: [{ file: data, filePosition: 0, buffers: [Buffer.from('ab')] }], endPosition: 2, sync: false });
  w.submit({ ops: [{ file: data, filePosition: 2, buffers: [Buffer.from('cd')] }], endPosition: 4, sync: false });
  t.notOk(fs.existsSync(data), 'queued, not written');
  w.writeQueued();
  t.equal(fs.readFileSync(data, 'utf8'), 'abcd', 'written before writeQueued returns');
  t.same(w.progress(), { written: 4, durable: 0 });
  t.same(seen, [], 'listeners still hear of it in a microtask, not inside the call');
  await Promise.resolve();
  t.same(seen, [{ written: 4, durable: 0 }]);
  // the immediate scheduled by the first submit finds nothing left, and later submits queue again
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(seen.length, 1, 'nothing written twice');
  w.submit({ ops: [{ file: data, filePosition: 4, buffers: [Buffer.from('e')] }], endPosition: 5, sync: false });
  t.equal(fs.readFileSync(data, 'utf8'), 'abcd', 'a later submit is queued again');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(fs.readFileSync(data, 'utf8'), 'abcde');
  await w.close();
  w.writeQueued();
  t.pass('writeQueued after close does nothing');
});
