import t from 'tap';
import { MESSAGE_SIZE_BUCKETS, OTHER_LABEL, TrafficCounters } from '../../../server/http/TrafficCounters.js';

t.test('messages in: per topic, with the size histogram', async (t) => {
  const c = new TrafficCounters();
  c.countIn('A', 100);
  c.countIn('A', 5000);
  c.countIn('B', 5 * 1024 * 1024);
  const [a, b] = c.inByTopic();
  t.match(a, { topic: 'A', messages: 2, bytes: 5100 });
  t.same(a!.sizeCounts, [1, 0, 1, 0, 0, 0, 0], '100 B in the 1 KB bucket, 5000 B in the 512 KB one');
  t.equal(b!.sizeCounts[MESSAGE_SIZE_BUCKETS.length], 1, 'over 4 MB lands in the overflow bucket');
});

t.test('label values are bounded: new topics past the limit share _other', async (t) => {
  const c = new TrafficCounters(3);
  for (let i = 0; i < 10; i++) c.countIn(`T${i}`, 10);
  const rows = c.inByTopic();
  t.equal(rows.length, 4, 'three topics and _other');
  t.match(rows[3], { topic: OTHER_LABEL, messages: 7 });
  c.countIn('T1', 10);
  t.equal(rows[1]!.messages, 2, 'a known topic keeps its own row');
});

t.test('messages out, pulled offsets and DLQ per topic and group', async (t) => {
  const c = new TrafficCounters(2);
  c.countOut('A', 'g1', 0, 10, 10, 1000);
  c.countOut('A', 'g1', 1, 5, 5, 500);
  c.countOut('A', 'g2', 0, 3, 3, 300);
  c.countDlq('A', 'g1');
  c.countOut('B', 'g3', 0, 1, 1, 1);
  const rows = c.outByGroup();
  t.match(rows[0], { topic: 'A', group: 'g1', messages: 15, bytes: 1500, dlq: 1 });
  t.same([...rows[0]!.pulled], [
    [0, 10],
    [1, 5],
  ]);
  t.match(rows[2], { topic: OTHER_LABEL, group: OTHER_LABEL, messages: 1 });
  t.equal(rows[2]!.pulled.size, 0, 'no pulled offsets under _other');
});
