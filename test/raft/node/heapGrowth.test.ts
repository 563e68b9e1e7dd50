import t from 'tap';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../../raft/node/heapGrowth.js';

t.test('the growing factor is set unless the process was started with its own', async (t) => {
  t.equal(heapGrowthFlag([], undefined), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  t.equal(heapGrowthFlag(['--enable-source-maps'], '--max-old-space-size=512'), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, 'other flags do not count');
  t.equal(heapGrowthFlag(['--heap-growing-percent=50'], undefined), undefined, 'a node flag wins');
  t.equal(heapGrowthFlag([], '--trace-gc --heap_growing_percent=100'), undefined, 'NODE_OPTIONS wins, in either spelling');
});
