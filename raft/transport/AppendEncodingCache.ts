// The leader sends the same entries to each follower that keeps up, usually within one turn of
// the event loop: encode them once. A few slots, matched by the identity of the first and last
// entry objects (the log view hands out the same objects) and the count.
import { encodeAppendEntries, encodeAppendParts, type WireAppendRequest, type WireEntry } from '../../protocol/raft/index.js';

interface Slot {
  first: WireEntry;
  last: WireEntry;
  count: number;
  bytes: Uint8Array;
}

const SLOTS = 4;

export class AppendEncodingCache {
  private readonly slots: Slot[] = [];
  hits = 0;
  misses = 0;

  parts(m: WireAppendRequest): [Uint8Array, Uint8Array] {
    const first = m.entries[0]!;
    const last = m.entries[m.entries.length - 1]!;
    let slot = this.slots.find((s) => s.first === first && s.last === last && s.count === m.entries.length);
    if (slot) this.hits++;
    else {
      this.misses++;
      slot = { first, last, count: m.entries.length, bytes: encodeAppendEntries(m.entries) };
      if (this.slots.length >= SLOTS) this.slots.shift();
      this.slots.push(slot);
    }
    return encodeAppendParts(m, slot.bytes);
  }
}
