import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { LogCorruptionError } from '../../../storage/log/LogCorruptionError.js';
import { writeCheckpoint } from '../../../storage/log/termFiles.js';
import { tempDir } from '../../helpers/processes.js';
import { bodyFor, dataFile, fill, indexFile, openSmall } from './logTestKit.js';

interface Spot {
  index: number;
  pos: number;
  size: number;
  file: string;
  offset: number;
}

/** A log of `count` entries, closed; returns where each entry sits. */
async function written(dir: string, count: number): Promise<Spot[]> {
  const { log } = await openSmall(dir);
  await fill(log, count);
  const spots = Array.from({ length: count }, (_, i) => {
    const e = log.entryAt(i);
    const start = e.pos - (e.pos % 4096);
    return { index: i, pos: e.pos, size: 48 + e.body.length, file: dataFile(dir, start), offset: e.pos - start };
  });
  await log.close();
  return spots;
}

function flip(file: string, offset: number, mask = 0x40): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0]! ^= mask;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

function zero(file: string, offset: number, length: number): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(length), 0, length, offset);
  fs.closeSync(fd);
}

function cutLine(lines: string[]): string {
  return lines.find((l) => l.includes('cut')) ?? '';
}

t.test('a torn tail (last entry cut short) is truncated and the cut logged', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const last = spots[29]!;
  fs.truncateSync(last.file, last.offset + 60); // header and 12 body bytes made it
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 28);
  t.equal(log.endPosition, last.pos);
  t.match(cutLine(lines), new RegExp(`cut 60 bytes of torn log tail at ${last.file} byte ${last.offset} \\(entry of ${last.size} bytes runs past`));
  t.equal(fs.statSync(last.file).size, last.offset);
  t.same(log.entryAt(28).body, bodyFor(28));
  t.throws(() => log.entryAt(29), RangeError);
  const r = log.append([{ magic: 1, term: 1, body: Buffer.from('again') }], { sync: true });
  t.same([r.firstIndex, r.positions[0]], [29, last.pos], 'the next entry takes the freed spot');
});

t.test('a partial header at the tail is truncated', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 12);
  const last = spots[11]!;
  fs.truncateSync(last.file, last.offset + 20);
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 10);
  t.match(cutLine(lines), /cut 20 bytes .*partial header of 20 bytes/);
});

t.test('zeroed last bytes of the last entry: body CRC fails, the entry is cut', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const last = spots[29]!;
  zero(last.file, last.offset + last.size - 16, 16);
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 28);
  t.match(cutLine(lines), new RegExp(`cut ${last.size} bytes .* byte ${last.offset} \\(body CRC`));
});

t.test('a flipped byte in the tail entry body is cut (CRC)', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const last = spots[29]!;
  flip(last.file, last.offset + 48 + 5);
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 28);
  t.match(cutLine(lines), new RegExp(`cut ${last.size} bytes`));
});

t.test('a flipped byte with valid entries after it refuses to start, naming the file and offset', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const victim = spots.slice(20, 28).find((s) => s.file === spots[29]!.file) ?? spots[27]!;
  flip(victim.file, victim.offset + 48 + 3);
  const before = fs.statSync(victim.file).size;
  const err = await openSmall(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, LogCorruptionError);
  const c = err as LogCorruptionError;
  t.equal(c.file, victim.file);
  t.equal(c.offset, victim.offset);
  t.match(c.message, new RegExp(`log corruption in ${victim.file} at byte ${victim.offset}: body CRC .* index ${victim.index + 1} follows`));
  t.equal(fs.statSync(victim.file).size, before, 'nothing was cut');
});

t.test('a flipped header byte (term) with valid entries after it also refuses to start', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const victim = spots[25]!;
  flip(victim.file, victim.offset + 23, 0x02); // term 1 -> 3: still plausible, only the chain CRC notices
  const err = (await openSmall(dir).catch((e: unknown) => e)) as LogCorruptionError;
  t.type(err, LogCorruptionError);
  t.same([err.file, err.offset], [victim.file, victim.offset]);
  t.match(err.message, /chain CRC/);
});

t.test('a damaged size field, with the index gone too, is still found to sit before valid entries', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const victim = spots[26]!;
  flip(victim.file, victim.offset + 6, 0x01); // size field: the header no longer tells where the next entry is
  fs.rmSync(path.join(dir, 'index'), { recursive: true });
  const err = (await openSmall(dir).catch((e: unknown) => e)) as LogCorruptionError;
  t.type(err, LogCorruptionError);
  t.same([err.file, err.offset], [victim.file, victim.offset]);
});

t.test('junk after the end, and a later data file without entries, are cut', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 10);
  const last = spots[9]!;
  const junk = Buffer.from('garbage that is not an entry header, long enough for one');
  fs.appendFileSync(last.file, junk);
  const lastStart = last.pos - last.offset;
  fs.writeFileSync(dataFile(dir, lastStart + 4096), Buffer.alloc(100, 7));
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 9);
  t.match(cutLine(lines), new RegExp(`cut ${junk.length + 100} bytes .*unknown magic.*deleted 1 later data file`));
  t.notOk(fs.existsSync(dataFile(dir, lastStart + 4096)));
});

t.test('a torn first entry of the last data file removes that file', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 40);
  const firstOfLast = [...spots].reverse().find((s) => s.offset === 0 && s.index > 0)!;
  const lastIndex = spots.filter((s) => s.file === firstOfLast.file).at(-1)!.index;
  // tear everything in the last file: keep half of its first entry
  fs.truncateSync(firstOfLast.file, 30);
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, firstOfLast.index - 1, `entries ${firstOfLast.index}..${lastIndex} lost`);
  t.notOk(fs.existsSync(firstOfLast.file));
  t.equal(log.endPosition, firstOfLast.pos, 'the next entry starts the next file, after the blank marker');
  t.match(cutLine(lines), /cut 30 bytes/);
  const r = log.append([{ magic: 1, term: 1, body: Buffer.alloc(10) }], { sync: true });
  t.equal(r.positions[0], firstOfLast.pos);
});

t.test('a lost blank marker before a file that continues the log is put back', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  const firstOfLast = [...spots].reverse().find((s) => s.offset === 0 && s.index > 0)!;
  const before = spots[firstOfLast.index - 1]!;
  const endOfPrev = before.offset + before.size;
  t.equal(fs.readFileSync(before.file).readInt32BE(endOfPrev), -1, 'the marker was there');
  fs.truncateSync(before.file, endOfPrev);
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 29, 'nothing lost');
  t.match(lines.join('\n'), new RegExp(`restored the missing blank marker at ${before.file} byte ${endOfPrev}`));
  t.same(lines.filter((l) => /cut/.test(l)), []);
  const raw = fs.readFileSync(before.file);
  t.same([raw.readInt32BE(endOfPrev), raw.readInt32BE(endOfPrev + 4)], [-1, 4096 - endOfPrev]);
});

t.test('missing index files are rebuilt from the data', async (t) => {
  const dir = tempDir(t);
  await written(dir, 50);
  fs.rmSync(path.join(dir, 'index'), { recursive: true });
  const { log, lines } = await openSmall(dir);
  t.match(lines.join('\n'), /rebuilt 50 index entries from index 0/);
  for (let i = 0; i < 50; i++) t.same(log.entryAt(i).body, bodyFor(i));
  t.equal(fs.readdirSync(path.join(dir, 'index')).length, 7, '50 entries over 8-entry files');
  await log.close();
  const again = await openSmall(dir);
  t.teardown(() => again.log.close());
  t.same(again.lines.filter((l) => /rebuilt|cut/.test(l)), [], 'nothing to rebuild the second time');
});

t.test('a damaged index entry and a missing middle index file are rebuilt', async (t) => {
  const dir = tempDir(t);
  await written(dir, 50);
  zero(indexFile(dir, 5 * 256), 32 * 2 + 4, 8); // pos of entry 42
  const { log, lines } = await openSmall(dir);
  t.match(lines.join('\n'), /rebuilt 1 index entries from index 42/);
  t.same(log.entryAt(42).body, bodyFor(42));
  await log.close();
  fs.rmSync(indexFile(dir, 256)); // entries 8..15
  await writeCheckpoint(dir, { committedIndex: 45, endIndex: 49 }); // a checkpoint past the hole must not be trusted
  const again = await openSmall(dir);
  t.teardown(() => again.log.close());
  t.match(again.lines.join('\n'), /rebuilt 8 index entries from index 8/);
  t.same(again.log.entryAt(9).body, bodyFor(9));
});

t.test('the scan starts at the checkpoint; older damage is caught when read', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 30);
  await writeCheckpoint(dir, { committedIndex: 20, endIndex: 29 });
  flip(spots[5]!.file, spots[5]!.offset + 48 + 1);
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 29, 'opened: entry 5 lies before the checkpoint and was not rescanned');
  t.same(lines.filter((l) => /cut/.test(l)), []);
  const err = t.throws(() => log.entryAt(5)) as LogCorruptionError;
  t.type(err, LogCorruptionError);
  t.same([err.file, err.offset], [spots[5]!.file, spots[5]!.offset]);
  t.throws(() => log.readRange(3, 10, 1 << 20), LogCorruptionError, 'a range over it too');
  t.same(log.entryAt(6).body, bodyFor(6));
});

t.test('without a checkpoint the scan covers the last three data files', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 80);
  const files = [...new Set(spots.map((s) => s.file))];
  t.ok(files.length > 4);
  const inThirdLast = spots.find((s) => s.file === files.at(-3) && s.offset > 0)!;
  flip(inThirdLast.file, inThirdLast.offset + 50);
  const err = await openSmall(dir).catch((e: unknown) => e);
  t.type(err, LogCorruptionError, 'damage in the third-last file is found');
  flip(inThirdLast.file, inThirdLast.offset + 50); // repair
  const early = spots.find((s) => s.file === files[0] && s.offset > 0)!;
  flip(early.file, early.offset + 50);
  const { log } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 79, 'damage before the scan start does not stop the open');
});

t.test('an entry with zero CRCs after the crc-checked-from marker is not accepted', async (t) => {
  const dir = tempDir(t);
  const spots = await written(dir, 10);
  t.equal(fs.readFileSync(path.join(dir, 'crc-checked-from'), 'utf8'), '0\n', 'marker written on first open of a new store');
  const last = spots[9]!;
  zero(last.file, last.offset + 36, 8); // chainCrc and bodyCrc, as Java DLedger writes them
  const { log, lines } = await openSmall(dir);
  t.teardown(() => log.close());
  t.equal(log.lastIndex, 8);
  t.match(cutLine(lines), /body CRC 0 but/);
});

t.test('the marker file must hold a position', async (t) => {
  const dir = tempDir(t);
  await written(dir, 2);
  fs.writeFileSync(path.join(dir, 'crc-checked-from'), 'banana');
  await t.rejects(openSmall(dir), /crc-checked-from should hold one position/);
});

t.test('data files must be adjacent and sized as configured', async (t) => {
  const dir = tempDir(t);
  await written(dir, 40);
  fs.renameSync(dataFile(dir, 4096), path.join(dir, 'aside'));
  await t.rejects(openSmall(dir), /log corruption in .*00000000000000004096 at byte 0: data file is missing/);
  fs.renameSync(path.join(dir, 'aside'), dataFile(dir, 4096));
  await t.rejects(openSmall(dir, { dataSegmentSize: 8192 }), /does not fit data segments of 8192 bytes/);
});
