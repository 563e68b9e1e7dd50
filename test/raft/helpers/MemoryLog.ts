// An in-memory LogView that places entries the way storage/log/SegmentedLog does: positions
// back to back (48-byte header + body), a given pos must equal the one this log would assign.
// Like SegmentedLog it can drop a prefix (retention): `list` then holds entries from firstIndex.
import { ENTRY_OVERHEAD, type LogView, type PendingEntry, type RaftEntry, type Ready } from '../../../raft/core/index.js';

export class MemoryLog implements LogView {
  /** entries from firstIndex on: list[i] is entry firstIndex + i */
  readonly list: RaftEntry[] = [];
  private first = 0;
  /** position where the first index starts (end of the dropped prefix) */
  private startPos = 0;

  get firstIndex(): number {
    return this.first;
  }
  get lastIndex(): number {
    return this.first + this.list.length - 1;
  }
  get lastTerm(): number {
    return this.list[this.list.length - 1]?.term ?? -1;
  }
  /** the entry at index, or undefined outside firstIndex..lastIndex */
  at(index: number): RaftEntry | undefined {
    return index >= this.first ? this.list[index - this.first] : undefined;
  }
  termAt(index: number): number {
    const e = this.at(index);
    if (!e) throw new RangeError(`no entry ${index} (log holds ${this.first}..${this.lastIndex})`);
    return e.term;
  }
  entries(from: number, maxCount: number, maxBytes: number): RaftEntry[] {
    if (from < this.first) throw new RangeError(`entries from ${from}: the log starts at ${this.first}`);
    const out: RaftEntry[] = [];
    let bytes = 0;
    for (let i = from - this.first; i < this.list.length && out.length < maxCount; i++) {
      const e = this.list[i]!;
      bytes += ENTRY_OVERHEAD + e.body.byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }
  get endPosition(): number {
    const l = this.list[this.list.length - 1];
    return l ? l.pos + ENTRY_OVERHEAD + l.body.byteLength : this.startPos;
  }
  truncate(from: number): void {
    if (from < this.first) throw new RangeError(`truncate from ${from}: the log starts at ${this.first}`);
    this.list.length = Math.min(this.list.length, from - this.first);
  }
  append(entries: readonly PendingEntry[]): void {
    for (const e of entries) {
      if (e.index !== this.lastIndex + 1) throw new Error(`append index ${e.index}, expected ${this.lastIndex + 1}`);
      const pos = this.endPosition;
      if (e.pos !== undefined && e.pos !== pos) throw new Error(`entry ${e.index}: given pos ${e.pos}, this log puts it at ${pos}`);
      if (e.term < this.lastTerm) throw new Error(`entry ${e.index}: term ${e.term} below ${this.lastTerm}`);
      // as raft/node does: the Ready's entry gets its position, for the leader's appends that share it
      e.pos = pos;
      this.list.push({ index: e.index, term: e.term, magic: e.magic, pos, body: e.body });
    }
  }
  /** Retention: drops entries before `before`, keeping at least the last entry (as SegmentedLog never drops its last file). */
  dropPrefix(before: number): void {
    const upTo = Math.min(before, this.lastIndex);
    if (upTo <= this.first) return;
    const n = upTo - this.first;
    this.startPos = this.list[n]!.pos;
    this.list.splice(0, n);
    this.first = upTo;
  }
  /** A copy of entries from..to of `src` as a new log (catch-up by segment copy: the whole log replaced). */
  static copyOf(src: MemoryLog, from: number, to: number): MemoryLog {
    const log = new MemoryLog();
    const e = src.at(from);
    if (!e) throw new RangeError(`copy from ${from}: the source holds ${src.firstIndex}..${src.lastIndex}`);
    log.first = from;
    log.startPos = e.pos;
    for (let i = from; i <= to; i++) log.list.push(src.at(i)!);
    return log;
  }
  /** Does the log part of a Ready. */
  persist(rd: Ready): void {
    if (rd.truncateFrom !== undefined) this.truncate(rd.truncateFrom);
    this.append(rd.entries);
  }
}
