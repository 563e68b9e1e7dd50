// dledger_replicate_entry_latency's and _batch_count / _batch_bytes' source: sends matched to
// acknowledgements per follower.
import t from 'tap';
import { BATCH_BYTES_BUCKETS, BATCH_ENTRIES_BUCKETS } from '../../../raft/node/NodeMetrics.js';
import { REPLICATE_LATENCY_BUCKETS_MS, ReplicationLatency } from '../../../raft/node/ReplicationLatency.js';

/** entries first..last with bodies of `size` bytes */
const entries = (first: number, last: number, size = 100): Array<{ index: number; body: Uint8Array }> =>
  Array.from({ length: last - first + 1 }, (_, i) => ({ index: first + i, body: new Uint8Array(size) }));

t.test('an acknowledgement covers every append up to its index, per follower', async (t) => {
  const r = new ReplicationLatency();
  r.sent('n1', entries(0, 5), 100);
  r.sent('n1', entries(6, 9), 101);
  r.sent('n2', entries(0, 5), 100);
  r.acknowledged('n1', 5, 100.4); // 0.4 ms: bucket <= 0.5
  let p = r.byPeer.get('n1')!;
  t.equal(p.latencyMs.count, 1);
  t.equal(p.latencyMs.counts[REPLICATE_LATENCY_BUCKETS_MS.indexOf(0.5)], 1);
  r.acknowledged('n1', 12, 104); // covers index 9: 3 ms
  p = r.byPeer.get('n1')!;
  t.equal(p.latencyMs.count, 2);
  t.equal(p.latencyMs.counts[REPLICATE_LATENCY_BUCKETS_MS.indexOf(5)], 1);
  t.ok(Math.abs(p.latencyMs.sum - 3.4) < 1e-9);
  t.notOk(r.byPeer.has('n2'), 'n2 answered nothing yet');
  r.acknowledged('n1', 12, 200);
  t.equal(r.byPeer.get('n1')!.latencyMs.count, 2, 'a repeated answer measures nothing twice');
});

t.test('the acknowledged appends are counted by entries and bytes, headers included', async (t) => {
  const r = new ReplicationLatency();
  r.sent('n1', entries(0, 5, 100), 0); // 6 entries of 148 bytes
  r.sent('n1', entries(6, 6, 2000), 0); // 1 entry of 2048 bytes
  r.sent('n1', entries(7, 8, 10), 0); // not acknowledged below
  r.acknowledged('n1', 6, 1);
  const p = r.byPeer.get('n1')!;
  t.equal(p.batchEntries.count, 2, 'two appends acknowledged');
  t.equal(p.batchEntries.sum, 7, 'seven entries in them');
  t.equal(p.batchEntries.counts[BATCH_ENTRIES_BUCKETS.indexOf(1)], 1);
  t.equal(p.batchEntries.counts[BATCH_ENTRIES_BUCKETS.indexOf(8)], 1, '6 entries fall in the <= 8 bucket');
  t.equal(p.batchBytes.sum, 6 * 148 + 2048);
  t.equal(p.batchBytes.counts[BATCH_BYTES_BUCKETS.indexOf(1024)], 1, '888 bytes: <= 1 KiB');
  t.equal(p.batchBytes.counts[BATCH_BYTES_BUCKETS.indexOf(4096)], 1, '2048 bytes: <= 4 KiB');
});

t.test('outstanding sends are bounded and forgotten when leadership ends', async (t) => {
  const r = new ReplicationLatency();
  for (let i = 0; i < 5000; i++) r.sent('n1', entries(i, i), i);
  r.acknowledged('n1', 4999, 5000);
  t.equal(r.byPeer.get('n1')!.latencyMs.count, 1024, 'at most 1024 remembered');
  r.sent('n2', entries(1, 1), 0);
  r.reset();
  r.acknowledged('n2', 1, 1);
  t.notOk(r.byPeer.has('n2'));
});
