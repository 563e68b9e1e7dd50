// Turns the writer's progress reports into two log positions, written and durable, and the
// promises that wait for them. Positions only grow, except when a suffix is truncated; after
// that, a position the writer reported before the truncation says nothing about the new
// bytes at the same spot. Groups that end at or below that old high-water mark are therefore
// confirmed through writer.flush() (which covers everything submitted) instead of through
// progress numbers, whichever way the writer counts (highest or latest group).
import type { LogWriter, WriterProgress } from './LogWriter.js';

interface Group {
  seq: number;
  end: number;
  /** confirmed by a flush, not by progress numbers (ends at or below an old high-water mark) */
  viaFlush: boolean;
}

interface Waiter {
  pos: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class WriteWatermarks {
  private groups: Group[] = [];
  /** groups[0 .. writtenCount) are written, [0 .. durableCount) durable */
  private writtenCount = 0;
  private durableCount = 0;
  private nextSeq = 1;
  /** highest end submitted before the latest truncation */
  private ceiling = 0;
  private highestSubmitted = 0;
  private flushing = false;
  private flushAgain = false;
  private writtenWaiters: Waiter[] = [];
  private durableWaiters: Waiter[] = [];
  private failure: Error | undefined;
  private _written: number;
  private _durable: number;

  /** `onAdvance` is told the new written position each time it moves (the log frees buffers). */
  constructor(
    private readonly writer: LogWriter,
    start: number,
    private readonly onAdvance: (written: number) => void,
  ) {
    this._written = start;
    this._durable = start;
    this.highestSubmitted = start;
    writer.onProgress((p) => this.onProgress(p));
    writer.onError((e) => this.fail(e));
  }

  get written(): number {
    return this._written;
  }

  get durable(): number {
    return this._durable;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** Call right after writer.submit() of a group that moves the log's end to `end`. */
  track(end: number): void {
    const viaFlush = end <= this.ceiling;
    this.groups.push({ seq: this.nextSeq++, end, viaFlush });
    if (end > this.highestSubmitted) this.highestSubmitted = end;
    if (viaFlush) this.startFlush();
  }

  whenWritten(pos: number): Promise<void> {
    return this.wait(this.writtenWaiters, pos, this._written);
  }

  whenDurable(pos: number): Promise<void> {
    return this.wait(this.durableWaiters, pos, this._durable);
  }

  /**
   * After the log was cut back to `pos` and the writer has finished, truncated and flushed
   * everything submitted before: the old groups are settled, and waiters past `pos` will never
   * see their bytes.
   */
  truncated(pos: number): void {
    this.groups = [];
    this.writtenCount = 0;
    this.durableCount = 0;
    this.ceiling = Math.max(this.ceiling, this.highestSubmitted);
    this._written = pos;
    this._durable = pos;
    this.abandon(pos);
  }

  /** Reject waiters past `pos`: the log is being cut back there and their bytes will not stay. */
  abandon(pos: number): void {
    const gone = (w: Waiter): boolean => w.pos > pos;
    for (const list of [this.writtenWaiters, this.durableWaiters]) {
      for (const w of list.filter(gone)) w.reject(new Error(`log truncated to position ${pos} before position ${w.pos} was stored`));
    }
    this.writtenWaiters = this.writtenWaiters.filter((w) => !gone(w));
    this.durableWaiters = this.durableWaiters.filter((w) => !gone(w));
  }

  /** The writer closed after writing and fsyncing everything up to `pos`. */
  finish(pos: number): void {
    this.groups = [];
    this.writtenCount = 0;
    this.durableCount = 0;
    this._written = pos;
    this._durable = pos;
    wake(this.writtenWaiters, pos);
    wake(this.durableWaiters, pos);
  }

  /** Reject everything waiting (the writer failed or the log closed). */
  fail(e: Error): void {
    if (!this.failure) this.failure = e;
    for (const w of [...this.writtenWaiters, ...this.durableWaiters]) w.reject(e);
    this.writtenWaiters = [];
    this.durableWaiters = [];
  }

  private onProgress(p: WriterProgress): void {
    if (this.failure) return;
    this.writtenCount = this.advance(this.writtenCount, p.written);
    this.durableCount = this.advance(this.durableCount, p.durable);
    this.settle();
  }

  /** The new count of confirmed groups: every group up to the last progress-confirmed one that ends <= reported. */
  private advance(count: number, reported: number): number {
    let confirmed = count;
    for (let i = count; i < this.groups.length; i++) {
      const g = this.groups[i]!;
      if (g.viaFlush) continue; // groups are applied in order: a later confirmed group covers it
      if (g.end > reported) break;
      confirmed = i + 1;
    }
    return confirmed;
  }

  private startFlush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    this.flushAgain = false;
    const upTo = this.nextSeq - 1;
    this.writer.flush().then(
      () => {
        this.flushing = false;
        if (this.failure) return;
        let n = 0;
        while (n < this.groups.length && this.groups[n]!.seq <= upTo) n++;
        this.writtenCount = Math.max(this.writtenCount, n);
        this.durableCount = Math.max(this.durableCount, n);
        this.settle();
        if (this.flushAgain) this.startFlush();
      },
      (e: unknown) => {
        this.flushing = false;
        this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  /** Move the positions, wake waiters, and drop groups both counts have passed. */
  private settle(): void {
    const oldWritten = this._written;
    if (this.writtenCount > 0) this._written = this.groups[this.writtenCount - 1]!.end;
    if (this.durableCount > 0) this._durable = this.groups[this.durableCount - 1]!.end;
    const done = Math.min(this.writtenCount, this.durableCount);
    if (done > 0) {
      this.groups.splice(0, done);
      this.writtenCount -= done;
      this.durableCount -= done;
    }
    wake(this.writtenWaiters, this._written);
    wake(this.durableWaiters, this._durable);
    if (this._written !== oldWritten) this.onAdvance(this._written);
  }

  private wait(list: Waiter[], pos: number, reached: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (pos <= reached) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // keep the list sorted by position; callers almost always wait in order, so scan from the back
      let i = list.length;
      while (i > 0 && list[i - 1]!.pos > pos) i--;
      list.splice(i, 0, { pos, resolve, reject });
    });
  }
}

function wake(list: Waiter[], reached: number): void {
  let n = 0;
  while (n < list.length && list[n]!.pos <= reached) n++;
  if (n === 0) return;
  for (const w of list.splice(0, n)) w.resolve();
}
