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
