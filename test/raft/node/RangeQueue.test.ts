// The per-proposal index ranges of the leader's write hooks and decoded entries.
import t from 'tap';
import { RangeQueue, type IndexRange } from '../../../raft/node/RangeQueue.js';

interface R extends IndexRange {
  name: string;
  dead?: boolean;
}

t.test('find returns the range holding an index, asked in increasing order, and lets go of ranges behind', async (t) => {
  const q = new RangeQueue<R>();
  q.push({ first: 5, last: 7, name: 'a' });
  q.push({ first: 8, last: 8, name: 'b' });
  q.push({ first: 12, last: 20, name: 'c' });
  t.equal(q.entries, 13);
  t.equal(q.find(4), undefined, 'before the first range');
  t.equal(q.size, 3, 'nothing let go');
  t.equal(q.find(5)?.name, 'a');
  t.equal(q.find(7)?.name, 'a');
  t.equal(q.find(8)?.name, 'b');
  t.equal(q.size, 2, 'a is behind');
  t.equal(q.find(10), undefined, 'a gap between proposals (entries of others, such as a no-op)');
  t.equal(q.find(20)?.name, 'c');
  t.equal(q.entries, 9);
  t.equal(q.find(21), undefined);
  t.equal(q.size, 0);
  t.equal(q.entries, 0);
});

t.test('a dead range does not hold its indexes: a later proposal reusing them is found', async (t) => {
  const q = new RangeQueue<R>();
  const failed: R = { first: 10, last: 19, name: 'failed' };
  q.push(failed);
  t.equal(q.find(10)?.name, 'failed', 'written before it failed');
  // the proposal failed (leadership lost); its entries were truncated and the indexes come again
  failed.dead = true;
  q.push({ first: 12, last: 15, name: 'again' });
  t.equal(q.find(12)?.name, 'again');
  t.equal(q.find(15)?.name, 'again');
  t.equal(q.size, 1);
});

t.test('clear, empty ranges and compaction over many ranges', async (t) => {
  const q = new RangeQueue<R>();
  t.throws(() => q.push({ first: 3, last: 2, name: 'x' }), RangeError);
  for (let i = 0; i < 5000; i++) q.push({ first: i * 2, last: i * 2 + 1, name: String(i) });
  const found: Array<string | undefined> = [];
  for (let i = 0; i < 4000; i++) found.push(q.find(i * 2 + 1)?.name);
  t.same(found, Array.from({ length: 4000 }, (_, i) => String(i)));
  t.equal(q.size, 1001, 'the range of 3999 stays until an index past it is asked for');
  t.equal(q.find(9999)?.name, '4999');
  q.clear();
  t.equal(q.size, 0);
  t.equal(q.entries, 0);
  t.equal(q.find(0), undefined);
});

t.test('peek and shift take ranges from the front, counting their entries out', async (t) => {
  const q = new RangeQueue<R>();
  t.equal(q.peek(), undefined);
  t.equal(q.shift(), undefined);
  q.push({ first: 1, last: 3, name: 'a' });
  q.push({ first: 4, last: 4, name: 'b' });
  t.equal(q.peek()?.name, 'a');
  t.equal(q.entries, 4);
  t.equal(q.shift()?.name, 'a');
  t.equal(q.entries, 1);
  t.equal(q.size, 1);
  t.equal(q.shift()?.name, 'b');
  t.equal(q.size, 0);
  t.equal(q.entries, 0);
});
