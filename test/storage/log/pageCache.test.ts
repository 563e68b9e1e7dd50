// The commit log's cache window: which file ranges it drops (with a recording drop function),
// and the native addon's posix_fadvise / mincore on a real file.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { CacheWindow, MIN_DROP_STEP, addonDropPages, cacheWindowFor, type CacheSegment } from '../../../storage/log/pageCache.js';
import { builtAddon, syncedFile } from '../../helpers/pageCache.js';

const MiB = 1024 * 1024;

interface Drop {
  file: string;
  offset: number;
  length: number;
}

function recorder(): { drops: Drop[]; drop: (file: string, offset: number, length: number) => Promise<void> } {
  const drops: Drop[] = [];
  return { drops, drop: async (file, offset, length) => void drops.push({ file, offset, length }) };
}

/** Data files of `size` bytes starting at `first`. */
function segments(first: number, size: number, count: number): CacheSegment[] {
  return Array.from({ length: count }, (_, k) => ({ start: first + k * size, path: `f${k}` }));
}

t.test('nothing is dropped until the log is a step longer than the window', async (t) => {
  const { drops, drop } = recorder();
  const w = new CacheWindow(64 * MiB, drop);
  const segs = segments(0, 1024 * MiB, 1);
  t.equal(await w.trim(segs, 1024 * MiB, 64 * MiB), 0);
  t.equal(await w.trim(segs, 1024 * MiB, 64 * MiB + MIN_DROP_STEP - 1), 0, 'less than one step behind the window');
  t.same(drops, []);
  t.equal(await w.trim(segs, 1024 * MiB, 64 * MiB + MIN_DROP_STEP), MIN_DROP_STEP);
  t.same(drops, [{ file: 'f0', offset: 0, length: MIN_DROP_STEP }]);
  t.equal(w.droppedBytes, MIN_DROP_STEP);
});

t.test('each trim continues where the last stopped, across file boundaries, in file offsets', async (t) => {
  const { drops, drop } = recorder();
  const size = 100 * MiB;
  const w = new CacheWindow(50 * MiB, drop);
  const segs = segments(1000 * MiB, size, 4); // a log whose first file starts at 1000 MiB
  t.equal(await w.trim(segs, size, 1000 * MiB + 130 * MiB), 80 * MiB);
  t.same(drops.splice(0), [{ file: 'f0', offset: 0, length: 80 * MiB }]);
  t.equal(await w.trim(segs, size, 1000 * MiB + 300 * MiB), 170 * MiB);
  t.same(drops.splice(0), [
    { file: 'f0', offset: 80 * MiB, length: 20 * MiB },
    { file: 'f1', offset: 0, length: 100 * MiB },
    { file: 'f2', offset: 0, length: 50 * MiB },
  ]);
  t.equal(await w.trim(segs, size, 1000 * MiB + 310 * MiB), 0, 'a step is at least MIN_DROP_STEP');
  t.equal(await w.trim(segs, size, 1000 * MiB + 400 * MiB), 100 * MiB);
  t.same(drops.splice(0), [
    { file: 'f2', offset: 50 * MiB, length: 50 * MiB },
    { file: 'f3', offset: 0, length: 50 * MiB },
  ]);
  t.equal(w.droppedBytes, 350 * MiB);
});

t.test('a window smaller than a step drops in steps of the window', async (t) => {
  const { drops, drop } = recorder();
  const w = new CacheWindow(64 * 1024, drop);
  const segs = segments(0, MiB, 2);
  t.equal(await w.trim(segs, MiB, 100 * 1024), 0);
  t.equal(await w.trim(segs, MiB, 128 * 1024), 64 * 1024);
  t.same(drops, [{ file: 'f0', offset: 0, length: 64 * 1024 }]);
});

t.test('retention and truncation: start at the first file; a log that moved back starts over', async (t) => {
  const { drops, drop } = recorder();
  const size = 100 * MiB;
  const w = new CacheWindow(20 * MiB, drop);
  t.equal(await w.trim(segments(0, size, 3), size, 120 * MiB), 100 * MiB);
  drops.splice(0);
  // retention removed f0 and f1: the next trim starts at the new first file
  const later = [{ start: 200 * MiB, path: 'g2' }, { start: 300 * MiB, path: 'g3' }];
  t.equal(await w.trim(later, size, 340 * MiB), 120 * MiB);
  t.same(drops.splice(0), [
    { file: 'g2', offset: 0, length: 100 * MiB },
    { file: 'g3', offset: 0, length: 20 * MiB },
  ]);
  // a copied-in log that ends before where the window had got to
  const copied = [{ start: 0, path: 'h0' }];
  t.equal(await w.trim(copied, size, 60 * MiB), 40 * MiB);
  t.same(drops.splice(0), [{ file: 'h0', offset: 0, length: 40 * MiB }]);
});

t.test('the window must be a positive integer', async (t) => {
  const { drop } = recorder();
  t.throws(() => new CacheWindow(0, drop), RangeError);
  t.throws(() => new CacheWindow(1.5, drop), RangeError);
  t.equal(cacheWindowFor(0), null, '0 leaves the cache to the kernel');
  t.equal(cacheWindowFor(undefined), null);
});

t.test('the addon drops a fsynced range from the page cache and counts cached pages', async (t) => {
  const addon = builtAddon();
  const { file, fd } = syncedFile(t, 8 * MiB, 7);
  const pages = (8 * MiB) / 4096;
  t.equal(addon.cachedPages(fd, 0, 8 * MiB), pages, 'just written: all cached');
  await addon.dropCache(fd, 0, 4 * MiB);
  t.equal(addon.cachedPages(fd, 0, 4 * MiB), 0, 'the dropped half');
  t.equal(addon.cachedPages(fd, 4 * MiB, 4 * MiB), pages / 2, 'the other half stays');

  await addonDropPages(addon)(file, 4 * MiB, 4 * MiB);
  t.equal(addon.cachedPages(fd, 0, 8 * MiB), 0, 'by path');
  t.same(fs.readFileSync(file), Buffer.alloc(8 * MiB, 7), 'the data is intact (read back from the disk)');
  t.equal(addon.cachedPages(fd, 0, 8 * MiB), pages, 'and cached again by the read');
  await t.resolves(addonDropPages(addon)(path.join(path.dirname(file), 'gone'), 0, MiB), 'a file removed meanwhile is nothing to drop');

  await t.rejects(addon.dropCache(123_456, 0, 4096), { code: 'EBADF' });
  t.throws(() => addon.dropCache(fd, -1, 4096), RangeError);
  t.throws(() => (addon.dropCache as (...a: unknown[]) => unknown)(fd, '0', 4096), TypeError);
});

t.test('the addon tells a cached byte from one on the disk, and reads a range into the cache in the thread pool', async (t) => {
  const addon = builtAddon();
  const { file, fd } = syncedFile(t, 8 * MiB, 3);
  t.equal(addon.isCached(fd, 0), true, 'just written: cached');
  t.equal(addon.isCached(fd, 8 * MiB - 1), true, 'the last byte too');
  await addon.dropCache(fd, 0, 8 * MiB);
  t.equal(addon.isCached(fd, 0), false, 'dropped: the read would wait for the disk');
  t.equal(addon.isCached(fd, 5 * MiB + 17), false, 'anywhere in the range');

  t.equal(await addon.readThrough(fd, MiB, 600 * 1024), 600 * 1024, 'the bytes read (more than one chunk of the worker)');
  t.equal(addon.isCached(fd, MiB), true, 'the range is cached now');
  t.equal(addon.isCached(fd, MiB + 600 * 1024 - 1), true, 'to its end');
  t.equal(addon.cachedPages(fd, MiB, 600 * 1024), (600 * 1024) / 4096, 'every page of it');
  t.equal(await addon.readThrough(fd, 8 * MiB - 100, 1000), 100, 'short at the end of the file');
  t.equal(await addon.readThrough(fd, 9 * MiB, 10), 0, 'nothing past it');
  t.equal(addon.isCached(fd, 9 * MiB), true, 'past the end nothing waits');

  await addon.dropCache(fd, 0, 8 * MiB);
  const own = fs.openSync(file, 'r');
  const read = addon.readThrough(own, 0, MiB);
  fs.closeSync(own);
  t.equal(await read, MiB, 'the caller may close its descriptor at once: the job reads through a duplicate');
  t.equal(addon.cachedPages(fd, 0, MiB), MiB / 4096, 'and the range is cached');
  await t.rejects(addon.readThrough(123_456, 0, 4096), { code: 'EBADF' });
  t.throws(() => addon.isCached(123_456, 0), { code: 'EBADF' });
  t.throws(() => addon.isCached(fd, -1), RangeError);
  t.throws(() => (addon.isCached as (...a: unknown[]) => unknown)(fd), TypeError);
  t.throws(() => addon.readThrough(fd, 0, -1), RangeError);
});

t.test('a failing drop turns the window off, says so once, and never throws into the log', async (t) => {
  const lines: string[] = [];
  let calls = 0;
  const w = new CacheWindow(
    MiB,
    async () => {
      calls++;
      throw Object.assign(new Error('EINVAL: not supported'), { code: 'EINVAL' });
    },
    (l) => lines.push(l),
  );
  const segs = segments(0, 64 * MiB, 1);
  t.equal(await w.trim(segs, 64 * MiB, 40 * MiB), 0);
  t.match(w.failure?.message, /EINVAL/);
  t.equal(await w.trim(segs, 64 * MiB, 60 * MiB), 0, 'off from then on');
  t.equal(calls, 1, 'no more drops');
  t.equal(lines.length, 1);
  t.match(lines[0], /the window is off: EINVAL/);
});
