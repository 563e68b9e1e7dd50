// The page-cache addon for tests that need it, and a file of known bytes that is fsynced (so its
// pages can be dropped) and closed at teardown.
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { pageCacheAddon, type PageCacheAddon } from '../../storage/log/pageCache.js';
import { tempDir } from './processes.js';

/** The addon; throws when it was not built (an optional dependency, but the tests need it). */
export function builtAddon(): PageCacheAddon {
  const addon = pageCacheAddon();
  if (addon === null) throw new Error('the optional addon raftmq-pagecache is not built: run npm ci (it needs node-gyp, python3, make and a C compiler)');
  return addon;
}

/** A file of `bytes` bytes of `fill` in a temporary folder, written, fsynced, and open for reading. */
export function syncedFile(t: Test, bytes: number, fill: number): { file: string; fd: number } {
  const file = path.join(tempDir(t), 'data');
  fs.writeFileSync(file, Buffer.alloc(bytes, fill));
  const fd = fs.openSync(file, 'r');
  t.teardown(() => fs.closeSync(fd));
  fs.fdatasyncSync(fd);
  return { file, fd };
}
