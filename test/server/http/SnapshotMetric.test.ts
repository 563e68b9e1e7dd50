import { Registry } from 'prom-client';
import t from 'tap';
import { RpcStats } from '../../../server/http/RpcStats.js';
import { PlainHistogram, pushHistogram, registerSnapshot } from '../../../server/http/SnapshotMetric.js';
import { parsePromText } from './promText.js';

t.test('snapshot metrics print in the text format with the default labels', async (t) => {
  const r = new Registry();
  r.setDefaultLabels({ cluster: 'C', node_type: 'broker' });
  let n = 0;
  registerSnapshot(r, 'x_total', 'things', 'counter', (out) => {
    out.push({ labels: { topic: 'a"b' }, value: ++n });
  });
  const h = new PlainHistogram([1, 10]);
  for (const v of [0.5, 2, 20, 30]) h.observe(v);
  registerSnapshot(r, 'lat', 'latency', 'histogram', (out) => pushHistogram(out, 'lat', h.bounds, h.counts, h.sum, { op: 'put' }));
  const text = await r.metrics();
  t.match(text, '# TYPE x_total counter');
  t.match(text, '# TYPE lat histogram');
  const s = parsePromText(text);
  t.equal(s.sum('x_total', { topic: 'a"b', cluster: 'C', node_type: 'broker' }), 1, 'label values escaped and parsed back');
  t.same(
    s.find('lat_bucket').map((x) => [x.labels.le, x.value]),
    [
      ['1', 1],
      ['10', 2],
      ['+Inf', 4],
    ],
    'buckets are cumulative',
  );
  t.equal(s.sum('lat_count'), 4);
  t.equal(s.sum('lat_sum'), 52.5);
  t.equal(parsePromText(await r.metrics()).sum('x_total'), 2, 'values are read at every scrape');
});

t.test('RpcStats: latency by request and response code, requests in progress', async (t) => {
  const rpc = new RpcStats(2);
  const a = rpc.begin(10);
  const b = rpc.begin(10);
  t.equal(rpc.inflight.get(10), 2);
  rpc.end(10, 0, a);
  rpc.end(10, 17, b);
  t.equal(rpc.inflight.get(10), 0);
  rpc.end(11, 0, rpc.begin(11));
  const cells = rpc.all();
  t.same(cells.map((c) => [c.requestCode, c.responseCode, c.latency.count]), [
    [10, 0, 1],
    [10, 17, 1],
    [-1, -1, 1],
  ], 'past maxCells, new code pairs share one cell');
  t.equal(rpc.answered(10), 2);
});
