import t, { type Test } from 'tap';
import { StoredLogView } from '../../../raft/node/StoredLogView.js';
import { SegmentedLog } from '../../../storage/log/SegmentedLog.js';
import { SyncLogWriter } from '../../../storage/log/SyncLogWriter.js';
import { tempDir } from '../../helpers/processes.js';

async function logWith(t: Test, n: number): Promise<SegmentedLog> {
  const log = await SegmentedLog.open({ dir: tempDir(t), writer: new SyncLogWriter(), log: () => undefined });
  t.teardown(() => log.close());
  if (n > 0) log.append(Array.from({ length: n }, (_, i) => ({ magic: 1, term: 1 + Math.floor(i / 4), body: Buffer.from(`e${i}`) })));
  await log.whenWritten(log.endPosition);
  return log;
}

t.test('shows only what was marked persisted, serves recent entries from memory and older ones from the log', async (t) => {
  const log = await logWith(t, 6);
  const view = new StoredLogView(log, { maxCachedEntries: 3, maxCachedBytes: 1 << 20, keepApplied: 1000 });
  t.equal(view.lastIndex, 5);
  t.equal(view.lastTerm, 2);
  const r = log.append([6, 7, 8, 9].map((i) => ({ magic: 1, term: 3, body: Buffer.from(`e${i}`) })));
  t.equal(view.lastIndex, 5, 'appended but not yet marked persisted');
  view.persisted(r.positions.map((pos, i) => ({ index: 6 + i, term: 3, magic: 1, pos, body: Buffer.from(`e${6 + i}`) })));
  t.equal(view.lastIndex, 9);
  t.equal(view.lastTerm, 3);
  const got = view.entries(7, 10, 1 << 20);
  t.same(got.map((e) => Buffer.from(e.body).toString()), ['e7', 'e8', 'e9'], 'from the cache (the last 3)');
  t.equal(view.cacheHits, 1);
  t.same(view.entries(2, 3, 1 << 20).map((e) => Buffer.from(e.body).toString()), ['e2', 'e3', 'e4'], 'older entries come from the log');
  t.equal(view.cacheMisses, 1);
  t.same(view.entries(7, 10, 1).length, 1, 'byte limit: at least one entry');
  t.equal(view.termAt(8), 3);
  t.equal(view.termAt(1), 1);
  t.equal(view.posAt(9), r.positions[3]);
  t.equal(view.posAt(0), 0);
});

t.test('after a truncation the view and its cache end where the log ends', async (t) => {
  const log = await logWith(t, 0);
  const view = new StoredLogView(log, { maxCachedEntries: 100, maxCachedBytes: 1 << 20, keepApplied: 1000 });
  const r = log.append([0, 1, 2, 3].map((i) => ({ magic: 1, term: 1, body: Buffer.from(`a${i}`) })));
  view.persisted(r.positions.map((pos, i) => ({ index: i, term: 1, magic: 1, pos, body: Buffer.from(`a${i}`) })));
  await log.truncateSuffix(2);
  view.truncated(2);
  t.equal(view.lastIndex, 1);
  t.equal(view.lastTerm, 1);
  const r2 = log.append([{ magic: 1, term: 2, body: Buffer.from('b2') }]);
  view.persisted([{ index: 2, term: 2, magic: 1, pos: r2.positions[0]!, body: Buffer.from('b2') }]);
  t.same(view.entries(0, 10, 1 << 20).map((e) => Buffer.from(e.body).toString()), ['a0', 'a1', 'b2']);
  t.throws(() => view.persisted([{ index: 9, term: 2, magic: 1, pos: 0, body: Buffer.alloc(0) }]), /persisted 9 after 2/);
});

t.test('applied entries leave the cache but the newest keepApplied of them; the count bound still holds', async (t) => {
  const log = await logWith(t, 0);
  const view = new StoredLogView(log, { maxCachedEntries: 8, maxCachedBytes: 1 << 20, keepApplied: 2 });
  const body = (i: number): Buffer => Buffer.from(`c${i}`);
  const r = log.append(Array.from({ length: 6 }, (_, i) => ({ magic: 1, term: 1, body: body(i) })));
  view.persisted(r.positions.map((pos, i) => ({ index: i, term: 1, magic: 1, pos, body: body(i) })));
  const fromCache = (from: number): boolean => {
    const misses = view.cacheMisses;
    t.same(view.entries(from, 1, 1 << 20).map((e) => Buffer.from(e.body).toString()), [`c${from}`]);
    return view.cacheMisses === misses;
  };
  t.ok(fromCache(0), 'nothing applied: everything cached');
  view.applied(3);
  t.notOk(fromCache(1), 'entry 1: applied, and 2 newer applied ones are kept: read from the log');
  t.ok(fromCache(2), 'entry 2: one of the newest two applied');
  t.ok(fromCache(5), 'entries not yet applied stay');
  const r2 = log.append(Array.from({ length: 10 }, (_, i) => ({ magic: 1, term: 1, body: body(6 + i) })));
  view.persisted(r2.positions.map((pos, i) => ({ index: 6 + i, term: 1, magic: 1, pos, body: body(6 + i) })));
  t.notOk(fromCache(7), 'the count bound: only the last 8 (8..15) are held');
  t.ok(fromCache(8));
  t.equal(view.termAt(1), 1, 'an evicted entry still answers from the log');
});
