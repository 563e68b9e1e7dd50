// The read-ahead windows alone: entries by offset across runs and gaps, the epoch, the
// per-queue limit and the byte budget with the least recently used window dropped first.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConsumeQueueReadAhead, ReadAheadWindow } from '../../../storage/index/ConsumeQueueReadAhead.js';
import type { ConsumeQueueEntry } from '../../../storage/index/IndexStore.js';
import { CQ_ENTRY_BYTES, writeI64 } from '../../../storage/index/keyLayout.js';

/** A run of entries at offsets first.., physical offset 1000 * offset. */
function run(first: number, count: number): Buffer {
  const b = Buffer.alloc(count * CQ_ENTRY_BYTES);
  for (let k = 0; k < count; k++) {
    const at = k * CQ_ENTRY_BYTES;
    writeI64(b, at, 1000 * (first + k));
    b.writeInt32BE(100, at + 8);
    writeI64(b, at + 12, 7);
    writeI64(b, at + 20, 5000 + first + k);
  }
  return b;
}

const offsets = (es: ConsumeQueueEntry[]): number[] => es.map((e) => e.queueOffset);

t.test('a window reads entries by offset across runs, skipping gaps, up to its end and the queue max', async (t) => {
  // runs 10..19 and 25..29 (a gap 20..24); the window covers [12, 28)
  const w = new ReadAheadWindow(0, 12, 28, [10, 25], [run(10, 10), run(25, 5)]);
  const read = (from: number, end: number, max: number): number[] => {
    const out: ConsumeQueueEntry[] = [];
    w.read(from, end, max, out);
    return offsets(out);
  };
  t.same(read(12, 100, 5), [12, 13, 14, 15, 16]);
  t.same(read(17, 100, 10), [17, 18, 19, 25, 26, 27], 'over the gap, stopping at the window end');
  t.same(read(21, 100, 10), [25, 26, 27], 'from inside the gap');
  t.same(read(14, 16, 10), [14, 15], 'stopping at the queue max');
  t.same(read(13, 100, 1), [13], 'back to an earlier offset');
  const out: ConsumeQueueEntry[] = [];
  w.read(26, 100, 1, out);
  t.strictSame(out, [{ queueOffset: 26, physicalOffset: 26000, size: 100, tagsCode: 7, storeTimestamp: 5026 }]);
  t.equal(w.bytes, 15 * CQ_ENTRY_BYTES);
});

t.test('find: the queue, the offset and the epoch must match; budgets drop the least recently used', async (t) => {
  const bytes = 10 * CQ_ENTRY_BYTES;
  const ra = new ConsumeQueueReadAhead<object>(3 * bytes);
  const qa = {};
  const qb = {};
  const wa1 = new ReadAheadWindow(1, 0, 10, [0], [run(0, 10)]);
  const wa2 = new ReadAheadWindow(1, 100, 110, [100], [run(100, 10)]);
  ra.keep(qa, wa1);
  ra.keep(qa, wa2);
  t.equal(ra.find(qa, 5, 1), wa1, 'two groups at two offsets of one queue keep two windows');
  t.equal(ra.find(qa, 105, 1), wa2);
  t.equal(ra.find(qa, 10, 1), undefined, 'the end is outside');
  t.equal(ra.find(qb, 5, 1), undefined, 'another queue');
  t.equal(ra.find(qa, 5, 2), undefined, 'a later epoch (a cut) ignores older windows');

  ra.find(qa, 5, 1); // wa1 is now the most recently used
  const wb = new ReadAheadWindow(1, 0, 10, [0], [run(0, 10)]);
  ra.keep(qb, wb);
  t.same(ra.stats, { windows: 3, bytes: 3 * bytes });
  const wb2 = new ReadAheadWindow(1, 10, 20, [10], [run(10, 10)]);
  ra.keep(qb, wb2);
  t.same(ra.stats, { windows: 3, bytes: 3 * bytes }, 'over the budget: one dropped');
  t.equal(ra.find(qa, 105, 1), undefined, 'the least recently used went');
  t.equal(ra.find(qa, 5, 1), wa1, 'the recently used stayed');

  const many = new ConsumeQueueReadAhead<object>(1 << 20);
  for (let k = 0; k < 6; k++) many.keep(qa, new ReadAheadWindow(1, k * 10, k * 10 + 10, [k * 10], [run(k * 10, 10)]));
  t.equal(many.stats.windows, 4, 'at most 4 windows per queue');
  t.equal(many.find(qa, 5, 1), undefined, 'the oldest went first');
  t.ok(many.find(qa, 55, 1));
});

t.test('entries read from RocksDB and from the in-memory tail (a Float64Array) share one hidden class', async (t) => {
  // With `size` a double from the tail and a small integer from RocksDB, V8 deprecated the map of
  // every entry made before and migrated each one read after: the pull path stayed unoptimized.
  // Maps are only visible to V8's natives syntax, so this runs in a child process.
  const module = fileURLToPath(new URL('../../../storage/index/ConsumeQueueReadAhead.js', import.meta.url));
  const script = `
    const m = await import(${JSON.stringify(module)});
    const value = Buffer.alloc(28);
    value.writeInt32BE(4096, 4); // physical offset
    value.writeInt32BE(100, 8); // size
    value.writeInt32BE(7, 16); // tags code
    value.writeInt32BE(396, 20); // store timestamp, high word
    const tail = new Float64Array([123456, 100, 7, 1700000000000]);
    const fromDb = m.decodeEntry(value, 0, 0);
    const fromTail = m.consumeQueueEntry(1, tail[0], tail[1], tail[2], tail[3]);
    const fromDbAfter = m.decodeEntry(value, 0, 2);
    process.stdout.write(JSON.stringify([%HaveSameMap(fromDb, fromTail), %HaveSameMap(fromDb, fromDbAfter), %HaveSameMap(fromTail, fromDbAfter)]));
  `;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  t.same(JSON.parse(out), [true, true, true], 'one map: from RocksDB, from the tail, and from RocksDB after the tail');
});
