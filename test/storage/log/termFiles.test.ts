import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import {
  parseProperties,
  readCheckpoint,
  readCurrTerm,
  writeCheckpoint,
  writeCurrTerm,
  writeFileAtomic,
} from '../../../storage/log/termFiles.js';
import { tempDir } from '../../helpers/processes.js';

t.test('currterm round trip in DLedger text, with a .bak copy', async (t) => {
  const dir = tempDir(t);
  t.equal(await readCurrTerm(dir), undefined, 'a new folder has no term yet');
  await writeCurrTerm(dir, { currTerm: 7, voteLeader: 'n1' });
  t.equal(fs.readFileSync(path.join(dir, 'currterm'), 'utf8'), 'voteLeader=n1\ncurrTerm=7\n');
  t.equal(fs.readFileSync(path.join(dir, 'currterm.bak'), 'utf8'), 'voteLeader=n1\ncurrTerm=7\n');
  t.same(await readCurrTerm(dir), { currTerm: 7, voteLeader: 'n1' });
  await writeCurrTerm(dir, { currTerm: 8, voteLeader: null });
  t.equal(fs.readFileSync(path.join(dir, 'currterm'), 'utf8'), 'voteLeader=\ncurrTerm=8\n', 'no vote is an empty value, as DLedger writes it');
  t.same(await readCurrTerm(dir), { currTerm: 8, voteLeader: null });
  t.same(fs.readdirSync(dir).sort(), ['currterm', 'currterm.bak'], 'no temp files left behind');
});

t.test('checkpoint round trip', async (t) => {
  const dir = tempDir(t);
  await writeCheckpoint(dir, { committedIndex: 10, endIndex: 12 });
  t.equal(fs.readFileSync(path.join(dir, 'checkpoint'), 'utf8'), 'committedIndex=10\nendIndex=12\n');
  t.same(await readCheckpoint(dir), { committedIndex: 10, endIndex: 12 });
  await writeCheckpoint(dir, { committedIndex: -1, endIndex: -1 });
  t.same(await readCheckpoint(dir), { committedIndex: -1, endIndex: -1 });
  await t.rejects(writeCheckpoint(dir, { committedIndex: 1.5, endIndex: 2 }), /committedIndex must be an integer/);
});

t.test('reading falls back to .bak when the main file is missing or unreadable', async (t) => {
  const dir = tempDir(t);
  await writeCurrTerm(dir, { currTerm: 3, voteLeader: 'n2' });
  fs.rmSync(path.join(dir, 'currterm'));
  t.same(await readCurrTerm(dir), { currTerm: 3, voteLeader: 'n2' }, 'missing');
  fs.writeFileSync(path.join(dir, 'currterm'), 'voteLeader=n0\ncurrTerm=');
  t.same(await readCurrTerm(dir), { currTerm: 3, voteLeader: 'n2' }, 'torn');
  fs.writeFileSync(path.join(dir, 'currterm'), Buffer.alloc(70_000, 0x41));
  t.same(await readCurrTerm(dir), { currTerm: 3, voteLeader: 'n2' }, 'not ours');
  fs.writeFileSync(path.join(dir, 'currterm.bak'), 'currTerm=x\n');
  await t.rejects(readCurrTerm(dir), /cannot read .*currterm or its \.bak: .*currterm\.bak: currTerm=x is not an integer/, 'never a silent reset of the term');
  await writeCheckpoint(dir, { committedIndex: 5, endIndex: 6 });
  fs.writeFileSync(path.join(dir, 'checkpoint'), 'garbage');
  t.same(await readCheckpoint(dir), { committedIndex: 5, endIndex: 6 });
});

t.test('quick successive writes land in order', async (t) => {
  const dir = tempDir(t);
  await Promise.all([1, 2, 3, 4, 5].map((n) => writeCurrTerm(dir, { currTerm: n, voteLeader: `n${n}` })));
  t.same(await readCurrTerm(dir), { currTerm: 5, voteLeader: 'n5' });
  t.same(fs.readdirSync(dir).sort(), ['currterm', 'currterm.bak']);
});

t.test('refuses values the format cannot carry', async (t) => {
  const dir = tempDir(t);
  await t.rejects(writeCurrTerm(dir, { currTerm: -1, voteLeader: null }), /currTerm must be a non-negative integer/);
  await t.rejects(writeCurrTerm(dir, { currTerm: 1, voteLeader: 'a\nb' }), /cannot be written/);
});

t.test('properties parsing: comments, separators, spaces', async (t) => {
  const p = parseProperties('#Tue Nov 27\n! also a comment\n currTerm = 4 \nvoteLeader:n0\n\nempty=\n');
  t.same([...p.entries()], [['currTerm', '4'], ['voteLeader', 'n0'], ['empty', '']]);
});

t.test('writeFileAtomic replaces a file whole', async (t) => {
  const dir = tempDir(t);
  const f = path.join(dir, 'x');
  await writeFileAtomic(f, 'one');
  await writeFileAtomic(f, 'two');
  t.equal(fs.readFileSync(f, 'utf8'), 'two');
  t.same(fs.readdirSync(dir), ['x']);
});
