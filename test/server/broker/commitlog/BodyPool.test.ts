// BodyPool: size classes, reuse after release, one release per take, the cap on free bytes.
import t from 'tap';
import { BodyPool, MAX_POOLED_BYTES, MIN_POOLED_BYTES } from '../../../../server/broker/commitlog/BodyPool.js';

t.test('a buffer of the smallest class that holds the bytes asked for', async (t) => {
  const pool = new BodyPool();
  t.equal(pool.take(1).buffer.length, MIN_POOLED_BYTES, 'a small body: the smallest class');
  t.equal(pool.take(MIN_POOLED_BYTES).buffer.length, MIN_POOLED_BYTES, 'exactly the smallest class');
  t.equal(pool.take(MIN_POOLED_BYTES + 1).buffer.length, 2 * MIN_POOLED_BYTES, 'one byte more: the next class');
  t.equal(pool.take(40_000).buffer.length, 64 * 1024, 'a pull of 32 KiB records: 64 KiB');
  t.equal(pool.take(MAX_POOLED_BYTES).buffer.length, MAX_POOLED_BYTES, 'the largest class');
  t.equal(pool.take(MAX_POOLED_BYTES + 1).buffer.length, MAX_POOLED_BYTES + 1, 'above it: a buffer of its own');
});

t.test('a released buffer is handed out again, once', async (t) => {
  const pool = new BodyPool();
  const a = pool.take(30_000);
  const b = pool.take(30_000);
  t.not(a.buffer, b.buffer, 'two held buffers are two buffers');
  a.release();
  a.release(); // a second release must not put it in twice
  const c = pool.take(20_000);
  t.equal(c.buffer, a.buffer, 'the released one comes back for a body of its class');
  const d = pool.take(20_000);
  t.not(d.buffer, a.buffer, 'and only once, though released twice');
  t.not(d.buffer, b.buffer, 'a held buffer is never handed out');
  const small = pool.take(100);
  t.not(small.buffer, a.buffer, 'another class does not get it');
  t.same(pool.stats, { taken: 5, reused: 1, freeBytes: 0 });
  const big = pool.take(MAX_POOLED_BYTES + 1);
  big.release();
  t.equal(pool.stats.freeBytes, 0, 'a buffer above the largest class is not kept');
});

t.test('free buffers are kept up to the cap; past it they are left to the GC', async (t) => {
  const pool = new BodyPool(3 * MIN_POOLED_BYTES);
  const held = Array.from({ length: 5 }, () => pool.take(MIN_POOLED_BYTES));
  for (const h of held) h.release();
  t.equal(pool.stats.freeBytes, 3 * MIN_POOLED_BYTES, 'three kept');
  const again = Array.from({ length: 5 }, () => pool.take(MIN_POOLED_BYTES).buffer);
  t.equal(again.filter((b) => held.some((h) => h.buffer === b)).length, 3, 'three reused, two new');
  t.equal(new Set(again).size, 5, 'five distinct buffers');
});
