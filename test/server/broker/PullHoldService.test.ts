// Long-poll holds without a socket or a timer: an injected clock, applied messages handed in
// by hand, and checkTimeouts called when the test says so.
import t from 'tap';
import type { AppliedMessage } from '../../../server/broker/commitlog/CommitLog.js';
import { PullHoldService, type HeldPull } from '../../../server/broker/PullHoldService.js';

interface Probe extends HeldPull {
  woken: number;
  gone: boolean;
}

function probe(fields: Partial<HeldPull> & { deadline: number }): Probe {
  const p: Probe = {
    topic: 'T',
    queueId: 0,
    offset: 5,
    matches: () => true,
    woken: 0,
    gone: false,
    wake: () => {
      p.woken++;
    },
    isGone: () => p.gone,
    ...fields,
  };
  return p;
}

function applied(fields: Partial<AppliedMessage>): AppliedMessage {
  return { topic: 'T', queueId: 0, queueOffset: 5, tagsCode: 0, physicalOffset: 100, size: 100, storeTimestamp: 1, ...fields };
}

t.test('a matching message at or past the held offset wakes the pull once', async (t) => {
  let now = 1000;
  const s = new PullHoldService({ now: () => now });
  const p = probe({ deadline: now + 15_000, matches: (code) => code === 42 });
  t.ok(s.hold(p));
  t.equal(s.heldCount, 1);
  s.onMessages([applied({ queueOffset: 4, tagsCode: 42 })]);
  t.equal(p.woken, 0, 'a message below the pull offset does not wake it');
  s.onMessages([applied({ queueId: 1, queueOffset: 5, tagsCode: 42 })]);
  t.equal(p.woken, 0, 'a message of another queue does not wake it');
  s.onMessages([applied({ topic: 'U', queueOffset: 5, tagsCode: 42 })]);
  t.equal(p.woken, 0, 'a message of another topic does not wake it');
  s.onMessages([applied({ queueOffset: 5, tagsCode: 42 })]);
  t.equal(p.woken, 1, 'the matching message wakes it');
  t.equal(s.heldCount, 0, 'and it is no longer held');
  s.onMessages([applied({ queueOffset: 6, tagsCode: 42 })]);
  now += 60_000;
  s.checkTimeouts();
  t.equal(p.woken, 1, 'never woken twice');
});

t.test('a message whose tag the filter rejects leaves the pull held', async (t) => {
  let now = 0;
  const s = new PullHoldService({ now: () => now });
  const p = probe({ deadline: 500, matches: (code) => code === 7 });
  const q = probe({ deadline: 500, matches: () => true });
  s.hold(p);
  s.hold(q);
  s.onMessages([applied({ tagsCode: 8 })]);
  t.equal(p.woken, 0, 'non-matching tag: still held');
  t.equal(q.woken, 1, 'a "*" pull on the same queue woke');
  t.equal(s.heldCount, 1);
  now = 499;
  s.checkTimeouts();
  t.equal(p.woken, 0, 'before the deadline nothing happens');
  now = 500;
  s.checkTimeouts();
  t.equal(p.woken, 1, 'at the deadline the pull is answered');
  t.equal(s.heldCount, 0);
});

t.test('checkTimeouts with a max-offset view wakes pulls whose queue moved on', async (t) => {
  const s = new PullHoldService({ now: () => 0 });
  const moved = probe({ deadline: 10_000, queueId: 1, offset: 3 });
  const still = probe({ deadline: 10_000, queueId: 2, offset: 3 });
  s.hold(moved);
  s.hold(still);
  s.checkTimeouts((_topic, queueId) => (queueId === 1 ? 4 : 3));
  t.equal(moved.woken, 1, 'max offset past the pull offset: woken');
  t.equal(still.woken, 0, 'max offset equal to the pull offset: held');
  t.equal(s.heldCount, 1);
});

t.test('past maxHeld a new pull is refused, and room comes back when one leaves', async (t) => {
  const s = new PullHoldService({ maxHeld: 2, now: () => 0 });
  const a = probe({ deadline: 10 });
  const b = probe({ deadline: 10, queueId: 1 });
  const c = probe({ deadline: 10, queueId: 2 });
  t.ok(s.hold(a));
  t.ok(s.hold(b));
  t.notOk(s.hold(c), 'the third pull is refused (the caller answers at once)');
  t.equal(s.heldCount, 2);
  t.equal(c.woken, 0, 'a refused pull is not woken by the service');
  s.onMessages([applied({ queueId: 1 })]);
  t.equal(b.woken, 1);
  t.ok(s.hold(c), 'after one left there is room again');
});

t.test('pulls of clients that went away are dropped without an answer', async (t) => {
  let now = 0;
  const s = new PullHoldService({ now: () => now });
  const gone = probe({ deadline: 100 });
  const live = probe({ deadline: 100 });
  s.hold(gone);
  s.hold(live);
  gone.gone = true;
  now = 50;
  s.checkTimeouts();
  t.equal(gone.woken, 0, 'a gone client is not answered');
  t.equal(s.heldCount, 1, 'but it no longer counts against maxHeld');
  s.onMessages([applied({})]);
  t.equal(gone.woken, 0);
  t.equal(live.woken, 1);
  t.equal(s.heldCount, 0);
});

t.test('stop answers every held pull', async (t) => {
  const s = new PullHoldService({ now: () => 0 });
  const ps = [probe({ deadline: 1e9 }), probe({ deadline: 1e9, topic: 'U' }), probe({ deadline: 1e9, queueId: 3 })];
  for (const p of ps) s.hold(p);
  s.stop();
  t.same(
    ps.map((p) => p.woken),
    [1, 1, 1],
  );
  t.equal(s.heldCount, 0);
});
