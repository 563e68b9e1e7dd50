// Leadership transfer and preferred leaders: writes pause (bounded), the target is caught up,
// then a TimeoutNow makes it campaign without pre-vote, past the voters' lease.
import t from 'tap';
import type { RaftMessage, VoteRequest } from '../../../raft/core/index.js';
import { TestCluster, body } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];
const prop = (s: string) => [{ magic: 1, body: body(s) }];

t.test('a transfer hands over to a caught-up follower; proposals meanwhile are refused with LEADER_TRANSFERRING', async (t) => {
  const c = new TestCluster(IDS);
  const n0 = c.elect('n0');
  n0.core.propose(prop('a'));
  c.settle();
  c.tickAll(1);
  c.delivered = [];
  t.same(n0.core.transferLeadership('n1'), { ok: true, transferee: 'n1' });
  t.equal(n0.core.transferee, 'n1');
  t.same(n0.core.propose(prop('b')), { ok: false, reason: 'LEADER_TRANSFERRING', transferee: 'n1' });
  t.same(n0.core.transferLeadership('n1'), { ok: true, transferee: 'n1' }, 'asking again for the same peer is fine');
  t.same(n0.core.transferLeadership('n2'), { ok: false, reason: 'TRANSFER_IN_PROGRESS', transferee: 'n1' });
  c.settle();
  t.equal(c.node('n1').core.role, 'leader', 'the target leads');
  t.equal(c.node('n1').core.term, 2, 'one term later: no pre-vote round, no extra term');
  t.equal(n0.core.role, 'follower');
  t.equal(n0.core.transferee, null);
  t.equal(n0.core.counters.transfersCompleted, 1);
  const kinds = c.delivered.map((m) => `${m.type}:${m.from}>${m.to}`);
  t.ok(kinds.includes('timeoutNow:n0>n1'), 'a TimeoutNow went to the target');
  const votes = c.delivered.filter((m): m is VoteRequest => m.type === 'vote');
  t.ok(votes.length > 0 && votes.every((m) => !m.pre && m.transfer === true), 'the campaign is a real vote marked as a transfer');
  t.ok(c.delivered.some((m) => m.type === 'voteResponse' && m.from === 'n2' && m.granted), 'n2 granted although it heard n0 moments ago');
  c.tickAll(2);
  t.ok(c.node('n1').core.propose(prop('c')).ok, 'the new leader takes writes');
  c.settle();
  c.tickAll(1);
  for (const n of c.nodes.values()) t.same(n.applied.map((e) => e.index), [0, 1, 2, 3], `${n.id} applied everything, no-ops included`);
});

t.test('a lagging target is brought up to date before it gets the TimeoutNow', async (t) => {
  const c = new TestCluster(IDS);
  const n0 = c.elect('n0');
  c.isolate(['n0', 'n1'], ['n2']);
  for (let i = 0; i < 5; i++) n0.core.propose(prop(`x${i}`));
  c.settle();
  t.equal(c.node('n2').log.lastIndex, 0, 'n2 missed five entries');
  c.heal();
  c.delivered = [];
  t.ok(n0.core.transferLeadership('n2').ok);
  c.settle();
  const order = c.delivered.filter((m) => m.to === 'n2' || m.from === 'n2').map((m) => m.type);
  const tn = order.indexOf('timeoutNow');
  t.ok(tn > order.indexOf('appendResponse'), `appends reach n2 before the TimeoutNow (${order.join(',')})`);
  t.equal(c.node('n2').core.role, 'leader');
  t.ok(c.node('n2').log.lastIndex >= 5);
});

t.test('a transfer that cannot finish is aborted after transferTimeoutTicks and writes resume', async (t) => {
  const c = new TestCluster(IDS, { transferTimeoutTicks: 5 });
  const n0 = c.elect('n0');
  c.tickAll(1);
  c.isolate(['n0', 'n1'], ['n2']);
  t.ok(n0.core.transferLeadership('n2').ok);
  let paused = 0;
  while (!n0.core.propose(prop('w')).ok && paused < 100) {
    paused++;
    n0.core.tick();
    c.settle();
  }
  t.equal(paused, 5, 'writes paused for exactly transferTimeoutTicks ticks');
  t.equal(n0.core.role, 'leader');
  t.equal(n0.core.transferee, null);
  t.equal(n0.core.counters.transfersAborted, 1);
});

t.test('transfer refusals say why', async (t) => {
  const c = new TestCluster(IDS, { maxTransferLagEntries: 2 });
  const n0 = c.elect('n0');
  c.tickAll(1);
  t.same(c.node('n1').core.transferLeadership('n2'), { ok: false, reason: 'NOT_LEADER', leaderId: 'n0' });
  t.same(n0.core.transferLeadership('n0'), { ok: false, reason: 'SELF', peer: 'n0' });
  t.same(n0.core.transferLeadership('n7'), { ok: false, reason: 'UNKNOWN_PEER', peer: 'n7' });
  c.isolate(['n0', 'n1'], ['n2']);
  for (let i = 0; i < 3; i++) n0.core.propose(prop(`y${i}`));
  c.settle();
  t.same(n0.core.transferLeadership('n2'), { ok: false, reason: 'TARGET_TOO_FAR_BEHIND', peer: 'n2', lag: 3, limit: 2 });
  t.ok(n0.core.propose(prop('z')).ok, 'a refused transfer does not pause writes');
});

t.test('a TimeoutNow of an earlier term is ignored', async (t) => {
  const c = new TestCluster(IDS);
  c.elect('n0');
  c.tickAll(1);
  const n2 = c.node('n2');
  const stale: RaftMessage = { type: 'timeoutNow', from: 'n1', to: 'n2', term: 0 };
  n2.core.step(stale);
  t.equal(n2.core.role, 'follower');
  t.equal(n2.core.term, 1);
});

t.test('preferredLeaderIds: a leader that is not preferred hands over to a caught-up preferred peer, which keeps it', async (t) => {
  const c = new TestCluster(IDS, { preferredLeaderIds: ['n2'], preferredLeaderCheckTicks: 4 });
  const n0 = c.elect('n0');
  n0.core.propose(prop('a'));
  c.settle();
  let ticks = 0;
  while (c.node('n2').core.role !== 'leader' && ticks < 50) {
    c.tickAll(1);
    ticks++;
  }
  t.equal(c.node('n2').core.role, 'leader', `n2 leads after ${ticks} ticks`);
  t.ok(ticks <= 8, 'within two check periods');
  t.equal(n0.core.counters.preferredTransfers, 1);
  c.tickAll(40);
  t.equal(c.node('n2').core.role, 'leader', 'a preferred leader stays');
  t.equal(c.node('n2').core.counters.transfersStarted, 0);
});

t.test('preferredLeaderIds: an unreachable or lagging preferred peer is not chosen, and writes never pause', async (t) => {
  const c = new TestCluster(IDS, { preferredLeaderIds: ['n2', 'n1'], preferredLeaderCheckTicks: 3, maxTransferLagEntries: 3 });
  // n0 is not preferred; n2 is cut off and n1 lags (its appends are lost)
  const n0 = c.elect('n0');
  c.tickAll(1);
  c.filter = (m) => m.from !== 'n2' && m.to !== 'n2' && !(m.type === 'append' && m.to === 'n1' && m.entries.length > 0);
  for (let i = 0; i < 6; i++) t.ok(n0.core.propose(prop(`p${i}`)).ok);
  c.settle();
  for (let i = 0; i < 30; i++) {
    n0.core.tick();
    c.node('n1').core.tick();
    c.settle();
    t.equal(n0.core.transferee, null);
  }
  t.equal(n0.core.counters.transfersStarted, 0, 'no transfer was started');
  t.equal(n0.core.role, 'leader');
});

t.test('among preferred peers the least lagging is chosen', async (t) => {
  const c = new TestCluster(['n0', 'n1', 'n2', 'n3', 'n4'], { preferredLeaderIds: ['n3', 'n4'], preferredLeaderCheckTicks: 2 });
  const n0 = c.elect('n0');
  c.tickAll(1);
  // n3's appends are held back, so n4 is ahead of it
  c.filter = (m) => !(m.type === 'append' && m.to === 'n3' && m.entries.length > 0);
  n0.core.propose(prop('a'));
  c.settle();
  n0.core.tick(); // the second tick of its term: time to check
  c.settle();
  t.equal(n0.core.counters.preferredTransfers, 1);
  t.equal(c.node('n4').core.role, 'leader', 'n4, caught up, took over; n3 lagged');
});

t.test('a preferred peer that cannot take over costs a shrinking share of write time (the check backs off)', async (t) => {
  const c = new TestCluster(IDS, { preferredLeaderIds: ['n2'], preferredLeaderCheckTicks: 4, transferTimeoutTicks: 10 });
  const n0 = c.elect('n0');
  c.filter = (m) => m.type !== 'timeoutNow'; // n2 looks healthy but never gets the hand-over
  let refused = 0;
  const ticks = 600;
  for (let i = 0; i < ticks; i++) {
    if (!n0.core.propose(prop(`q${i}`)).ok) refused++;
    c.tickAll(1);
  }
  t.equal(n0.core.role, 'leader');
  t.ok(n0.core.counters.transfersAborted >= 3, `${n0.core.counters.transfersAborted} attempts`);
  t.ok(refused / ticks < 0.2, `writes refused in ${refused} of ${ticks} ticks`);
  t.ok(n0.core.commitIndex > ticks * 0.8, 'and the group kept committing');
});

t.test('announcePreferredTransfer: the leader names the preferred peer one check ahead, writes go on; the application or the next check starts the hand-over', async (t) => {
  for (const who of ['application', 'core'] as const) {
    const c = new TestCluster(IDS, { preferredLeaderIds: ['n2'], preferredLeaderCheckTicks: 4, announcePreferredTransfer: true });
    const n0 = c.elect('n0');
    n0.core.propose(prop('a'));
    c.settle();
    let ticks = 0;
    while (n0.core.preferredTransferAnnounced === null && ticks < 20) {
      c.tickAll(1);
      ticks++;
    }
    t.equal(n0.core.preferredTransferAnnounced, 'n2', `${who}: n2 announced after ${ticks} ticks`);
    t.equal(n0.core.transferee, null, `${who}: no transfer yet`);
    t.ok(n0.core.propose(prop('written before the hand-over')).ok, `${who}: writes are taken while announced`);
    c.settle();
    t.equal(n0.core.commitIndex, n0.core.lastIndex, `${who}: the write committed before the hand-over`);
    if (who === 'application') {
      t.same(n0.core.transferLeadership('n2', true), { ok: true, transferee: 'n2' });
      t.equal(n0.core.preferredTransferAnnounced, null, 'the announcement ends when the transfer starts');
    }
    let more = 0;
    while (c.node('n2').core.role !== 'leader' && more < 20) {
      c.tickAll(1);
      more++;
    }
    t.equal(c.node('n2').core.role, 'leader', `${who}: n2 leads ${more} ticks later`);
    if (who === 'core') t.ok(more <= 5, 'the next check started it');
    t.equal(n0.core.counters.preferredTransfers, 1, `${who}: counted as a preferred hand-over`);
  }
});

t.test('announcePreferredTransfer: an announcement ends when the peer falls behind, or another transfer starts', async (t) => {
  const c = new TestCluster(IDS, { preferredLeaderIds: ['n2'], preferredLeaderCheckTicks: 4, announcePreferredTransfer: true, maxTransferLagEntries: 2 });
  const n0 = c.elect('n0');
  n0.core.propose(prop('a'));
  c.settle();
  const announce = (): number => {
    let ticks = 0;
    while (n0.core.preferredTransferAnnounced === null && ticks < 20) {
      c.tickAll(1);
      ticks++;
    }
    return ticks;
  };
  announce();
  t.equal(n0.core.preferredTransferAnnounced, 'n2');
  // n2 stops getting entries and falls more than 2 behind
  c.filter = (m) => !(m.type === 'append' && m.to === 'n2' && m.entries.length > 0);
  for (let i = 0; i < 5; i++) t.ok(n0.core.propose(prop(`lag${i}`)).ok);
  c.settle();
  for (let i = 0; i < 4; i++) c.tickAll(1);
  t.equal(n0.core.preferredTransferAnnounced, null, 'n2 lags: no longer announced');
  t.equal(n0.core.transferee, null, 'and no transfer started');
  t.equal(n0.core.counters.transfersStarted, 0);

  c.filter = () => true;
  for (let i = 0; i < 12 && n0.core.preferredTransferAnnounced === null; i++) c.tickAll(1);
  t.equal(n0.core.preferredTransferAnnounced, 'n2', 'caught up again: announced again');
  t.same(n0.core.transferLeadership('n1'), { ok: true, transferee: 'n1' }, 'an operator transfer to another peer');
  t.equal(n0.core.preferredTransferAnnounced, null, 'ends the announcement');
});
