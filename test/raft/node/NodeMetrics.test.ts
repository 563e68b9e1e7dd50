// The buckets behind dledger_append_entry_batch_* and dledger_apply_task_*.
import t from 'tap';
import { APPLY_LATENCY_BUCKETS_MS, BATCH_BYTES_BUCKETS, BATCH_ENTRIES_BUCKETS, Buckets, NodeMetrics } from '../../../raft/node/NodeMetrics.js';

t.test('buckets: a value lands in the first bound it does not exceed; past the last, in +Inf', async (t) => {
  const b = new Buckets([1, 10]);
  for (const v of [0, 1, 1.5, 10, 11]) b.observe(v);
  t.same([...b.counts], [2, 2, 1]);
  t.equal(b.count, 5);
  t.equal(b.sum, 23.5);
});

t.test('a committed proposal counts its entries and its body bytes (headers not included)', async (t) => {
  const m = new NodeMetrics();
  m.appendCommitted(1, 48 + 1000);
  m.appendCommitted(32, 32 * (48 + 100));
  t.equal(m.appendBatchEntries.count, 2);
  t.equal(m.appendBatchEntries.sum, 33);
  t.equal(m.appendBatchEntries.counts[BATCH_ENTRIES_BUCKETS.indexOf(32)], 1);
  t.equal(m.appendBatchBytes.sum, 1000 + 3200);
  t.equal(m.appendBatchBytes.counts[BATCH_BYTES_BUCKETS.indexOf(1024)], 1, '1000 bytes: <= 1 KiB');
  t.equal(m.appendBatchBytes.counts[BATCH_BYTES_BUCKETS.indexOf(4096)], 1, '3200 bytes: <= 4 KiB');
});

t.test('an apply task is timed from its start to its end', async (t) => {
  const m = new NodeMetrics();
  m.applyStarted();
  await new Promise((r) => setTimeout(r, 30));
  m.applied(7);
  t.equal(m.applyBatchEntries.sum, 7);
  t.equal(m.applyLatencyMs.count, 1);
  t.ok(m.applyLatencyMs.sum >= 25 && m.applyLatencyMs.sum < 5000, `took ${m.applyLatencyMs.sum} ms`);
  t.equal(m.applyLatencyMs.counts[APPLY_LATENCY_BUCKETS_MS.length], 0, 'not in +Inf');
});
