// Batching by time and bytes: off by default (send at once); when on, a leader holds new
// entries for a follower up to batchTicks ticks or until batchBytes wait, whichever comes first.
import t from 'tap';
import type { AppendRequest } from '../../../raft/core/index.js';
import { TestCluster } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];
const small = () => [{ magic: 1, body: new Uint8Array(10) }];
const appendsWithEntries = (c: TestCluster) => c.delivered.filter((m): m is AppendRequest => m.type === 'append' && m.entries.length > 0);

t.test('by default an append goes out as soon as the entry is persisted', async (t) => {
  const c = new TestCluster(IDS);
  const n0 = c.elect('n0');
  c.tickAll(1);
  c.delivered = [];
  n0.core.propose(small());
  c.settle();
  t.equal(appendsWithEntries(c).length, 2, 'one append per follower, no tick needed');
  t.equal(n0.core.commitIndex, 1);
});

t.test('batchTicks holds small appends until the time is up', async (t) => {
  const c = new TestCluster(IDS, { batchTicks: 3, batchBytes: 1000, heartbeatTicks: 5, electionTicks: 20 });
  const n0 = c.elect('n0');
  c.settle();
  c.delivered = [];
  n0.core.propose(small());
  c.settle();
  n0.core.propose(small());
  c.settle();
  t.equal(appendsWithEntries(c).length, 0, 'held');
  n0.core.tick();
  c.settle();
  n0.core.tick();
  c.settle();
  t.equal(appendsWithEntries(c).length, 0, 'still held after two ticks');
  n0.core.tick();
  c.settle();
  const sent = appendsWithEntries(c);
  t.equal(sent.length, 2, 'flushed on the third tick');
  t.same(sent[0]!.entries.map((e) => e.index), [1, 2], 'both entries in one append');
  t.equal(n0.core.commitIndex, 2);
  t.equal(n0.core.counters.batchFlushes, 1);
});

t.test('batchBytes sends at once when enough waits', async (t) => {
  const c = new TestCluster(IDS, { batchTicks: 100, batchBytes: 300, heartbeatTicks: 5, electionTicks: 200 });
  const n0 = c.elect('n0');
  c.settle();
  c.delivered = [];
  n0.core.propose(small());
  c.settle();
  t.equal(appendsWithEntries(c).length, 0);
  n0.core.propose([{ magic: 1, body: new Uint8Array(250) }]);
  c.settle();
  t.equal(appendsWithEntries(c).length, 2, '58 + 298 bytes reach 300: sent without waiting');
});

t.test('setBatching changes the policy at run time; ticks = 0 flushes and sends at once again', async (t) => {
  const c = new TestCluster(IDS, { heartbeatTicks: 5, electionTicks: 50 });
  const n0 = c.elect('n0');
  c.settle();
  n0.core.setBatching(10, 10_000);
  c.delivered = [];
  n0.core.propose(small());
  c.settle();
  t.equal(appendsWithEntries(c).length, 0, 'held by the new policy');
  n0.core.setBatching(0, 0);
  c.settle();
  t.equal(appendsWithEntries(c).length, 2, 'flushed');
  t.throws(() => n0.core.setBatching(-1, 0), RangeError);
  t.throws(() => n0.core.setBatching(1.5, 0), RangeError);
});

t.test('probes and catch-up are never held, only the steady pipeline', async (t) => {
  const c = new TestCluster(IDS, { batchTicks: 50, batchBytes: 1 << 20, heartbeatTicks: 2, electionTicks: 100 });
  const n0 = c.elect('n0');
  c.settle();
  t.equal(c.node('n1').log.lastIndex, 0, 'the no-op went out with the first probe');
  n0.core.flushAppends();
  c.settle();
  t.equal(n0.core.commitIndex, 0);
});
