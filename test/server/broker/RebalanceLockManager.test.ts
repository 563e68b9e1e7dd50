// Orderly-consumption queue locks: first come holds, the holder renews, an expired lock goes
// to whoever asks next, and only the holder can unlock. Clock injected.
import t from 'tap';
import { RebalanceLockManager, type LockedQueue } from '../../../server/broker/client/RebalanceLockManager.js';

const q = (queueId: number, topic = 'T'): LockedQueue => ({ topic, brokerName: 'broker-a', queueId });

t.test('lock, renew, expiry and takeover', async (t) => {
  let now = 0;
  const m = new RebalanceLockManager(() => now, 60_000);
  t.same(m.tryLock('G', 'c1', [q(0), q(1)]), [q(0), q(1)], 'free queues are locked');
  t.ok(m.isLocked('G', q(0), 'c1'));
  t.same(m.tryLock('G', 'c2', [q(1), q(2)]), [q(2)], 'a queue held by another client is not given');
  t.notOk(m.isLocked('G', q(1), 'c2'));
  t.same(m.tryLock('OTHER', 'c2', [q(1)]), [q(1)], 'locks are per consumer group');

  now = 50_000;
  t.same(m.tryLock('G', 'c1', [q(0)]), [q(0)], 'the holder renews (already-held-by-self counts)');
  now = 100_000;
  t.ok(m.isLocked('G', q(0), 'c1'), 'renewed 50 s ago: still held');
  t.notOk(m.isLocked('G', q(1), 'c1'), 'q1 not renewed for 100 s: expired');
  t.same(m.tryLock('G', 'c2', [q(0), q(1)]), [q(1)], 'an expired lock goes to the next client; a live one does not');
  t.ok(m.isLocked('G', q(1), 'c2'));
  t.notOk(m.isLocked('G', q(1), 'c1'));

  now = 110_000;
  t.ok(m.isLocked('G', q(0), 'c1'), 'exactly at lockMaxLiveTime the lock is still live');
  now = 110_001;
  t.notOk(m.isLocked('G', q(0), 'c1'), 'one ms later it is not');
});

t.test('unlock works for the holder only', async (t) => {
  const now = 0;
  const m = new RebalanceLockManager(() => now);
  m.tryLock('G', 'c1', [q(0), q(1)]);
  m.unlock('G', 'c2', [q(0)]);
  t.ok(m.isLocked('G', q(0), 'c1'), 'another client cannot unlock it');
  t.same(m.tryLock('G', 'c2', [q(0)]), []);
  m.unlock('G', 'c1', [q(0)]);
  t.notOk(m.isLocked('G', q(0), 'c1'), 'the holder unlocks');
  t.same(m.tryLock('G', 'c2', [q(0)]), [q(0)], 'and the queue is free for others at once');
  t.ok(m.isLocked('G', q(1), 'c1'), 'the other lock of the holder is untouched');
  m.unlock('NOPE', 'c1', [q(1)]);
  t.ok(m.isLocked('G', q(1), 'c1'), 'unlock in an unknown group changes nothing');
});

t.test('maxLocks bounds new locks, renewals still pass', async (t) => {
  const m = new RebalanceLockManager(() => 0, 60_000, 2);
  t.same(m.tryLock('G', 'c1', [q(0), q(1), q(2)]), [q(0), q(1)]);
  t.same(m.tryLock('G', 'c1', [q(0), q(1)]), [q(0), q(1)], 'renewals are not new locks');
  m.unlock('G', 'c1', [q(0)]);
  t.same(m.tryLock('G', 'c1', [q(2)]), [q(2)], 'unlocking frees room');
});
