import t from 'tap';
import { LabelSet, MetricRegistry, PlainHistogram, formatValue } from '../../../server/http/MetricRegistry.js';
import { RpcStats } from '../../../server/http/RpcStats.js';
import { parsePromText } from './promText.js';

t.test('families print in the text format with the default labels', async (t) => {
  const r = new MetricRegistry({ cluster: 'C', node_type: 'broker' });
  let n = 0;
  r.register('x_total', 'things\nand a backslash \\', 'counter', (out) => {
    out.push({ labels: { topic: 'a"b\\c\nd' }, value: ++n });
  });
  const h = new PlainHistogram([1, 10]);
  for (const v of [0.5, 2, 20, 30]) h.observe(v);
  r.register('lat', 'latency', 'histogram', (out) => {
    out.push({ labels: new LabelSet({ op: 'put' }), bounds: h.bounds, counts: h.counts, sum: h.sum });
  });
  r.register('bare', 'no labels of its own', 'gauge', (out) => {
    out.push({ labels: {}, value: Infinity });
  });
  const text = await r.metrics();
  t.match(text, '# HELP x_total things\\nand a backslash \\\\\n# TYPE x_total counter\n', 'help escaped');
  t.match(text, '# TYPE lat histogram');
  t.match(text, 'bare{cluster="C",node_type="broker"} +Inf\n');
  t.match(text, 'lat_bucket{op="put",cluster="C",node_type="broker",le="1"} 1\n');
  const s = parsePromText(text);
  t.equal(s.sum('x_total', { topic: 'a"b\\c\nd', cluster: 'C', node_type: 'broker' }), 1, 'label values escaped and parsed back');
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

t.test('no default labels, async collectors, names checked', async (t) => {
  const r = new MetricRegistry();
  r.register('later', 'computed after an await', 'gauge', async (out) => {
    await new Promise((res) => setImmediate(res));
    out.push({ labels: {}, value: 3 });
  });
  r.register('empty', 'no samples', 'gauge', () => undefined);
  const text = await r.metrics();
  t.match(text, /^later 3$/m);
  t.match(text, '# TYPE empty gauge', 'a family without samples still says what it is');
  t.throws(() => r.register('later', 'again', 'gauge', () => undefined), /registered already/);
  t.throws(() => r.register('bad-name', 'x', 'gauge', () => undefined), /bad metric name/);
  r.register('bad_label', 'x', 'gauge', (out) => void out.push({ labels: { 'bad-label': 1 }, value: 1 }));
  await t.rejects(r.metrics(), /bad label name/);
  t.equal(formatValue(NaN), 'NaN');
  t.equal(formatValue(-Infinity), '-Inf');
  t.equal(formatValue(0.25), '0.25');
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
