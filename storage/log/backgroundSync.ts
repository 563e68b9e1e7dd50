// ASYNC_FLUSH with the main-thread writer (SyncLogWriter): that writer has no flusher of its own,
// and its flush() would block the event loop for the whole fsync. This syncs the newest data and
// index files from the thread pool instead, every flushIntervalCommitLog.
import fs from 'node:fs';
import path from 'node:path';
import type { SegmentedLog } from './SegmentedLog.js';

/** fdatasync of the two newest data and index segments, off the calling thread. */
export async function syncNewestSegments(log: SegmentedLog): Promise<void> {
  const data = log.dataSegments.slice(-2).map((f) => f.path);
  const index = listOrNothing(log.indexDir)
    .filter((n) => /^\d{20}$/.test(n))
    .sort()
    .slice(-2)
    .map((n) => path.join(log.indexDir, n));
  for (const file of [...data, ...index]) {
    let h: fs.promises.FileHandle;
    try {
      h = await fs.promises.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // retention or truncation removed it
      throw e;
    }
    try {
      await h.datasync();
    } finally {
      await h.close();
    }
  }
}

/** The names in a folder; none when the folder is gone (truncation or a segment copy replaced it meanwhile). */
function listOrNothing(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
