import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from '../../../protocol/crc32.js';
import { EntryMagic, decodeEntryHeader, decodeIndexEntry } from '../../../storage/log/entryCodec.js';
import { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import type { WriteGroup } from '../../../storage/log/LogWriter.js';
import { tempDir } from '../../helpers/processes.js';
import { SMALL, ScriptedWriter, bodyFor, dataFile, fill, indexFile, openSmall } from './logTestKit.js';

t.test('an empty log', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  t.same([log.firstIndex, log.lastIndex, log.lastTerm, log.startPosition, log.endPosition], [0, -1, -1, 0, 0]);
  t.throws(() => log.entryAt(0), RangeError);
  t.equal(log.crcCheckedFrom, 0, 'a new store checks every CRC');
});

t.test('append and read back across data and index file rollover', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  t.teardown(() => log.close());
  await fill(log, 60, { batch: 7 });
  t.equal(log.lastIndex, 59);
  t.equal(log.lastTerm, 1);
  const dataFiles = fs.readdirSync(`${dir}/data`).sort();
  t.ok(dataFiles.length >= 5, `entries spread over ${dataFiles.length} data files`);
  t.same(dataFiles.map(Number), dataFiles.map((_, k) => k * 4096), 'data files named by start offset, 4 KiB apart');
  t.same(fs.readdirSync(`${dir}/index`).sort().map(Number), [0, 1, 2, 3, 4, 5, 6, 7].map((k) => k * 256), '8 entries per 256-byte index file');
  for (let i = 0; i <= 59; i++) {
    const e = log.entryAt(i);
    t.equal(e.index, i);
    t.equal(e.term, 1);
    t.equal(e.magic, EntryMagic.MESSAGE);
    t.same(e.body, bodyFor(i), `entry ${i} body`);
    t.same(log.entryAtPosition(e.pos), e, `entry ${i} by position`);
    t.equal(log.termAt(i), 1);
    const fileStart = e.pos - (e.pos % 4096);
    t.ok(e.pos - fileStart + 48 + e.body.length + 8 <= 4096, 'every entry leaves 8 bytes for the blank marker');
  }
  const range = log.readRange(10, 100, 2000);
  t.ok(range.length >= 1 && range.length < 50, `readRange stops at maxBytes (${range.length} entries)`);
  t.same(range.map((e) => e.index), range.map((_, k) => 10 + k));
  t.equal(log.readRange(10, 100, 0).length, 1, 'the first entry is returned even over maxBytes');
  t.equal(log.readRange(55, 100, 1 << 20).length, 5, 'readRange stops at the last entry');
  t.equal(log.readRange(0, 60, 1 << 20).length, 60, 'one read crosses every file boundary');
  t.throws(() => log.entryAtPosition(log.entryAt(3).pos + 1), RangeError, 'a position inside an entry is refused');
});

t.test('the blank marker ends a file whose room is too small', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  t.teardown(() => log.close());
  // 48 + 3900 = 3948; the next 48 + 100 = 148 needs 156 with the spare 8 but only 148 are left
  let r = log.append([{ magic: EntryMagic.MESSAGE, term: 1, body: Buffer.alloc(3900, 1) }]);
  t.equal(r.endPosition, 3948);
  r = log.append([{ magic: EntryMagic.NOOP, term: 1, body: Buffer.alloc(100, 2) }], { sync: true });
  t.same(r.positions, [4096], 'rolled to the next file');
  await log.whenDurable(r.endPosition);
  const first = fs.readFileSync(dataFile(dir, 0));
  t.equal(first.length, 3956, 'old file ends after the 8-byte marker');
  t.equal(first.readInt32BE(3948), -1, 'blank magic');
  t.equal(first.readInt32BE(3952), 4096 - 3948, 'remaining length of the file');
  t.equal(log.entryAt(1).magic, EntryMagic.NOOP);
  // exactly fitting with 8 spare: no roll
  const room = 4096 * 2 - r.endPosition - 8;
  r = log.append([{ magic: EntryMagic.MESSAGE, term: 1, body: Buffer.alloc(room - 48, 3) }]);
  t.same(r.positions, [4096 + 148], 'an entry that fits with exactly 8 bytes to spare stays');
});

t.test('refusals: oversize entries, batch limits, bad kinds, decreasing terms, given index/pos mismatch', async (t) => {
  const { log } = await openSmall(tempDir(t), { maxBatchEntries: 4, maxBatchBytes: 3000 });
  t.teardown(() => log.close());
  t.throws(() => log.append([{ magic: 1, term: 1, body: Buffer.alloc(4096 - 48 - 8 + 1) }]), /exceeds the largest entry of 4088 bytes/);
  t.throws(() => log.append(Array.from({ length: 5 }, () => ({ magic: 1, term: 1, body: Buffer.alloc(1) }))), /maxBatchEntries 4/);
  t.throws(() => log.append([1, 2].map(() => ({ magic: 1, term: 1, body: Buffer.alloc(2000) }))), /maxBatchBytes 3000/);
  t.throws(() => log.append([{ magic: -1, term: 1, body: Buffer.alloc(1) }]), /magic -1 is not an entry kind/);
  t.throws(() => log.append([{ magic: 7, term: 1, body: Buffer.alloc(1) }]), /magic 7/);
  log.append([{ magic: 1, term: 2, body: Buffer.alloc(10) }]);
  t.throws(() => log.append([{ magic: 1, term: 1, body: Buffer.alloc(10) }]), /term 1 is below the log's term 2/);
  t.throws(() => log.append([{ magic: 1, term: 2, body: Buffer.alloc(10), index: 5 }]), /given index 5 but this log's next index is 1/);
  t.throws(() => log.append([{ magic: 1, term: 2, body: Buffer.alloc(10), index: 1, pos: 59 }]), /given pos 59 but this log would put it at 58/);
  // the follower's pos must include the leader's rollover
  const big = { magic: 1, term: 2, body: Buffer.alloc(2900) };
  log.append([big]);
  t.throws(() => log.append([{ ...big, index: 2, pos: 3006 }]), /would put it at 4096/);
  t.equal(log.entryAt(1).pos, 58, 'second entry right after the first');
  t.equal(log.lastIndex, 1, 'refused batches changed nothing');
  const ok = log.append([{ ...big, index: 2, pos: 4096 }]);
  t.same(ok.positions, [4096]);
});

t.test('beforeWrite sees index and pos before the bytes are hashed and written', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  await fill(log, 3);
  const bodies = [Buffer.alloc(16), Buffer.alloc(16)];
  const seen: number[][] = [];
  const r = log.append(
    bodies.map((body) => ({ magic: 1, term: 1, body })),
    {
      sync: true,
      beforeWrite: (i, index, pos) => {
        seen.push([i, index, pos]);
        bodies[i]!.writeBigInt64BE(BigInt(pos + 48), 0); // what the leader does with the physical offset
      },
    },
  );
  t.same(seen, [[0, 3, r.positions[0]], [1, 4, r.positions[1]]]);
  await log.whenDurable(r.endPosition);
  t.equal(log.entryAt(4).body.readBigInt64BE(0), BigInt(r.positions[1]! + 48), 'patched body is what was stored (and its CRC checks)');
});

t.test('a given body CRC is stored as is, and a wrong one is caught by the read, not hidden', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  const good = bodyFor(1);
  const damaged = Buffer.from(bodyFor(2));
  const leaderCrc = crc32(damaged) | 0;
  damaged[10]! ^= 0x40; // a bit flipped after the leader hashed the body
  const r = log.append([
    { magic: EntryMagic.MESSAGE, term: 1, body: good, bodyCrc: crc32(good) | 0 },
    { magic: EntryMagic.MESSAGE, term: 1, body: Buffer.from('no crc given') },
    { magic: EntryMagic.MESSAGE, term: 1, body: damaged, bodyCrc: leaderCrc },
  ]);
  t.same(r.bodyCrcs, [crc32(good) | 0, crc32(Buffer.from('no crc given')) | 0, leaderCrc], 'what each header holds, for the leader to send along');
  t.equal(log.entryAt(2).bodyCrc, leaderCrc, 'before it is written, from memory');
  await log.whenWritten(r.endPosition);
  t.same(log.readRange(0, 2, 1 << 20).map((e) => e.bodyCrc), [crc32(good) | 0, crc32(Buffer.from('no crc given')) | 0], 'read back from the file with their CRCs');
  t.throws(() => log.entryAt(2), { name: 'LogCorruptionError', message: /body CRC/ }, 'the damaged body does not pass for a good one');
  const h = decodeEntryHeader(fs.readFileSync(dataFile(log.dir, 0)), r.positions[2]!);
  t.equal(h.bodyCrc, leaderCrc, "the leader's CRC is on disk");
  t.throws(() => log.append([{ magic: EntryMagic.MESSAGE, term: 1, body: good, bodyCrc: 2 ** 32 }]), RangeError, 'a CRC that is not a signed 32-bit value is refused');
  t.equal(log.lastIndex, 2);
});

t.test('unwritten entries are read from memory; written and durable positions follow the writer', async (t) => {
  const { log } = await openSmall(tempDir(t));
  t.teardown(() => log.close());
  const r = log.append([{ magic: 1, term: 1, body: [Buffer.from('ab'), Buffer.from('cd')] }]);
  t.equal(log.writtenPosition, 0, 'progress is reported later, not inside append');
  t.same(log.entryAt(0).body, Buffer.from('abcd'), 'readable before the writer reported it');
  t.ok(log.unwrittenBytes > 0);
  await log.whenWritten(r.endPosition);
  t.equal(log.writtenPosition, r.endPosition);
  t.equal(log.unwrittenBytes, 0, 'memory released once written');
  t.equal(log.durablePosition, 0, 'no fsync was asked for');
  const r2 = log.append([{ magic: 1, term: 1, body: Buffer.from('x') }], { sync: true });
  await log.whenDurable(r2.endPosition);
  t.equal(log.durablePosition, r2.endPosition, 'a sync group makes everything before it durable');
  t.same(log.entryAt(0).body, Buffer.from('abcd'), 'now read from the file');
});

t.test('truncateSuffix then append again', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  await fill(log, 40, { batch: 4 });
  const cut = log.entryAt(25);
  const prevEnd = log.entryAt(24);
  const waiting = log.whenDurable(log.endPosition + 1000);
  await log.truncateSuffix(25);
  await t.rejects(waiting, /truncated/, 'waiters beyond the cut are told');
  t.equal(log.lastIndex, 24);
  t.equal(log.endPosition, cut.pos);
  t.ok(cut.pos === prevEnd.pos + 48 + prevEnd.body.length || cut.pos % 4096 === 0, 'the cut is right after entry 24');
  t.throws(() => log.entryAt(25), RangeError);
  const lastData = Math.max(...fs.readdirSync(`${dir}/data`).map(Number));
  t.ok(lastData <= cut.pos, 'data files after the cut are deleted');
  t.equal(fs.statSync(indexFile(dir, 3 * 256)).size, 1 * 32, 'index file cut after entry 24');
  t.notOk(fs.existsSync(indexFile(dir, 4 * 256)), 'later index files deleted');
  // a new term's entries take the same index and position
  const r = log.append([{ magic: 1, term: 2, body: Buffer.from('new 25') }], { sync: true });
  t.same([r.firstIndex, r.positions[0]], [25, cut.pos]);
  await log.whenDurable(r.endPosition);
  t.same(log.entryAt(25).body, Buffer.from('new 25'));
  t.equal(log.termAt(25), 2);
  t.equal(log.termAt(24), 1);
  await fill(log, 20, { term: 2 });
  t.equal(log.lastIndex, 45);
  await log.close();
  const again = await openSmall(dir);
  t.teardown(() => again.log.close());
  t.equal(again.log.lastIndex, 45, 'reopen after truncation sees the new entries');
  t.same(again.log.entryAt(25).body, Buffer.from('new 25'));
  t.same(again.log.entryAt(30).body, bodyFor(30));
});

t.test('truncateSuffix at a file start and of unwritten entries', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  t.teardown(() => log.close());
  await fill(log, 30);
  let k = 1;
  while (log.entryAt(k).pos % 4096 !== 0) k++;
  const firstOfFile = log.entryAt(k);
  await log.truncateSuffix(k);
  t.notOk(fs.existsSync(dataFile(dir, firstOfFile.pos)), 'a file whose first entry goes is deleted');
  t.equal(log.endPosition, firstOfFile.pos);
  const r = log.append([{ magic: 1, term: 1, body: Buffer.alloc(10) }]); // not yet written
  t.equal(r.positions[0], firstOfFile.pos);
  log.append([{ magic: 1, term: 1, body: Buffer.alloc(10) }]);
  t.throws(() => log.append([{ magic: 1, term: 1, body: Buffer.alloc(1) }, { magic: 1, term: 1, body: Buffer.alloc(1), index: 0 }]), /given index 0/);
  const trunc = log.truncateSuffix(k + 1);
  t.throws(() => log.append([{ magic: 1, term: 1, body: Buffer.alloc(1) }]), /during truncateSuffix/);
  await trunc;
  t.equal(log.lastIndex, k);
  t.equal(log.entryAt(k).body.length, 10);
});

t.test('truncateSuffix(0) empties a log that starts at 0', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  await fill(log, 10);
  await log.truncateSuffix(0);
  t.same([log.firstIndex, log.lastIndex, log.lastTerm, log.endPosition], [0, -1, -1, 0]);
  await fill(log, 3, { term: 5 });
  await log.close();
  const again = await openSmall(dir);
  t.teardown(() => again.log.close());
  t.same([again.log.lastIndex, again.log.lastTerm], [2, 5]);
});

t.test('dropPrefix deletes whole old files only, never the last one with entries', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  await fill(log, 60);
  const fileOf = (i: number): number => log.entryAt(i).pos - (log.entryAt(i).pos % 4096);
  const idx = 20;
  const keepFrom = fileOf(idx);
  const res = await log.dropPrefix(idx);
  t.same(res.dataFiles, Array.from({ length: keepFrom / 4096 }, (_, k) => dataFile(dir, k * 4096)), 'files wholly below the index');
  t.equal(res.startPosition, keepFrom);
  t.equal(log.startPosition, keepFrom);
  t.ok(log.firstIndex <= idx, 'entries at or above beforeIndex stay');
  t.equal(res.firstIndex, log.firstIndex);
  t.equal(log.entryAt(log.firstIndex).pos, keepFrom);
  t.throws(() => log.entryAt(log.firstIndex - 1), /below the first index/);
  t.same(res.indexFiles, Array.from({ length: Math.floor(log.firstIndex / 8) }, (_, k) => indexFile(dir, k * 256)), 'index files wholly below');
  const all = await log.dropPrefix(10_000);
  t.ok(fs.existsSync(dataFile(dir, fileOf(59))), 'the last data file stays');
  t.ok(all.dataFiles.length > 0);
  t.equal(log.firstIndex, log.entryAt(log.firstIndex).index);
  t.equal(log.lastIndex, 59);
  const first = log.firstIndex;
  const lastFile = fileOf(59);
  await t.rejects(log.truncateSuffix(first), /would lose its first index/, 'a log that starts above 0 keeps its first entry');
  await t.rejects(log.truncateSuffix(first - 1), /cannot truncate/);
  await log.close();
  const again = await openSmall(dir);
  t.teardown(() => again.log.close());
  t.same([again.log.firstIndex, again.log.lastIndex, again.log.startPosition], [first, 59, lastFile], 'reopen after dropPrefix');
  t.same(again.log.entryAt(59).body, bodyFor(59));
});

t.test('reopen after close gives the same state and bytes', async (t) => {
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  await fill(log, 33, { batch: 6 });
  log.append([{ magic: EntryMagic.METADATA_MIN, term: 4, body: Buffer.from('topic config') }]); // not synced: close must finish it
  const before = { first: log.firstIndex, last: log.lastIndex, term: log.lastTerm, end: log.endPosition, start: log.startPosition };
  const closing = log.whenDurable(log.endPosition);
  await log.close();
  await closing;
  const again = await openSmall(dir);
  t.teardown(() => again.log.close());
  const l = again.log;
  t.same({ first: l.firstIndex, last: l.lastIndex, term: l.lastTerm, end: l.endPosition, start: l.startPosition }, before);
  t.same(l.entryAt(33), { magic: 16, index: 33, term: 4, pos: before.end - 48 - 12, body: Buffer.from('topic config'), bodyCrc: crc32(Buffer.from('topic config')) | 0 });
  t.same(again.lines.filter((x) => /cut|rebuilt/.test(x)), [], 'a clean reopen cuts and rebuilds nothing');
  t.throws(() => log.entryAt(0), /closed/);
  // the index entries on disk describe the entries
  const ie = decodeIndexEntry(fs.readFileSync(indexFile(dir, 0)), 32 * 3);
  const h = decodeEntryHeader(fs.readFileSync(dataFile(dir, 0)), ie.pos);
  t.same([ie.index, ie.term, ie.size, ie.magic], [h.index, h.term, h.size, h.magic]);
});

t.test('the writer failing rejects waiters and stops appends', async (t) => {
  const writer = new ScriptedWriter('latest');
  const log = await SegmentedLog.open({ dir: tempDir(t), writer, ...SMALL, log: () => undefined });
  const r = log.append([{ magic: 1, term: 1, body: Buffer.alloc(1) }]);
  const waiting = log.whenWritten(r.endPosition);
  writer.failWith(new Error('disk on fire'));
  await t.rejects(waiting, /disk on fire/);
  await t.rejects(log.whenDurable(1), /disk on fire/, 'later waits fail at once');
  t.throws(() => log.append([{ magic: 1, term: 1, body: Buffer.alloc(1) }]), /writer failed: disk on fire/);
  await log.close();
});

/** A ScriptedWriter that copies each group's bytes on submit, as a writer that releases them must. */
class CopyingWriter extends ScriptedWriter {
  readonly releasesOnSubmit = true;
  readonly copies: Buffer[] = [];
  override submit(group: WriteGroup): void {
    super.submit(group);
    this.copies.push(Buffer.concat(group.ops.flatMap((op) => op.buffers)));
  }
}

t.test('group buffers: reused only with a writer that releases them on submit', async (t) => {
  const groupBytes = (g: WriteGroup): Buffer => Buffer.concat(g.ops.flatMap((op) => op.buffers));
  const keeping = new ScriptedWriter('latest');
  const a = await SegmentedLog.open({ dir: tempDir(t), writer: keeping, log: () => undefined });
  a.append([{ magic: 1, term: 1, body: bodyFor(1, 900) }]);
  const first = Buffer.from(groupBytes(keeping.groups[0]!));
  a.append([{ magic: 1, term: 1, body: bodyFor(2, 900) }]);
  t.same(groupBytes(keeping.groups[0]!), first, 'a writer that keeps the buffers still has the first group intact after the second append');
  await a.close();

  // groups over 4 KiB: smaller ones would come from Buffer's shared pool, the same memory either way
  const releasing = new CopyingWriter('latest');
  const b = await SegmentedLog.open({ dir: tempDir(t), writer: releasing, log: () => undefined });
  for (let i = 0; i < 3; i++) b.append([{ magic: 1, term: 1, body: bodyFor(i, 3000) }, { magic: 1, term: 1, body: bodyFor(i + 10, 2000) }]);
  const data = releasing.groups.map((g) => g.ops[0]!.buffers[0]!.buffer);
  t.equal(data[1], data[0], 'the second group reuses the first one\'s memory');
  t.equal(data[2], data[0], 'and so does the third');
  for (let i = 0; i < 3; i++) {
    const c = releasing.copies[i]!;
    t.ok(c.includes(bodyFor(i, 3000)) && c.includes(bodyFor(i + 10, 2000)), `group ${i} carried its own bodies when submitted`);
  }
  const big = b.append([{ magic: 1, term: 1, body: Buffer.alloc(5 * 1024 * 1024, 3) }]);
  t.not(releasing.groups[3]!.ops[0]!.buffers[0]!.buffer, data[0], 'a group over the kept size gets a buffer of its own');
  t.equal(big.lastIndex, 6);
  await b.close();
});

t.test('group buffers with a coalescing writer: reused only once the queued groups are written', async (t) => {
  const { SyncLogWriter } = await import('../../../storage/log/SyncLogWriter.js');
  const dir = tempDir(t);
  const w = new SyncLogWriter({ coalesce: true });
  const submitted: WriteGroup[] = [];
  const submit = w.submit.bind(w);
  w.submit = (g: WriteGroup) => {
    submitted.push(g);
    submit(g);
  };
  const log = await SegmentedLog.open({ dir, writer: w, log: () => undefined });
  const two = (i: number) => [{ magic: 1, term: 1, body: bodyFor(i, 3000) }, { magic: 1, term: 1, body: bodyFor(i + 10, 2000) }];
  log.append(two(0));
  t.equal(w.buffersReleased, false, 'a queued group holds its buffers');
  log.append(two(1));
  const data = submitted.map((g) => g.ops[0]!.buffers[0]!.buffer);
  t.not(data[1], data[0], 'the second group of a batch gets memory of its own');
  log.writeNow();
  t.equal(w.buffersReleased, true, 'written: nothing held');
  log.append(two(2));
  t.equal(submitted[2]!.ops[0]!.buffers[0]!.buffer, data[0], 'the next batch reuses the memory');
  log.writeNow();
  await log.whenWritten(log.endPosition);
  for (let i = 0; i < 3; i++) {
    t.same(log.entryAt(2 * i).body, bodyFor(i, 3000), `entry ${2 * i} read back`);
    t.same(log.entryAt(2 * i + 1).body, bodyFor(i + 10, 2000), `entry ${2 * i + 1} read back`);
  }
  const file = fs.readFileSync(dataFile(dir, 0));
  for (let i = 0; i < 3; i++) t.ok(file.includes(bodyFor(i, 3000)) && file.includes(bodyFor(i + 10, 2000)), `batch ${i} is on disk intact`);
  await log.close();
});

t.test('the background sync of the newest files skips a folder that is gone (a copy or truncation replacing it)', async (t) => {
  const { syncNewestSegments } = await import('../../../storage/log/backgroundSync.js');
  const dir = tempDir(t);
  const { log } = await openSmall(dir);
  await fill(log, 10);
  await syncNewestSegments(log);
  const kept = tempDir(t);
  fs.renameSync(path.join(dir, 'index'), path.join(kept, 'index'));
  await t.resolves(syncNewestSegments(log), 'no ENOENT from the missing index folder');
  fs.renameSync(path.join(kept, 'index'), path.join(dir, 'index'));
  await log.close();
});
