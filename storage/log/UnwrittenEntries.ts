// Entries the log handed to the writer that the writer has not reported written yet. Readers
// (the leader replicating what it just appended) get them from here; once written they are
// dropped and read from the files. Indexes are contiguous, positions increasing.

export interface UnwrittenEntry {
  index: number;
  term: number;
  magic: number;
  pos: number;
  /** header + body */
  size: number;
  chainCrc: number;
  /** the body's CRC as the header holds it (signed) */
  bodyCrc: number;
  body: Buffer | Buffer[];
}

export class UnwrittenEntries {
  private list: UnwrittenEntry[] = [];
  private head = 0;
  private _bytes = 0;

  /** bytes held (headers included) */
  get bytes(): number {
    return this._bytes;
  }

  /** index of the oldest entry held, or undefined when none */
  get firstIndex(): number | undefined {
    return this.list[this.head]?.index;
  }

  push(e: UnwrittenEntry): void {
    this.list.push(e);
    this._bytes += e.size;
  }

  at(index: number): UnwrittenEntry | undefined {
    const first = this.list[this.head];
    if (!first || index < first.index) return undefined;
    return this.list[this.head + index - first.index];
  }

  /** The entry that starts at `pos`; undefined if `pos` is below what is held, null if no entry starts there. */
  atPosition(pos: number): UnwrittenEntry | null | undefined {
    const first = this.list[this.head];
    if (!first || pos < first.pos) return undefined;
    let lo = this.head;
    let hi = this.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.list[mid]!;
      if (e.pos === pos) return e;
      if (e.pos < pos) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }

  /** Drops the entries that end at or below the written position. */
  release(written: number): void {
    let h = this.head;
    while (h < this.list.length && this.list[h]!.pos + this.list[h]!.size <= written) {
      this._bytes -= this.list[h]!.size;
      h++;
    }
    if (h === this.list.length) {
      this.list = [];
      h = 0;
    } else if (h > 1024 && h * 2 > this.list.length) {
      this.list = this.list.slice(h); // compact now and then instead of shifting per entry
      h = 0;
    }
    this.head = h;
  }

  clear(): void {
    this.list = [];
    this.head = 0;
    this._bytes = 0;
  }
}
