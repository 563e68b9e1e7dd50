// SegmentCopy's files: what a crash at any step leaves is finished (or thrown away) at start.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { finishPendingCopy, readInstalledCopy, type CopyManifest } from '../../../raft/node/SegmentCopy.js';
import { tempDir } from '../../helpers/processes.js';

const manifest: CopyManifest = {
  firstIndex: 40,
  lastIndex: 90,
  lastTerm: 3,
  startPos: 4096,
  endPos: 6000,
  dataSegmentSize: 4096,
  crcCheckedFrom: 0,
  snapshotBytes: 5,
  snapshotAppliedIndex: 80,
  leaderId: 'n1',
  term: 3,
};

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function setUp(root: string): string {
  const dir = path.join(root, 'dledger-n0');
  write(path.join(dir, 'data', '00000000000000000000'), 'old data');
  write(path.join(dir, 'index', '00000000000000000000'), 'old index');
  write(path.join(dir, 'checkpoint'), 'committedIndex=9\nendIndex=9\n');
  write(path.join(dir, 'currterm'), 'currTerm=3\nvoteLeader=n1\n');
  write(path.join(dir, 'copy-ready', 'data', '00000000000000004096'), 'new data');
  write(path.join(dir, 'copy-ready', 'snapshot'), 'state');
  write(path.join(dir, 'copy-ready', 'snapshot.json'), JSON.stringify(manifest));
  return dir;
}

function expectSwapped(t: Test, dir: string): void {
  t.same(fs.readdirSync(path.join(dir, 'data')), ['00000000000000004096'], 'the copied segments replace the old ones');
  t.equal(fs.readFileSync(path.join(dir, 'data', '00000000000000004096'), 'utf8'), 'new data');
  t.notOk(fs.existsSync(path.join(dir, 'index')), 'the old DLedger index is gone (rebuilt from the data on open)');
  t.notOk(fs.existsSync(path.join(dir, 'checkpoint')), 'the old checkpoint is gone');
  t.equal(fs.readFileSync(path.join(dir, 'currterm'), 'utf8'), 'currTerm=3\nvoteLeader=n1\n', 'term and vote stay');
  t.equal(fs.readFileSync(path.join(dir, 'snapshot'), 'utf8'), 'state', 'the snapshot is kept beside the log');
  t.notOk(fs.existsSync(path.join(dir, 'copy-ready')));
}

t.test('a received copy is swapped in at start', async (t) => {
  const dir = setUp(tempDir(t, 'raftmq-copy-'));
  const lines: string[] = [];
  t.equal(await finishPendingCopy(dir, (l) => lines.push(l)), true);
  expectSwapped(t, dir);
  t.match(lines.join('\n'), /entries 40\.\.90/);
  t.equal(await finishPendingCopy(dir), false, 'nothing to do a second time');
  const ic = await readInstalledCopy(dir, 40, 4096);
  t.equal(ic.snapshot?.toString(), 'state');
  t.equal((await readInstalledCopy(dir, 90, 9000)).snapshot, null, 'a snapshot older than the log start is not offered');
});

t.test('a swap interrupted after the data moved is finished', async (t) => {
  const dir = setUp(tempDir(t, 'raftmq-copy-'));
  // the crash came right after the copied data was renamed into place
  fs.renameSync(path.join(dir, 'data'), path.join(dir, 'data-replaced'));
  fs.renameSync(path.join(dir, 'copy-ready', 'data'), path.join(dir, 'data'));
  t.equal(await finishPendingCopy(dir), true);
  expectSwapped(t, dir);
  t.notOk(fs.existsSync(path.join(dir, 'data-replaced')), 'the old data is removed');
});

t.test('an unfinished copy is thrown away at start', async (t) => {
  const dir = path.join(tempDir(t, 'raftmq-copy-'), 'dledger-n0');
  write(path.join(dir, 'data', '00000000000000000000'), 'old data');
  write(path.join(dir, 'copy-tmp', 'data', '00000000000000004096'), 'half');
  t.equal(await finishPendingCopy(dir), false);
  t.notOk(fs.existsSync(path.join(dir, 'copy-tmp')));
  t.equal(fs.readFileSync(path.join(dir, 'data', '00000000000000000000'), 'utf8'), 'old data', 'the log is untouched');
});
