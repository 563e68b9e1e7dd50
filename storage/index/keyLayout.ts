// Key layout of the index database, and the byte writers and readers that build and parse it.
//
// One RocksDB database, one column family (a write batch of rocksdb-native is bound to one
// column family, and every apply step must be one atomic batch). The first key byte names
// the kind. Integers are big-endian and never negative inside keys, so iteration order is
// numeric order. `str` is a u16 byte length and the UTF-8 bytes, so a name never interleaves
// with a longer name that shares its beginning.
//
//   'V'                                     -> format version u32
//   'A'                                     -> applied checkpoint: raft index i64, its log pos
//                                              i64, store time i64 and physical offset i64 of
//                                              the last indexed message (-1 when none)
//   'B'                                     -> applied index i64 at a clean close: the 'Q'
//                                              maxes are exact (deleted again at open)
//   'Q' str topic, u32 queueId              -> min offset i64, max offset i64 (the queue's
//                                              existence and bounds; max is exact only under
//                                              'B', else it is found from the last run at open)
//   'C' str topic, u32 queueId, i64 last    -> a run of consecutive consume-queue entries
//                                              ending at offset `last`, 28 bytes each:
//                                              physicalOffset i64, size i32, tagsCode i64,
//                                              storeTimestamp i64 (first = last - n + 1)
//   'K' str topic, str key, i64 storeTimestamp, i64 physicalOffset -> (empty)
//   'G' str prefix, i64 pos                 -> the UNIQ_KEYs of one apply step that begin with
//                                              `prefix` (their first UNIQ_GROUP_PREFIX bytes),
//                                              keyed by the step's first log pos: members back
//                                              to back, each `str uniqKey, i64 physicalOffset,
//                                              i64 storeTimestamp, str topic`
//   'U' str uniqKey, i64 physicalOffset     -> storeTimestamp i64, then the topic's bytes (the
//                                              per-message layout before 'G': no longer written,
//                                              still read, and deleted by truncation and retention)
//   'J' i64 pos                             -> journal of the messages of one apply step, keyed
//                                              by the first one's log pos (format below)
//   'T' str name                            -> topic config (opaque JSON text)
//   'S' str name                            -> subscription group (opaque JSON text)
//   'O' str group, str topic, u32 queueId   -> consumer offset i64
//   'D' u32 delayLevel                      -> delay offset i64
//
// Why runs: every RocksDB put costs a few microseconds through the binding, so one put per
// queue per apply step, not one per message, is what makes replay fast. Keying a run by its
// last offset lets one forward seek from `key(offset)` land on the run that holds `offset`.
// For the same reason a UNIQ_KEY gets no 'K' entry, and UNIQ_KEYs are grouped: a Java or ali-ons
// producer's keys begin with its address, pid and class-loader hash and then the time in 256 ms
// steps (26 hex characters), so the keys one producer sends within an apply step share their
// first 26 bytes and take one 'G' put together, not one put each (on every broker of a group).
// A lookup scans the groups of its key's prefix, newest first. QUERY_MESSAGE by key also looks
// there and keeps the hits whose topic matches.
//
// Journal value: for each message `i64 pos, u16 queueRef (0xffff: no consume-queue entry),
// i64 queueOffset, u16 keyCount, keyCount x (u16 length, key bytes)` (the message's 'K' keys,
// byte for byte; a record that begins with 'G' is instead its UNIQ_KEY's group member, 'G' and the
// member's bytes, from which truncation and retention rewrite the step's groups; older journals
// hold the 'U' key there); then the queue table `queueCount x (str topic, u32 queueId)`
// that queueRef points into; then u32 where the table starts and u16 queueCount. Truncation
// and retention read it to find the key-index entries of the messages they remove without
// scanning the key index.
import { readU16BE, readU32BE, writeI32BE, writeI64BE } from '../../protocol/bytes.js';

export const KIND_APPLIED = 0x41; // 'A'
export const KIND_CLEAN = 0x42; // 'B'
export const KIND_RUN = 0x43; // 'C'
export const KIND_DELAY = 0x44; // 'D'
export const KIND_UNIQ_GROUP = 0x47; // 'G'
export const KIND_JOURNAL = 0x4a; // 'J'
export const KIND_KEY = 0x4b; // 'K'
export const KIND_CONSUMER_OFFSET = 0x4f; // 'O'
export const KIND_QUEUE = 0x51; // 'Q'
export const KIND_SUBSCRIPTION_GROUP = 0x53; // 'S'
export const KIND_TOPIC = 0x54; // 'T'
export const KIND_UNIQ = 0x55; // 'U'
export const KIND_VERSION = 0x56; // 'V'

export const FORMAT_VERSION = 1;
/** Bytes of one consume-queue entry inside a run value. */
export const CQ_ENTRY_BYTES = 28;
export const NO_QUEUE_REF = 0xffff;
/** Leading bytes of a UNIQ_KEY that name its 'G' group (producer address, pid, class-loader hash, time / 256 ms in Java's keys). */
export const UNIQ_GROUP_PREFIX = 26;
/** Bytes after the queue table: u32 table start, u16 queue count. */
export const JOURNAL_FOOTER_BYTES = 6;
/** Longest string a `str` field holds. */
export const MAX_STR_BYTES = 0xffff;

const TWO_POW_32 = 4294967296;
/** A slab larger than this is replaced by a smaller one when a step needs far less. */
const SHRINK_ABOVE = 16 << 20;

/** Worst-case UTF-8 bytes of a JS string (3 per UTF-16 unit). */
export function maxUtf8(s: string): number {
  return s.length * 3;
}

/**
 * A growable byte area written front to back. Keys and values handed to a write batch are
 * views into it, so it must not be rewritten until that batch has been flushed; `reset` is
 * called at the start of each write step and grows the area only before anything is written.
 */
export class ByteSlab {
  buf: Buffer;
  off = 0;

  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Start a write step that needs at most `bytes`; a slab grown by one huge step shrinks again. */
  reset(bytes: number): void {
    this.off = 0;
    const size = this.buf.length;
    if (size < bytes) this.buf = Buffer.allocUnsafe(Math.max(bytes, size * 2));
    else if (size > SHRINK_ABOVE && bytes * 4 < size) this.buf = Buffer.allocUnsafe(Math.max(bytes * 2, SHRINK_ABOVE));
  }

  /** Reserve `n` bytes and return where they start. */
  alloc(n: number): number {
    const at = this.off;
    this.off += n;
    return at;
  }

  view(start: number, end = this.off): Buffer {
    return this.buf.subarray(start, end);
  }

  u8(v: number): void {
    this.buf[this.off++] = v;
  }

  u16(v: number): void {
    const b = this.buf;
    const o = this.off;
    b[o] = v >>> 8;
    b[o + 1] = v;
    this.off = o + 2;
  }

  u32(v: number): void {
    writeI32BE(this.buf, this.off, v);
    this.off += 4;
  }

  /** A safe integer as a two's complement i64. */
  i64(v: number): void {
    writeI64BE(this.buf, this.off, v);
    this.off += 8;
  }

  bytes(src: Buffer): void {
    const n = src.length;
    const b = this.buf;
    const o = this.off;
    if (n <= 32) for (let i = 0; i < n; i++) b[o + i] = src[i] as number;
    else src.copy(b, o);
    this.off = o + n;
  }

  /** The UTF-8 bytes of `s` without a length (the caller reserved maxUtf8(s)). */
  text(s: string): number {
    const b = this.buf;
    const o = this.off;
    const n = s.length;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[o + i] = c;
    }
    const written = i === n ? n : b.write(s, o, 'utf8');
    this.off = o + written;
    return written;
  }

  /** `str`: u16 byte length, then the UTF-8 bytes. */
  str(s: string): void {
    const at = this.off;
    this.off += 2;
    const n = this.text(s);
    if (n > MAX_STR_BYTES) throw new RangeError(`string of ${n} bytes does not fit a u16 length: ${s.slice(0, 40)}...`);
    this.buf[at] = n >>> 8;
    this.buf[at + 1] = n;
  }
}

// The layout's names for the shared big-endian helpers (protocol/bytes.ts).
export { writeI32BE as writeU32, writeI64BE as writeI64, readU16BE as readU16, readU32BE as readU32 };

/** A big-endian signed 64-bit integer within Number's safe range. Byte reads: half the time of readInt32BE/readUInt32BE (their bounds checks), on the pull path's three per consume-queue entry. */
export function readI64(b: Buffer, o: number): number {
  if (!(o >= 0 && o + 8 <= b.length)) throw new RangeError(`an 8-byte integer at ${o} is outside a buffer of ${b.length} bytes`);
  const hi = ((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number);
  const lo = (b[o + 4] as number) * 0x1000000 + (((b[o + 5] as number) << 16) | ((b[o + 6] as number) << 8) | (b[o + 7] as number));
  return hi * TWO_POW_32 + lo;
}

/** Reads fields front to back; throws a RangeError when the bytes run out (damaged data). */
export class ByteReader {
  off: number;

  constructor(
    readonly buf: Buffer,
    off = 0,
    readonly end = buf.length,
  ) {
    this.off = off;
  }

  private need(n: number): number {
    const o = this.off;
    if (o + n > this.end) throw new RangeError(`index record too short: need ${n} bytes at ${o}, it ends at ${this.end}`);
    this.off = o + n;
    return o;
  }

  u8(): number {
    return this.buf[this.need(1)] as number;
  }

  u16(): number {
    return readU16BE(this.buf, this.need(2));
  }

  u32(): number {
    return readU32BE(this.buf, this.need(4));
  }

  i64(): number {
    return readI64(this.buf, this.need(8));
  }

  str(): string {
    const n = this.u16();
    const o = this.need(n);
    return this.buf.toString('utf8', o, o + n);
  }

  skip(n: number): void {
    this.need(n);
  }

  get done(): boolean {
    return this.off >= this.end;
  }
}

/** A small standalone key: for reads and the rare write steps (not the apply hot path). */
export function key(build: (s: ByteSlab) => void, capacity = 64): Buffer {
  const s = new ByteSlab(capacity);
  build(s);
  return Buffer.from(s.view(0));
}

/** The first key after every key that starts with `prefix` (for exclusive upper bounds). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
}

/** 'C' str topic, u32 queueId: the prefix of one queue's runs (and 'Q' + the same for its record). */
export function queuePrefix(kind: number, topicBytes: Buffer, queueId: number): Buffer {
  const b = Buffer.allocUnsafe(1 + 2 + topicBytes.length + 4);
  b[0] = kind;
  b[1] = topicBytes.length >>> 8;
  b[2] = topicBytes.length;
  topicBytes.copy(b, 3);
  writeI32BE(b, 3 + topicBytes.length, queueId);
  return b;
}

/** `prefix` followed by an i64. */
/** 'G' and the group prefix (a str) of UNIQ_KEY bytes `uniq[from, to)`: what every key of their groups begins with. */
export function uniqGroupPrefix(uniq: Buffer, from: number, to: number): Buffer {
  const n = Math.min(UNIQ_GROUP_PREFIX, to - from);
  const b = Buffer.allocUnsafe(3 + n);
  b[0] = KIND_UNIQ_GROUP;
  b[1] = n >>> 8;
  b[2] = n & 0xff;
  uniq.copy(b, 3, from, from + n);
  return b;
}

/** The 'G' key of the group that UNIQ_KEY bytes `uniq[from, to)` belong to, for the step at `pos`. */
export function uniqGroupKey(uniq: Buffer, from: number, to: number, pos: number): Buffer {
  return withI64(uniqGroupPrefix(uniq, from, to), pos);
}

export function withI64(prefix: Buffer, v: number): Buffer {
  const b = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(b, 0);
  writeI64BE(b, prefix.length, v);
  return b;
}
