// Bytes of the log on disk (storage/README.md): the 48-byte entry header, the 32-byte index
// entry, the 8-byte blank marker, and the two CRCs that DLedger leaves at 0 and we fill in.
// Pure functions over buffers; no files here.
import { writeI32BE as putInt32, writeI64BE as putInt64 } from '../../protocol/bytes.js';
import { crc32 } from '../../protocol/crc32.js';

export const ENTRY_HEADER_SIZE = 48;
export const INDEX_ENTRY_SIZE = 32;
/** A data file always keeps this much room after its last entry, for the blank marker. */
export const BLANK_MARKER_SIZE = 8;

/** Entry kinds (the header's magic). Metadata kinds are defined by the broker; the log only carries them. */
export const EntryMagic = {
  MESSAGE: 1,
  NOOP: 2,
  /** reserved for membership changes */
  CONFIG: 3,
  /** first broker metadata kind; kinds METADATA_MIN..METADATA_MAX are opaque to the log */
  METADATA_MIN: 16,
  /** upper bound so a random int32 in a damaged header is not taken for a kind */
  METADATA_MAX: 0xffff,
  /** end-of-file filler */
  BLANK: -1,
} as const;

/** Whether `magic` may start an entry (blank excluded). */
export function isEntryMagic(magic: number): boolean {
  return (
    magic === EntryMagic.MESSAGE ||
    magic === EntryMagic.NOOP ||
    magic === EntryMagic.CONFIG ||
    (magic >= EntryMagic.METADATA_MIN && magic <= EntryMagic.METADATA_MAX)
  );
}

export interface EntryHeader {
  magic: number;
  /** header + body */
  size: number;
  index: number;
  term: number;
  pos: number;
  channel: number;
  chainCrc: number;
  bodyCrc: number;
  bodyLength: number;
}

export interface IndexEntry {
  magic: number;
  pos: number;
  size: number;
  index: number;
  term: number;
}

const TWO_POW_32 = 4294967296;

/**
 * Reads a big-endian i64 as a number. Values beyond 2^53 come back inexact on purpose: a damaged
 * header is then caught by the field checks (pos, index) instead of throwing mid-scan.
 */
export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

/** crc32 of the body (one buffer or parts back to back) as a signed int32, as the header stores it. */
export function bodyCrcOf(body: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(body)) return crc32(body) | 0;
  let crc = 0;
  for (const part of body) crc = crc32(part, crc);
  return crc | 0;
}

/** Total length of a body given as one buffer or parts. */
export function bodyLengthOf(body: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(body)) return body.length;
  let n = 0;
  for (const part of body) n += part.length;
  return n;
}

/** crc32's byte table (the zlib polynomial, reflected), for the chain CRC's 44 bytes */
const CRC_TABLE = ((): Int32Array => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crcInt32(c: number, v: number): number {
  c = CRC_TABLE[(c ^ (v >>> 24)) & 0xff]! ^ (c >>> 8);
  c = CRC_TABLE[(c ^ (v >>> 16)) & 0xff]! ^ (c >>> 8);
  c = CRC_TABLE[(c ^ (v >>> 8)) & 0xff]! ^ (c >>> 8);
  return CRC_TABLE[(c ^ v) & 0xff]! ^ (c >>> 8);
}

/**
 * chainCrc = crc32(prevChainCrc ++ header bytes 0..35 ++ bodyCrc), signed. It ties each header
 * to the one before, so a damaged term or index field, or a stale entry left after a suffix
 * truncation, does not pass as the next entry. Computed from a byte table in place: for 44
 * bytes, zlib.crc32's call and the copy it needs cost twice as much as the table loop.
 */
export function chainCrcOf(prevChainCrc: number, header: Uint8Array, headerOffset: number, bodyCrc: number): number {
  let c = crcInt32(-1, prevChainCrc);
  for (let k = headerOffset; k < headerOffset + 36; k++) c = CRC_TABLE[(c ^ header[k]!) & 0xff]! ^ (c >>> 8);
  return ~crcInt32(c, bodyCrc);
}

export interface HeaderFields {
  magic: number;
  index: number;
  term: number;
  pos: number;
  bodyLength: number;
  bodyCrc: number;
  prevChainCrc: number;
}

/** Writes a complete header (CRCs included) at `offset` of `out`; returns its chainCrc. */
export function encodeEntryHeaderInto(out: Buffer, offset: number, h: HeaderFields): number {
  return putEntryHeader(out, offset, h.magic, h.index, h.term, h.pos, h.bodyLength, h.bodyCrc, h.prevChainCrc);
}

/**
 * encodeEntryHeaderInto with the fields as arguments (the append path: no object per entry).
 * index, term and pos must be safe integers.
 */
export function putEntryHeader(
  out: Buffer,
  offset: number,
  magic: number,
  index: number,
  term: number,
  pos: number,
  bodyLength: number,
  bodyCrc: number,
  prevChainCrc: number,
): number {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term) || !Number.isSafeInteger(pos)) {
    throw new RangeError(`i64 header fields must be safe integers, got index ${index}, term ${term}, pos ${pos}`);
  }
  putInt32(out, offset, magic);
  putInt32(out, offset + 4, ENTRY_HEADER_SIZE + bodyLength);
  putInt64(out, offset + 8, index);
  putInt64(out, offset + 16, term);
  putInt64(out, offset + 24, pos);
  putInt32(out, offset + 32, 0); // channel: reserved
  const chainCrc = chainCrcOf(prevChainCrc, out, offset, bodyCrc);
  putInt32(out, offset + 36, chainCrc);
  putInt32(out, offset + 40, bodyCrc | 0);
  putInt32(out, offset + 44, bodyLength);
  return chainCrc;
}

export function encodeEntryHeader(h: HeaderFields): Buffer {
  const out = Buffer.allocUnsafe(ENTRY_HEADER_SIZE);
  encodeEntryHeaderInto(out, 0, h);
  return out;
}

export function decodeEntryHeader(buf: Buffer, offset = 0): EntryHeader {
  return {
    magic: buf.readInt32BE(offset),
    size: buf.readInt32BE(offset + 4),
    index: readInt64(buf, offset + 8),
    term: readInt64(buf, offset + 16),
    pos: readInt64(buf, offset + 24),
    channel: buf.readInt32BE(offset + 32),
    chainCrc: buf.readInt32BE(offset + 36),
    bodyCrc: buf.readInt32BE(offset + 40),
    bodyLength: buf.readInt32BE(offset + 44),
  };
}

/** What a header must satisfy at a given spot; `index` undefined accepts any (the first entry of a log). */
export interface HeaderExpectation {
  pos: number;
  index: number | undefined;
  minTerm: number;
  /** bytes from pos to the end of its segment: the entry plus the blank room must fit */
  segmentRoom: number;
}

/** Checks every header field against where it sits; returns why it is wrong, or undefined. */
export function headerProblem(h: EntryHeader, want: HeaderExpectation): string | undefined {
  if (!isEntryMagic(h.magic)) return `unknown magic ${h.magic}`;
  if (h.bodyLength < 0 || h.size !== ENTRY_HEADER_SIZE + h.bodyLength) {
    return `size ${h.size} does not match body length ${h.bodyLength} + ${ENTRY_HEADER_SIZE}`;
  }
  if (h.size + BLANK_MARKER_SIZE > want.segmentRoom) return `size ${h.size} does not fit the ${want.segmentRoom} bytes left in its segment`;
  if (h.pos !== want.pos) return `pos field ${h.pos} but the entry sits at ${want.pos}`;
  if (want.index === undefined ? !(Number.isSafeInteger(h.index) && h.index >= 0) : h.index !== want.index) {
    return `index ${h.index}, expected ${want.index ?? 'a non-negative index'}`;
  }
  if (!Number.isSafeInteger(h.term) || h.term < want.minTerm || h.term < 0) return `term ${h.term} below the previous term ${want.minTerm}`;
  return undefined;
}

/**
 * Checks both CRCs of an entry whose header starts at `offset` of `buf` (body following it).
 * `prevChainCrc` undefined skips the chain (first entry after a dropped prefix or scan start).
 * `zeroAllowed` accepts an entry with both CRCs 0 (written by Java DLedger).
 */
export function crcProblem(
  buf: Buffer,
  offset: number,
  h: EntryHeader,
  prevChainCrc: number | undefined,
  zeroAllowed: boolean,
): string | undefined {
  if (zeroAllowed && h.bodyCrc === 0 && h.chainCrc === 0) return undefined;
  const body = buf.subarray(offset + ENTRY_HEADER_SIZE, offset + h.size);
  const bodyCrc = crc32(body) | 0;
  if (bodyCrc !== h.bodyCrc) return `body CRC ${h.bodyCrc} but the body hashes to ${bodyCrc}`;
  if (prevChainCrc !== undefined) {
    const chain = chainCrcOf(prevChainCrc, buf, offset, h.bodyCrc);
    if (chain !== h.chainCrc) return `chain CRC ${h.chainCrc} but header and previous entry give ${chain}`;
  }
  return undefined;
}

export function encodeIndexEntryInto(out: Buffer, offset: number, e: IndexEntry): void {
  putIndexEntry(out, offset, e.magic, e.pos, e.size, e.index, e.term);
}

/** encodeIndexEntryInto with the fields as arguments; pos, index and term must be safe integers. */
export function putIndexEntry(out: Buffer, offset: number, magic: number, pos: number, size: number, index: number, term: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term) || !Number.isSafeInteger(pos)) {
    throw new RangeError(`i64 index fields must be safe integers, got index ${index}, term ${term}, pos ${pos}`);
  }
  putInt32(out, offset, magic);
  putInt64(out, offset + 4, pos);
  putInt32(out, offset + 12, size);
  putInt64(out, offset + 16, index);
  putInt64(out, offset + 24, term);
}

export function encodeIndexEntry(e: IndexEntry): Buffer {
  const out = Buffer.allocUnsafe(INDEX_ENTRY_SIZE);
  encodeIndexEntryInto(out, 0, e);
  return out;
}

export function decodeIndexEntry(buf: Buffer, offset = 0): IndexEntry {
  return {
    magic: buf.readInt32BE(offset),
    pos: readInt64(buf, offset + 4),
    size: buf.readInt32BE(offset + 12),
    index: readInt64(buf, offset + 16),
    term: readInt64(buf, offset + 24),
  };
}

/** Whether an index entry describes exactly this header at this spot. */
export function indexMatches(e: IndexEntry, h: EntryHeader): boolean {
  return e.magic === h.magic && e.pos === h.pos && e.size === h.size && e.index === h.index && e.term === h.term;
}

/** The blank marker that fills the rest of a data file: magic -1, then the bytes left in the file. */
export function encodeBlankMarker(remaining: number): Buffer {
  if (!Number.isInteger(remaining) || remaining < BLANK_MARKER_SIZE || remaining > 0x7fffffff) {
    throw new RangeError(`blank marker length must be ${BLANK_MARKER_SIZE}..2^31-1, got ${remaining}`);
  }
  const out = Buffer.allocUnsafe(BLANK_MARKER_SIZE);
  out.writeInt32BE(EntryMagic.BLANK, 0);
  out.writeInt32BE(remaining, 4);
  return out;
}

/** Whether `buf[offset..offset+length)` is all zero bytes. */
export function isAllZero(buf: Buffer, offset: number, length: number): boolean {
  const end = offset + length;
  for (let i = offset; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
