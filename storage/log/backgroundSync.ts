// ASYNC_FLUSH with the main-thread writer (SyncLogWriter): that writer has no flusher of its own,
// and its flush() would block the event loop for the whole fsync. This syncs the newest data and
// index files from the thread pool instead, every flushIntervalCommitLog; the same round then
// drops the page cache behind the cache window (pageCache.ts), with either writer.
import fs from 'node:fs';
import path from 'node:path';
import type { CacheWindow } from './pageCache.js';
import type { SegmentedLog } from './SegmentedLog.js';

/**
 * One round of the background timer: with the main-thread writer (`syncNewest`), the fsync of
 * the newest files; then the page-cache trim up to what was written before the round began
 * (clean after that fsync), or up to the writer's durable position. `current` says whether
 * `log` is still the one to trim after the fsync (a segment copy may have replaced it).
 */
export async function syncAndTrim(log: SegmentedLog, o: { syncNewest: boolean; window: CacheWindow | null; current?: () => boolean }): Promise<void> {
  const syncedTo = o.syncNewest ? log.writtenPosition : log.durablePosition;
  if (o.syncNewest) await syncNewestSegments(log);
  if (o.window && (o.current?.() ?? true)) await o.window.trim(log.dataSegments, log.dataSegmentSize, syncedTo);
}

/** Runs `use` on `file` opened read-only; nothing when the file is gone (retention or truncation removed it). */
export async function withFileIfPresent(file: string, use: (h: fs.promises.FileHandle) => Promise<void>): Promise<void> {
  let h: fs.promises.FileHandle;
  try {
    h = await fs.promises.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    await use(h);
  } finally {
    await h.close();
  }
}

/** fdatasync of the two newest data and index segments, off the calling thread. */
export async function syncNewestSegments(log: SegmentedLog): Promise<void> {
  const data = log.dataSegments.slice(-2).map((f) => f.path);
  const index = listOrNothing(log.indexDir)
    .filter((n) => /^\d{20}$/.test(n))
    .sort()
    .slice(-2)
    .map((n) => path.join(log.indexDir, n));
  for (const file of [...data, ...index]) await withFileIfPresent(file, (h) => h.datasync());
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
