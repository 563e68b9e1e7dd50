// keyLayout's 64-bit integers: what writeI64 writes readI64 reads back, signed, across the
// 32-bit halves, and what lies outside the buffer is an error rather than NaN.
import t from 'tap';
import { readI64, writeI64 } from '../../../storage/index/keyLayout.js';

t.test('readI64 reads back writeI64 and Buffer.writeBigInt64BE, signed, across the halves', async (t) => {
  const values = [0, 1, -1, 255, 256, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 1_700_000_000_000, 2 ** 53 - 1, -(2 ** 53 - 1), 0x0123456789abcd];
  const b = Buffer.alloc(24);
  for (const v of values) {
    writeI64(b, 5, v);
    t.equal(readI64(b, 5), v, `writeI64 ${v}`);
    b.writeBigInt64BE(BigInt(v), 11);
    t.equal(readI64(b, 11), v, `writeBigInt64BE ${v}`);
  }
  b.fill(0x80, 0, 8);
  t.equal(readI64(b, 0), Number(b.readBigInt64BE(0)), 'every byte with its top bit set');
});

t.test('readI64 outside the buffer is a RangeError', async (t) => {
  const b = Buffer.alloc(12);
  t.throws(() => readI64(b, 5), RangeError, 'ends past the end');
  t.throws(() => readI64(b, -1), RangeError, 'negative offset');
  t.throws(() => readI64(b.subarray(0, 7), 0), RangeError, 'a buffer of 7 bytes');
  t.equal(readI64(b, 4), 0, 'the last 8 bytes');
});
