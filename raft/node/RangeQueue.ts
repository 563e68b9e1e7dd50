// Index ranges in index order, one per proposal, let go of as the log moves past them or taken
// from the front: the leader's pending proposals and write hooks (RaftNode) and its decoded
// entries (the broker's RaftCommitLog). One object per proposal instead of a map entry per log
// index, in an array compacted now and then rather than shifted per range.

export interface IndexRange {
  readonly first: number;
  readonly last: number;
  /** the proposal failed: its indexes may be reused by a later proposal, and this range must not hold them */
  dead?: boolean;
}

export class RangeQueue<R extends IndexRange> {
  private items: R[] = [];
  private head = 0;
  private held = 0;

  /** Entries (indexes) of the ranges held. */
  get entries(): number {
    return this.held;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds a range; ranges come in index order (a failed proposal's range is marked dead before its indexes come again). */
  push(r: R): void {
    if (r.last < r.first) throw new RangeError(`empty range ${r.first}..${r.last}`);
    this.items.push(r);
    this.held += r.last - r.first + 1;
  }

  /**
   * The range holding `index`, or undefined. Callers ask in increasing index order: ranges wholly
   * below `index`, and dead ranges at the head, are let go first.
   */
  find(index: number): R | undefined {
    while (this.head < this.items.length) {
      const r = this.items[this.head]!;
      if (r.last >= index && r.dead !== true) return index >= r.first ? r : undefined;
      this.shift();
    }
    return undefined;
  }

  /** The oldest range held, if any. */
  peek(): R | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Takes the oldest range out. */
  shift(): R | undefined {
    if (this.head === this.items.length) return undefined;
    const r = this.items[this.head]!;
    this.held -= r.last - r.first + 1;
    this.items[this.head++] = undefined as unknown as R;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return r;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.held = 0;
  }
}
