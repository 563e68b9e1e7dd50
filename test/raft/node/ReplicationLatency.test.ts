// dledger_replicate_entry_latency's source: sends matched to acknowledgements per follower.
import t from 'tap';
import { REPLICATE_LATENCY_BUCKETS_MS, ReplicationLatency } from '../../../raft/node/ReplicationLatency.js';

t.test('an acknowledgement covers every append up to its index, per follower', async (t) => {
  const r = new ReplicationLatency();
  r.sent('n1', 5, 100);
  r.sent('n1', 9, 101);
  r.sent('n2', 5, 100);
  r.acknowledged('n1', 5, 100.4); // 0.4 ms: bucket <= 0.5
  let h = r.byPeer.get('n1')!;
  t.equal(h.counts.reduce((a, b) => a + b, 0), 1);
  t.equal(h.counts[REPLICATE_LATENCY_BUCKETS_MS.indexOf(0.5)], 1);
  r.acknowledged('n1', 12, 104); // covers index 9: 3 ms
  h = r.byPeer.get('n1')!;
  t.equal(h.counts.reduce((a, b) => a + b, 0), 2);
  t.equal(h.counts[REPLICATE_LATENCY_BUCKETS_MS.indexOf(5)], 1);
  t.ok(Math.abs(h.sum - 3.4) < 1e-9);
  t.notOk(r.byPeer.has('n2'), 'n2 answered nothing yet');
  r.acknowledged('n1', 12, 200);
  t.equal(r.byPeer.get('n1')!.counts.reduce((a, b) => a + b, 0), 2, 'a repeated answer measures nothing twice');
});

t.test('outstanding sends are bounded and forgotten when leadership ends', async (t) => {
  const r = new ReplicationLatency();
  for (let i = 0; i < 5000; i++) r.sent('n1', i, i);
  r.acknowledged('n1', 4999, 5000);
  t.equal(r.byPeer.get('n1')!.counts.reduce((a, b) => a + b, 0), 1024, 'at most 1024 remembered');
  r.sent('n2', 1, 0);
  r.reset();
  r.acknowledged('n2', 1, 1);
  t.notOk(r.byPeer.has('n2'));
});
