// CommitApplier: entries are applied in order, one index write per step; after the index fails,
// nothing more is applied and waiting for the applier still returns.
import t from 'tap';
import { CommitApplier } from '../../../../server/broker/commitlog/CommitApplier.js';
import type { IndexStore } from '../../../../storage/index/IndexStore.js';
import type { DispatchRequest } from '../../../../storage/index/DispatchRequest.js';

/** The part of IndexStore the applier uses: where it stands, and apply (failing on demand). */
function fakeIndex(): { store: IndexStore; applies: Array<{ upTo: number }>; failNext: () => void } {
  const applies: Array<{ upTo: number }> = [];
  let fail = false;
  const store = {
    applied: { index: -1, pos: 0 },
    apply: async (_batch: readonly DispatchRequest[], upTo: { index: number; pos: number }): Promise<void> => {
      await Promise.resolve();
      if (fail) throw new Error('disk gone');
      applies.push({ upTo: upTo.index });
    },
  } as unknown as IndexStore;
  return { store, applies, failNext: () => (fail = true) };
}

t.test('committed entries are applied in order and listeners hear of them', async (t) => {
  const ix = fakeIndex();
  const a = new CommitApplier(ix.store);
  const heard: number[] = [];
  a.onApplied((b) => heard.push(b.lastIndex));
  for (let i = 0; i < 5; i++) a.add({ index: i, pos: i * 10, dispatches: [] });
  a.commit(2);
  await a.drained();
  t.equal(a.appliedIndex, 2);
  a.commit(4);
  await a.drained();
  t.equal(a.appliedIndex, 4);
  t.same(ix.applies.at(-1), { upTo: 4 });
  t.same(heard.at(-1), 4);
});

t.test('after the index fails, later commits apply nothing and drained() still returns', async (t) => {
  const ix = fakeIndex();
  const logged: string[] = [];
  const failures: Error[] = [];
  const a = new CommitApplier(ix.store, { log: (l) => logged.push(l), onFailure: (e) => failures.push(e) });
  a.add({ index: 0, pos: 0, dispatches: [] });
  a.commit(0);
  await a.drained();
  t.equal(a.appliedIndex, 0);
  ix.failNext();
  a.add({ index: 1, pos: 10, dispatches: [] });
  a.commit(1);
  await a.drained();
  t.equal(a.error?.message, 'disk gone');
  t.equal(failures.length, 1);
  t.match(logged[0], /apply of entries 1\.\.1 failed/);
  // a commit after the failure: the run finds nothing to do. drained() used to spin in an
  // endless microtask loop here, so a timer never fired and the process froze.
  a.add({ index: 2, pos: 20, dispatches: [] });
  a.commit(2);
  const timer = new Promise<'event loop alive'>((resolve) => setTimeout(() => resolve('event loop alive'), 20));
  t.equal(await Promise.race([a.drained().then(() => 'drained' as const), timer]), 'drained', 'drained() returns');
  t.equal(await timer, 'event loop alive', 'and timers still fire');
  t.equal(a.appliedIndex, 0, 'nothing past the failure is applied');
  t.equal(a.committedIndex, 2);
});

t.test('coalescing: a few commits wait for the timer and share one index write; enough waiting entries start it at once', async (t) => {
  const ix = fakeIndex();
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const a = new CommitApplier(ix.store, {
    coalesceMs: 1,
    coalesceEntries: 4,
    setTimer: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
  });
  const heard: number[] = [];
  a.onApplied((b) => heard.push(b.lastIndex));
  for (let i = 0; i < 12; i++) a.add({ index: i, pos: i * 10, dispatches: [] });
  a.commit(0);
  a.commit(1);
  a.commit(2);
  await Promise.resolve();
  t.equal(timers.length, 1, 'one wait armed for the three commits');
  t.equal(timers[0]!.ms, 1);
  t.same(ix.applies, [], 'nothing applied before the timer');
  t.equal(a.appliedIndex, -1);
  timers[0]!.fn();
  await a.drained();
  t.same(ix.applies, [{ upTo: 2 }], 'one index write for entries 0..2');
  t.same(heard, [2]);

  a.commit(4); // 2 waiting: a new wait
  t.equal(timers.length, 2);
  a.commit(7); // 5 waiting >= 4: at once, the wait is cancelled
  await a.drained();
  t.equal(timers[1]!.cancelled, true, 'the wait was cut short');
  t.same(ix.applies.at(-1), { upTo: 7 });
  t.equal(timers.length, 2);

  a.commit(11); // 4 waiting: at once, no wait armed
  await a.drained();
  t.equal(timers.length, 2, 'no timer when enough entries wait');
  t.same(ix.applies.at(-1), { upTo: 11 });
  t.same(heard, [2, 7, 11]);
  t.throws(() => new CommitApplier(ix.store, { coalesceMs: -1 }), RangeError);
});
