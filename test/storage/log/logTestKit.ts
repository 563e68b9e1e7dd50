// Shared bits for the log tests: open a small-segment log on a SyncLogWriter and collect its log lines.
import path from 'node:path';
import { SegmentedLog, type SegmentedLogOptions } from '../../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import type { LogWriter, WriteGroup, WriterProgress } from '../../../storage/log/LogWriter.js';

/** 4 KiB data files and 8-entry index files, so a few dozen entries cross many boundaries. */
export const SMALL = { dataSegmentSize: 4096, indexSegmentSize: 256 } as const;

export interface Opened {
  log: SegmentedLog;
  lines: string[];
}

export async function openSmall(dir: string, extra: Partial<SegmentedLogOptions> = {}): Promise<Opened> {
  const lines: string[] = [];
  const log = await SegmentedLog.open({ dir, writer: new SyncLogWriter(), ...SMALL, log: (l) => lines.push(l), ...extra });
  return { log, lines };
}

/** A recognisable body for entry i: `len` bytes derived from i. */
export function bodyFor(i: number, len = 100 + ((i * 37) % 300)): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

/** Appends `count` message entries with bodyFor(), one batch per `batch` entries, and waits until written (close() fsyncs). */
export async function fill(log: SegmentedLog, count: number, opts: { term?: number; batch?: number; from?: number } = {}): Promise<void> {
  const batch = opts.batch ?? 5;
  const from = opts.from ?? log.lastIndex + 1;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const entries = Array.from({ length: n }, (_, k) => ({ magic: EntryMagic.MESSAGE, term: opts.term ?? 1, body: bodyFor(from + i + k) }));
    const r = log.append(entries);
    await log.whenWritten(r.endPosition);
  }
}

export function dataFile(dir: string, start: number): string {
  return path.join(dir, 'data', String(start).padStart(20, '0'));
}

export function indexFile(dir: string, start: number): string {
  return path.join(dir, 'index', String(start).padStart(20, '0'));
}

/**
 * A writer that writes nothing and reports what the test tells it to, counting positions the
 * way the interface's doc says ("highest so far") or as the latest group.
 */
export class ScriptedWriter implements LogWriter {
  readonly groups: WriteGroup[] = [];
  private done = 0;
  private written = 0;
  private durable = 0;
  private readonly progressListeners: Array<(p: WriterProgress) => void> = [];
  private readonly errorListeners: Array<(e: Error) => void> = [];
  flushes = 0;

  constructor(private readonly counting: 'highest' | 'latest') {}

  submit(group: WriteGroup): void {
    this.groups.push(group);
  }
  progress(): WriterProgress {
    return { written: this.written, durable: this.durable };
  }
  onProgress(l: (p: WriterProgress) => void): void {
    this.progressListeners.push(l);
  }
  onError(l: (e: Error) => void): void {
    this.errorListeners.push(l);
  }
  /** Mark the next `n` submitted groups written (and durable if `sync`), then report. */
  complete(n: number, sync = false): void {
    for (let i = 0; i < n; i++) {
      const g = this.groups[this.done++]!;
      this.written = this.counting === 'highest' ? Math.max(this.written, g.endPosition) : g.endPosition;
      if (sync || g.sync) this.durable = this.written;
    }
    const p = this.progress();
    for (const l of this.progressListeners) l(p);
  }
  failWith(e: Error): void {
    for (const l of this.errorListeners) l(e);
  }
  async flush(): Promise<number> {
    this.flushes++;
    if (this.done < this.groups.length) this.complete(this.groups.length - this.done, true);
    this.durable = this.written;
    return this.durable;
  }
  async truncate(): Promise<void> {}
  async release(): Promise<void> {}
  async close(): Promise<void> {}
}
