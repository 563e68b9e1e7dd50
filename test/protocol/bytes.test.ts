import t from 'tap';
import { asBuffer, readI16BE, readI32BE, readI64BE, readU16BE, readU32BE, writeI16BE, writeI32BE, writeI64BE } from '../../protocol/bytes.js';

// The hand-written readers and writers give the bytes and values of Buffer's own methods.
let seed = 11;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
};

t.test('32- and 16-bit values, signed and unsigned, as Buffer reads and writes them', async (t) => {
  const edges32 = [0, 1, -1, 127, 128, 255, 256, 0x7fffffff, -0x80000000, 0x12345678, -0x12345678];
  const values32 = [...edges32, ...Array.from({ length: 500 }, () => (rand() << 1) | 0)];
  const ours = Buffer.alloc(9, 0xee);
  const theirs = Buffer.alloc(9, 0xee);
  for (const v of values32) {
    writeI32BE(ours, 3, v);
    theirs.writeInt32BE(v, 3);
    if (!ours.equals(theirs)) t.fail(`writeI32BE ${v}: ${ours.toString('hex')} vs ${theirs.toString('hex')}`);
    if (readI32BE(ours, 3) !== theirs.readInt32BE(3)) t.fail(`readI32BE ${v}`);
    if (readU32BE(ours, 3) !== theirs.readUInt32BE(3)) t.fail(`readU32BE ${v}`);
    // an unsigned 32-bit value written through the signed writer keeps its bytes
    writeI32BE(ours, 3, v >>> 0);
    if (!ours.equals(theirs)) t.fail(`writeI32BE of ${v >>> 0}`);
  }
  const values16 = [0, 1, -1, 0x7fff, -0x8000, 0xff, 0x100, ...Array.from({ length: 200 }, () => ((rand() & 0xffff) << 16) >> 16)];
  for (const v of values16) {
    writeI16BE(ours, 5, v);
    theirs.writeInt16BE(v, 5);
    if (!ours.equals(theirs)) t.fail(`writeI16BE ${v}`);
    if (readI16BE(ours, 5) !== theirs.readInt16BE(5)) t.fail(`readI16BE ${v}`);
    if (readU16BE(ours, 5) !== theirs.readUInt16BE(5)) t.fail(`readU16BE ${v}`);
  }
  t.equal(ours.readUInt8(0), 0xee, 'bytes outside the field are left alone');
  t.equal(ours.readUInt8(8), 0xee);
});

t.test('64-bit safe integers, negatives included, as BigInt writes them', async (t) => {
  const values = [0, 1, -1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_700_000_000_000, ...Array.from({ length: 300 }, () => (rand() * 2 ** 22 + rand()) * (rand() & 1 ? 1 : -1))];
  const ours = Buffer.alloc(10);
  const theirs = Buffer.alloc(10);
  for (const v of values) {
    writeI64BE(ours, 1, v);
    theirs.writeBigInt64BE(BigInt(v), 1);
    if (!ours.equals(theirs)) t.fail(`writeI64BE ${v}: ${ours.toString('hex')} vs ${theirs.toString('hex')}`);
    if (readI64BE(ours, 1) !== v) t.fail(`readI64BE ${v} gave ${readI64BE(ours, 1)}`);
  }
  t.pass(`${values.length} values`);
});

t.test('asBuffer: a Buffer as itself, other bytes as a view of the same memory', async (t) => {
  const b = Buffer.from('abc');
  t.equal(asBuffer(b), b);
  const u = new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 4);
  const v = asBuffer(u);
  t.ok(Buffer.isBuffer(v));
  t.same([...v], [2, 3, 4]);
  v[0] = 9;
  t.equal(u[0], 9, 'no copy');
});
