import t from 'tap';
import zlib from 'node:zlib';
import {
  BLANK_MARKER_SIZE,
  ENTRY_HEADER_SIZE,
  EntryMagic,
  INDEX_ENTRY_SIZE,
  bodyCrcOf,
  chainCrcOf,
  crcProblem,
  decodeEntryHeader,
  decodeIndexEntry,
  encodeBlankMarker,
  encodeEntryHeader,
  encodeIndexEntry,
  headerProblem,
  indexMatches,
  isEntryMagic,
} from '../../../storage/log/entryCodec.js';

const body = Buffer.from('hello raft log');

function entry(prevChainCrc = 0, over: Partial<{ index: number; term: number; pos: number; magic: number }> = {}): Buffer {
  const header = encodeEntryHeader({
    magic: over.magic ?? EntryMagic.MESSAGE,
    index: over.index ?? 7,
    term: over.term ?? 3,
    pos: over.pos ?? 5_000_000_000, // beyond 2^32: the i64 fields must carry it
    bodyLength: body.length,
    bodyCrc: bodyCrcOf(body),
    prevChainCrc,
  });
  return Buffer.concat([header, body]);
}

t.test('header round trip, big-endian layout as storage/README.md gives it', async (t) => {
  const e = entry(0x1234);
  t.equal(e.length, ENTRY_HEADER_SIZE + body.length);
  const h = decodeEntryHeader(e);
  t.same(
    { magic: h.magic, size: h.size, index: h.index, term: h.term, pos: h.pos, channel: h.channel, bodyLength: h.bodyLength },
    { magic: 1, size: 48 + body.length, index: 7, term: 3, pos: 5_000_000_000, channel: 0, bodyLength: body.length },
  );
  t.equal(e.readInt32BE(4), 48 + body.length, 'size at byte 4');
  t.equal(e.readBigInt64BE(8), 7n, 'index at byte 8');
  t.equal(e.readBigInt64BE(16), 3n, 'term at byte 16');
  t.equal(e.readBigInt64BE(24), 5_000_000_000n, 'pos at byte 24');
  t.equal(e.readInt32BE(44), body.length, 'body length at byte 44');
});

t.test('bodyCrc is crc32 of the body as a signed int32; a body in parts gives the same', async (t) => {
  const e = entry();
  t.equal(e.readInt32BE(40), zlib.crc32(body) | 0);
  t.equal(bodyCrcOf([body.subarray(0, 3), body.subarray(3)]), bodyCrcOf(body));
  const a = Buffer.from('a'); // crc32("a") = 0xe8b7be43, top bit set: stored negative
  t.equal(bodyCrcOf(a), 0xe8b7be43 - 2 ** 32);
});

t.test('chainCrc covers previous chain, header bytes 0..35 and bodyCrc', async (t) => {
  const prev = -123456789;
  const e = entry(prev);
  const manual = zlib.crc32(
    Buffer.concat([Buffer.from([0xf8, 0xa4, 0x32, 0xeb]), e.subarray(0, 36), e.subarray(40, 44)]),
  ) | 0;
  t.equal(Buffer.from([0xf8, 0xa4, 0x32, 0xeb]).readInt32BE(0), prev, 'test vector is prev as 4 bytes BE');
  t.equal(e.readInt32BE(36), manual);
  t.equal(chainCrcOf(prev, e, 0, e.readInt32BE(40)), manual);
  const h = decodeEntryHeader(e);
  t.equal(crcProblem(e, 0, h, prev, false), undefined, 'valid entry passes');
  t.match(crcProblem(e, 0, h, prev + 1, false), /chain CRC/, 'wrong previous chain is caught');
  t.equal(crcProblem(e, 0, h, undefined, false), undefined, 'unknown previous chain skips the chain check');
});

t.test('chainCrc agrees with zlib.crc32 over the same 44 bytes for random headers, at any offset', async (t) => {
  let seed = 7;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let k = 0; k < 2000; k++) {
    const off = rnd() % 17;
    const buf = Buffer.alloc(off + 48);
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() >>> 24;
    const prev = rnd() | 0;
    const bodyCrc = rnd() | 0;
    const want = zlib.crc32(Buffer.concat([int32(prev), buf.subarray(off, off + 36), int32(bodyCrc)])) | 0;
    if (chainCrcOf(prev, buf, off, bodyCrc) !== want) return t.fail(`header ${k}: ${chainCrcOf(prev, buf, off, bodyCrc)} against ${want}`);
  }
  t.pass('2,000 headers');
});

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

t.test('CRC checks catch a flipped byte in the body and in the header', async (t) => {
  const e = entry(5);
  const bodyFlip = Buffer.from(e);
  bodyFlip[ENTRY_HEADER_SIZE + 2]! ^= 0x10;
  t.match(crcProblem(bodyFlip, 0, decodeEntryHeader(bodyFlip), 5, false), /body CRC/);
  const termFlip = Buffer.from(e);
  termFlip[23]! ^= 0x01; // low byte of term: still a plausible term
  t.match(crcProblem(termFlip, 0, decodeEntryHeader(termFlip), 5, false), /chain CRC/);
});

t.test('zero CRCs pass only where allowed', async (t) => {
  const e = entry();
  e.writeInt32BE(0, 36);
  e.writeInt32BE(0, 40);
  const h = decodeEntryHeader(e);
  t.equal(crcProblem(e, 0, h, 0, true), undefined, 'below the crc-checked-from marker');
  t.match(crcProblem(e, 0, h, 0, false), /body CRC 0/, 'after it');
});

t.test('headerProblem checks each field against the spot', async (t) => {
  const h = decodeEntryHeader(entry(0));
  const want = { pos: 5_000_000_000, index: 7, minTerm: 3, segmentRoom: 1 << 20 };
  t.equal(headerProblem(h, want), undefined);
  t.match(headerProblem(h, { ...want, pos: 1 }), /pos field/);
  t.match(headerProblem(h, { ...want, index: 8 }), /index 7, expected 8/);
  t.equal(headerProblem(h, { ...want, index: undefined }), undefined, 'any index for the first entry');
  t.match(headerProblem(h, { ...want, minTerm: 4 }), /term 3 below/);
  t.match(headerProblem(h, { ...want, segmentRoom: h.size + BLANK_MARKER_SIZE - 1 }), /does not fit/);
  t.match(headerProblem({ ...h, magic: 9 }, want), /unknown magic 9/);
  t.match(headerProblem({ ...h, size: h.size + 1 }, want), /does not match body length/);
});

t.test('entry kinds', async (t) => {
  for (const m of [1, 2, 3, 16, 100, 0xffff]) t.ok(isEntryMagic(m), `${m} is an entry kind`);
  for (const m of [0, -1, 4, 15, 0x10000, 0x7fffffff]) t.notOk(isEntryMagic(m), `${m} is not`);
  t.equal(EntryMagic.BLANK, -1);
});

t.test('index entry round trip: magic i32, pos i64, size i32, index i64, term i64', async (t) => {
  const e = { magic: 1, pos: 4_294_967_296 + 48, size: 278, index: 5_242_880, term: 9 };
  const b = encodeIndexEntry(e);
  t.equal(b.length, INDEX_ENTRY_SIZE);
  t.equal(b.readInt32BE(0), 1);
  t.equal(b.readBigInt64BE(4), BigInt(e.pos));
  t.equal(b.readInt32BE(12), 278);
  t.equal(b.readBigInt64BE(16), 5_242_880n);
  t.equal(b.readBigInt64BE(24), 9n);
  t.same(decodeIndexEntry(b), e);
  const h = decodeEntryHeader(entry(0));
  t.ok(indexMatches({ magic: 1, pos: h.pos, size: h.size, index: 7, term: 3 }, h));
  t.notOk(indexMatches({ magic: 1, pos: h.pos, size: h.size, index: 7, term: 2 }, h));
});

t.test('blank marker: magic -1 then the bytes left in the file', async (t) => {
  const b = encodeBlankMarker(1234);
  t.equal(b.length, 8);
  t.equal(b.readInt32BE(0), -1);
  t.equal(b.readInt32BE(4), 1234);
  t.throws(() => encodeBlankMarker(7), /blank marker length/);
});
