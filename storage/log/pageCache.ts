// The commit log's page cache: the newest `windowBytes` of the data log stay cached, and the
// pages behind them are dropped (posix_fadvise DONTNEED) once they are fsynced.
//
// Why: on a VM whose free memory the host takes back (virtio_balloon's free page reporting),
// every page the cache takes from free memory costs a host fault and a zeroing. Measured on the
// project's machine: 2.4 ns per byte written into new pages, 0.2-0.5 ns once the cache has
// filled the RAM and the kernel recycles its own pages, and 0.5 ns with this window. A broker
// writing 50 MB/s spends a tenth of a core on it until the cache has filled the RAM. The window
// also bounds what each broker keeps cached on a machine shared by several.
//
// Node's fs has no posix_fadvise; the optional addon `raftmq-pagecache` (native/pagecache)
// provides it. Without it the window does nothing and the kernel manages the cache alone.
import { createRequire } from 'node:module';
import { withFileIfPresent } from './backgroundSync.js';

export interface PageCacheAddon {
  /** posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED) in the thread pool */
  dropCache(fd: number, offset: number, length: number): Promise<void>;
  /** pages of the range in the page cache (mincore) */
  cachedPages(fd: number, offset: number, length: number): number;
  /** whether the byte at `offset` reads without waiting for the disk (a 1-byte preadv2 with RWF_NOWAIT) */
  isCached(fd: number, offset: number): boolean;
  /** reads the range in the thread pool and throws the bytes away, so that it is cached; resolves with the bytes read */
  readThrough(fd: number, offset: number, length: number): Promise<number>;
}

/** What readers need to keep disk reads off the event loop: a probe, and a read in the thread pool. */
export type ReadWarmer = Pick<PageCacheAddon, 'isCached' | 'readThrough'>;

let loaded: PageCacheAddon | null | undefined;

/** The native addon, or null when it was not built (it is an optional dependency). */
export function pageCacheAddon(): PageCacheAddon | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('raftmq-pagecache') as PageCacheAddon;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** fsyncs `file` and drops the cached pages of `length` bytes at `offset`; a missing file is nothing to drop. */
export type DropPages = (file: string, offset: number, length: number) => Promise<void>;

export function addonDropPages(addon: PageCacheAddon): DropPages {
  return (file, offset, length) =>
    withFileIfPresent(file, async (h) => {
      // Dirty pages are not dropped. The range is normally fsynced already (then this is cheap),
      // but not always: the background fsync only covers the two newest files.
      await h.datasync();
      await addon.dropCache(h.fd, offset, length);
    });
}

export interface CacheSegment {
  /** log position of the file's first byte */
  readonly start: number;
  readonly path: string;
}

/** Fewest bytes dropped in one step (or the window, if smaller): smaller steps cost a file open each for little. */
export const MIN_DROP_STEP = 16 * 1024 * 1024;

export class CacheWindow {
  /** log position below which pages were dropped; unset until the first trim */
  private droppedTo: number | undefined;
  private _droppedBytes = 0;
  private _failure: Error | null = null;

  /**
   * @param windowBytes the newest bytes of the log kept cached (> 0)
   * @param drop drops a file range's pages (the addon's, or a test's)
   * @param log told once if a drop fails; the window is off from then on (dropping pages is an
   *   optimization: its failure must not stop the log)
   */
  constructor(
    readonly windowBytes: number,
    private readonly drop: DropPages,
    private readonly log?: (line: string) => void,
  ) {
    if (!Number.isSafeInteger(windowBytes) || windowBytes <= 0) throw new RangeError(`windowBytes must be a positive integer, got ${windowBytes}`);
  }

  /** The drop that failed and turned the window off, if one did. */
  get failure(): Error | null {
    return this._failure;
  }

  /** Bytes of the log whose pages were dropped so far (ranges, whether or not they were cached). */
  get droppedBytes(): number {
    return this._droppedBytes;
  }

  /**
   * Drops the pages from where the last call stopped up to `syncedTo - windowBytes`.
   * `syncedTo` is a log position below which everything is fsynced (dirty pages would not be
   * dropped, only queued for writeback). `segments` are the data files, oldest first, each
   * ending where the next starts (the last at start + segmentSize).
   * Returns the bytes of log dropped by this call.
   */
  async trim(segments: readonly CacheSegment[], segmentSize: number, syncedTo: number): Promise<number> {
    if (segments.length === 0 || this._failure !== null) return 0;
    const first = segments[0]!.start;
    const to = syncedTo - this.windowBytes;
    let from = this.droppedTo ?? first;
    if (from > syncedTo) from = first; // a truncation or a copied-in log moved the end back: start over
    from = Math.max(from, first); // retention removed files
    if (to - from < Math.min(MIN_DROP_STEP, this.windowBytes)) return 0;
    for (let k = 0; k < segments.length; k++) {
      const s = segments[k]!;
      const end = k + 1 < segments.length ? segments[k + 1]!.start : s.start + segmentSize;
      const lo = Math.max(from, s.start);
      const hi = Math.min(to, end);
      if (hi > lo) {
        try {
          await this.drop(s.path, lo - s.start, hi - lo);
        } catch (e) {
          this._failure = e as Error;
          this.log?.(`dropping the commit log's pages behind the cache window failed, the window is off: ${(e as Error).message}`);
          return 0;
        }
      }
      if (end >= to) break;
    }
    this.droppedTo = to;
    this._droppedBytes += to - from;
    return to - from;
  }
}

/**
 * A window over the log's page cache from a broker's setting: null when the setting is 0 (the
 * kernel keeps what it likes) or when the addon is missing (said once through `log`).
 */
export function cacheWindowFor(windowBytes: number | undefined, log?: (line: string) => void): CacheWindow | null {
  if (windowBytes === undefined || windowBytes === 0) return null;
  const addon = pageCacheAddon();
  if (addon === null) {
    log?.(`commitLogCacheWindow=${windowBytes} has no effect: the optional addon raftmq-pagecache was not built (npm ci builds it with node-gyp)`);
    return null;
  }
  return new CacheWindow(windowBytes, addonDropPages(addon), log);
}
