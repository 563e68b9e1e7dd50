// An in-memory LogView that places entries the way storage/log/SegmentedLog does: positions
// back to back (48-byte header + body), a given pos must equal the one this log would assign.
import { ENTRY_OVERHEAD, type LogView, type PendingEntry, type RaftEntry, type Ready } from '../../../raft/core/index.js';

export class MemoryLog implements LogView {
  readonly list: RaftEntry[] = [];

  get lastIndex(): number {
    return this.list.length - 1;
  }
  get lastTerm(): number {
    return this.list[this.list.length - 1]?.term ?? -1;
  }
  termAt(index: number): number {
    const e = this.list[index];
    if (!e) throw new RangeError(`no entry ${index}`);
    return e.term;
  }
  entries(from: number, maxCount: number, maxBytes: number): RaftEntry[] {
    const out: RaftEntry[] = [];
    let bytes = 0;
    for (let i = from; i < this.list.length && out.length < maxCount; i++) {
      const e = this.list[i]!;
      bytes += ENTRY_OVERHEAD + e.body.byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }
  get endPosition(): number {
    const l = this.list[this.list.length - 1];
    return l ? l.pos + ENTRY_OVERHEAD + l.body.byteLength : 0;
  }
  truncate(from: number): void {
    this.list.length = Math.min(this.list.length, from);
  }
  append(entries: readonly PendingEntry[]): void {
    for (const e of entries) {
      if (e.index !== this.list.length) throw new Error(`append index ${e.index}, expected ${this.list.length}`);
      const pos = this.endPosition;
      if (e.pos !== undefined && e.pos !== pos) throw new Error(`entry ${e.index}: given pos ${e.pos}, this log puts it at ${pos}`);
      if (e.term < this.lastTerm) throw new Error(`entry ${e.index}: term ${e.term} below ${this.lastTerm}`);
      this.list.push({ index: e.index, term: e.term, magic: e.magic, pos, body: e.body });
    }
  }
  /** Does the log part of a Ready. */
  persist(rd: Ready): void {
    if (rd.truncateFrom !== undefined) this.truncate(rd.truncateFrom);
    this.append(rd.entries);
  }
}
