// The one Raft message whose size grows with the load, AppendRequest, written and read by hand
// in protobuf's wire format (the schema in raftSchema.ts, unchanged). protobufjs's generic code
// cost about 1.4 us per 1 KiB entry to encode and 0.75 us to decode (a writer operation per field,
// a Long per int64, an object per entry); these loops write the varints straight into one buffer
// and read them back as numbers. Anything outside the plain shape (a value that is not a
// non-negative safe integer, fields in a form our encoder never writes) goes back to protobufjs,
// so both paths accept exactly the same bytes.
import type { WireEntry } from './raftCodec.js';

/** Field tags, (field number << 3) | wire type. */
/** Frame.append (field 4), length-delimited */
export const APPEND_FRAME_TAG = (4 << 3) | 2;
const TAG_ENTRIES = (6 << 3) | 2; // AppendRequest.entries
const TAG_TERM = (1 << 3) | 0; // Entry.term, int64
const TAG_MAGIC = (2 << 3) | 0; // Entry.magic, int32
const TAG_POS = (3 << 3) | 0; // Entry.pos, int64
const TAG_BODY = (4 << 3) | 2; // Entry.body, bytes
const TAG_BODY_CRC = (5 << 3) | 5; // Entry.bodyCrc, sfixed32

const TWO_32 = 4294967296;
/** 2^53 / 2^32: a high word at or above this makes a value past Number.MAX_SAFE_INTEGER */
const SAFE_HI = 0x200000;

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `v` (a non-negative safe integer) as a varint at p; returns the end. */
export function putVarint(b: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

const plainUint = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/** proto3 leaves out fields at their defaults (0, no bytes), as protobufjs does: the same bytes either way */
const fieldSize = (v: number): number => (v === 0 ? 0 : 1 + varintSize(v));

/** a body CRC the sender does not know (undefined) is left out, like one of 0 */
const crcSize = (crc: number | undefined): number => (crc === undefined || crc === 0 ? 0 : 5);

function entrySize(e: WireEntry): number {
  const body = e.body.byteLength;
  return fieldSize(e.term) + fieldSize(e.magic) + fieldSize(e.pos) + (body === 0 ? 0 : 1 + varintSize(body) + body) + crcSize(e.bodyCrc);
}

function putField(b: Uint8Array, p: number, tag: number, v: number): number {
  if (v === 0) return p;
  b[p++] = tag;
  return putVarint(b, p, v);
}

/**
 * The `entries` field of an AppendRequest, or null when a value is not one this writer takes
 * (negative or unsafe numbers: the caller encodes those with protobufjs).
 */
export function writeAppendEntries(entries: readonly WireEntry[]): Buffer | null {
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (!plainUint(e.term) || !plainUint(e.pos) || !(e.magic >= 0 && e.magic <= 0x7fffffff && Number.isInteger(e.magic))) return null;
    if (e.bodyCrc !== undefined && (e.bodyCrc | 0) !== e.bodyCrc) return null;
    const size = entrySize(e);
    total += 1 + varintSize(size) + size;
  }
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    out[p++] = TAG_ENTRIES;
    p = putVarint(out, p, entrySize(e));
    p = putField(out, p, TAG_TERM, e.term);
    p = putField(out, p, TAG_MAGIC, e.magic);
    p = putField(out, p, TAG_POS, e.pos);
    if (e.body.byteLength > 0) {
      p = putField(out, p, TAG_BODY, e.body.byteLength);
      out.set(e.body, p);
      p += e.body.byteLength;
    }
    const crc = e.bodyCrc;
    if (crc !== undefined && crc !== 0) {
      out[p] = TAG_BODY_CRC;
      out[p + 1] = crc & 0xff;
      out[p + 2] = (crc >>> 8) & 0xff;
      out[p + 3] = (crc >>> 16) & 0xff;
      out[p + 4] = crc >>> 24;
      p += 5;
    }
  }
  return out;
}

/** Why the fast reader gave up: the frame is not in the plain shape, protobufjs decides. */
class NotPlain {}
const NOT_PLAIN = new NotPlain();

/** What the reader saw of an AppendRequest; the caller validates it as it does protobufjs's output. */
export interface AppendFields {
  from: string;
  to: string;
  term: number;
  prevIndex: number;
  prevTerm: number;
  commit: number;
  /** entries without their index (the caller numbers them from prevIndex) */
  terms: number[];
  magics: number[];
  positions: number[];
  bodies: Uint8Array[];
  /** the sender's body CRCs, 0 where not given */
  bodyCrcs: number[];
}

/**
 * Reads a Frame payload that holds exactly one AppendRequest (Frame field 4). Returns null when
 * the payload is anything else, or an AppendRequest in a form this reader does not take (a known
 * field with another wire type, groups, a number past 2^53): the generic decoder then reads it,
 * and rejects it if it is broken. Values are returned as protobuf gives them: NaN marks an
 * integer that is not safe, for the caller's checks.
 */
export function readAppendFrame(payload: Buffer, maxEntries: number): AppendFields | null {
  if (payload.length < 2 || payload[0] !== APPEND_FRAME_TAG) return null;
  const r = new Reader(payload, 1);
  try {
    const len = r.uint();
    if (r.p + len !== payload.length) return null;
    return readAppend(r, payload.length, maxEntries);
  } catch (e) {
    if (e === NOT_PLAIN) return null;
    throw e;
  }
}

function readAppend(r: Reader, end: number, maxEntries: number): AppendFields {
  const f: AppendFields = { from: '', to: '', term: 0, prevIndex: 0, prevTerm: 0, commit: 0, terms: [], magics: [], positions: [], bodies: [], bodyCrcs: [] };
  while (r.p < end) {
    const tag = r.uint();
    switch (tag) {
      case (1 << 3) | 2:
        f.from = r.string();
        break;
      case (2 << 3) | 2:
        f.to = r.string();
        break;
      case (3 << 3) | 0:
        f.term = r.int64();
        break;
      case (4 << 3) | 0:
        f.prevIndex = r.sint64();
        break;
      case (5 << 3) | 0:
        f.prevTerm = r.sint64();
        break;
      case TAG_ENTRIES: {
        // past the limit the caller refuses the frame; stop collecting here, keep reading the rest
        const len = r.uint();
        const stop = r.p + len;
        if (stop > end) throw NOT_PLAIN;
        if (f.terms.length <= maxEntries) readEntry(r, stop, f);
        r.p = stop;
        break;
      }
      case (7 << 3) | 0:
        f.commit = r.sint64();
        break;
      default:
        r.skip(tag, end, 7);
    }
  }
  if (r.p !== end) throw NOT_PLAIN;
  return f;
}

function readEntry(r: Reader, end: number, f: AppendFields): void {
  let term = 0;
  let magic = 0;
  let pos = 0;
  let body: Uint8Array | null = null;
  let bodyCrc = 0;
  while (r.p < end) {
    const tag = r.uint();
    switch (tag) {
      case TAG_TERM:
        term = r.int64();
        break;
      case TAG_MAGIC:
        magic = r.int32();
        break;
      case TAG_POS:
        pos = r.int64();
        break;
      case TAG_BODY:
        body = r.bytes(end);
        break;
      case TAG_BODY_CRC:
        bodyCrc = r.fixed32(end) | 0;
        break;
      default:
        r.skip(tag, end, 5);
    }
  }
  if (r.p !== end) throw NOT_PLAIN;
  f.terms.push(term);
  f.magics.push(magic);
  f.positions.push(pos);
  f.bodies.push(body ?? EMPTY);
  f.bodyCrcs.push(bodyCrc);
}

const EMPTY = Buffer.alloc(0);

class Reader {
  /** high 32 bits of the last varint read by varint64() */
  private hi = 0;

  constructor(
    private readonly b: Buffer,
    public p: number,
  ) {}

  /** A varint that must fit 32 bits unsigned (tags, lengths); anything longer is not plain. */
  uint(): number {
    const b = this.b;
    let p = this.p;
    if (p >= b.length) throw NOT_PLAIN;
    let x = b[p++]!;
    let v = x & 0x7f;
    for (let shift = 7; x >= 0x80 && shift < 28; shift += 7) {
      if (p >= b.length) throw NOT_PLAIN;
      x = b[p++]!;
      v |= (x & 0x7f) << shift;
    }
    if (x >= 0x80) {
      // a fifth byte: the top 4 bits of 32, and no more
      if (p >= b.length) throw NOT_PLAIN;
      x = b[p++]!;
      if (x > 0x0f) throw NOT_PLAIN;
      v += x * 0x10000000;
    }
    this.p = p;
    return v;
  }

  /** A 64-bit varint: returns the low 32 bits unsigned, leaves the high 32 bits in `hi`. */
  private varint64(): number {
    const b = this.b;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.p >= b.length) throw NOT_PLAIN;
      const x = b[this.p++]!;
      const bits = x & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28; // the low 4 bits; the rest go high
        hi = bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (x < 0x80) {
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    throw NOT_PLAIN;
  }

  /** int64 as protobuf defines it: a two's complement value; NaN when it is not a safe integer */
  int64(): number {
    const lo = this.varint64();
    const hi = this.hi;
    if (hi < SAFE_HI) return hi * TWO_32 + lo;
    if (hi >= 0x80000000) {
      // negative: magnitude = two's complement of (hi, lo)
      const mlo = (~lo >>> 0) + 1;
      const mhi = (~hi >>> 0) + (mlo > 0xffffffff ? 1 : 0);
      if (mhi < SAFE_HI) return -(mhi * TWO_32 + (mlo > 0xffffffff ? 0 : mlo));
    }
    return NaN;
  }

  /** sint64: zigzag-encoded; NaN when it is not a safe integer */
  sint64(): number {
    const lo = this.varint64();
    const hi = this.hi;
    const mhi = hi >>> 1;
    const mlo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    if (mhi >= SAFE_HI) return NaN;
    const m = mhi * TWO_32 + mlo;
    return lo & 1 ? -m - 1 : m;
  }

  /** int32: the low 32 bits of the varint, signed */
  int32(): number {
    return this.varint64() | 0;
  }

  bytes(end: number): Buffer {
    const len = this.uint();
    const s = this.p;
    if (s + len > end) throw NOT_PLAIN;
    this.p = s + len;
    // a view of the received bytes, made without Buffer.subarray's generic path
    return Buffer.from(this.b.buffer, this.b.byteOffset + s, len);
  }

  /** ASCII only (member ids are `n<digits>`): other bytes go to protobufjs's UTF-8 reading */
  string(): string {
    const len = this.uint();
    const s = this.p;
    const b = this.b;
    if (s + len > b.length) throw NOT_PLAIN;
    for (let i = s; i < s + len; i++) if (b[i]! >= 0x80) throw NOT_PLAIN;
    this.p = s + len;
    return b.toString('latin1', s, s + len);
  }

  /** a fixed32 field's four bytes, little-endian, unsigned */
  fixed32(end: number): number {
    const b = this.b;
    const p = this.p;
    if (p + 4 > end) throw NOT_PLAIN;
    this.p = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  /**
   * Steps over a field of a number past the message's last known one, by its wire type. A known
   * field in another wire type is not plain: protobufjs reads it by the schema's type instead.
   */
  skip(tag: number, end: number, lastKnown: number): void {
    if (tag >>> 3 <= lastKnown) throw NOT_PLAIN;
    switch (tag & 7) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.p += 8;
        break;
      case 2:
        this.p += this.uint();
        break;
      case 5:
        this.p += 4;
        break;
      default:
        throw NOT_PLAIN; // groups, or a wire type protobuf does not have
    }
    if (this.p > end) throw NOT_PLAIN;
  }
}

