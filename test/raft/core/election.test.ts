// Elections: who wins, what is persisted before a vote leaves, and how pre-vote and check-quorum
// keep an isolated node from disrupting a healthy leader.
import t from 'tap';
import { NOOP_MAGIC, RaftConfigError, validateMembership } from '../../../raft/core/index.js';
import { EntryMagic } from '../../../storage/log/entryCodec.js';
import { MemoryLog } from '../helpers/MemoryLog.js';
import { TestCluster, body, handleReady, newNode } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];

t.test('a campaign wins with a quorum and the new leader appends a committed no-op', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  t.equal(leader.core.term, 1);
  for (const id of ['n1', 'n2']) {
    t.equal(c.node(id).core.role, 'follower', `${id} follows`);
    t.equal(c.node(id).core.leaderId, 'n0');
    t.equal(c.node(id).hard.term, 1, `${id} persisted the term`);
  }
  const noop = leader.log.list[0]!;
  t.equal(noop.magic, NOOP_MAGIC);
  t.equal(NOOP_MAGIC, EntryMagic.NOOP, 'the core no-op kind is the storage NOOP magic');
  t.equal(noop.term, 1);
  c.tickAll(1); // heartbeat carries the commit index to the followers
  for (const n of c.nodes.values()) t.same(n.applied.map((e) => [e.index, e.term, e.magic]), [[0, 1, NOOP_MAGIC]], `${n.id} applied the no-op`);
});

t.test('ticks alone elect exactly one leader', async (t) => {
  const c = new TestCluster(['n0', 'n1', 'n2', 'n3', 'n4']);
  for (let i = 0; i < 50 && c.leaders().length === 0; i++) c.tickAll();
  t.equal(c.leaders().length, 1);
  const term = c.leaders()[0]!.core.term;
  for (const n of c.nodes.values()) t.equal(n.core.term, term, `${n.id} is at the leader's term`);
});

t.test('the vote is in the same Ready as the vote response, so it is persisted before it is sent', async (t) => {
  const n1 = newNode('n1', IDS);
  n1.core.step({ type: 'vote', from: 'n0', to: 'n1', term: 1, pre: false, lastIndex: -1, lastTerm: -1 });
  const rd = n1.core.ready();
  t.same(rd.hardState, { term: 1, votedFor: 'n0' });
  t.same(rd.messages.map((m) => m.type === 'voteResponse' && m.granted), [true]);
  n1.core.advance(rd);
  // a second candidate in the same term is refused, also after a restart from the persisted record
  n1.core.step({ type: 'vote', from: 'n2', to: 'n1', term: 1, pre: false, lastIndex: 5, lastTerm: 1 });
  t.same(handleReady(n1).messages.map((m) => m.type === 'voteResponse' && m.granted), [false]);
  const again = newNode('n1', IDS, 2, { hardState: { term: 1, votedFor: 'n0' } });
  again.core.step({ type: 'vote', from: 'n2', to: 'n1', term: 1, pre: false, lastIndex: 5, lastTerm: 1 });
  const rd2 = again.core.ready();
  t.equal(rd2.hardState, undefined, 'nothing new to persist');
  t.same(rd2.messages.map((m) => m.type === 'voteResponse' && m.granted), [false]);
});

t.test('a voter refuses a candidate whose log is behind', async (t) => {
  const log = new MemoryLog();
  log.append([{ index: 0, term: 1, magic: 1, body: body('a') }, { index: 1, term: 2, magic: 1, body: body('b') }]);
  const n1 = newNode('n1', IDS, 1, { hardState: { term: 2, votedFor: null } }, log);
  const ask = (lastIndex: number, lastTerm: number) => {
    n1.core.step({ type: 'vote', from: 'n0', to: 'n1', term: 3, pre: false, lastIndex, lastTerm });
    return handleReady(n1).messages.some((m) => m.type === 'voteResponse' && m.granted);
  };
  t.notOk(ask(5, 1), 'lower last term, longer log');
  t.notOk(ask(0, 2), 'same last term, shorter log');
  t.ok(ask(1, 2), 'same log');
});

t.test('pre-vote: an isolated node does not raise its term, and on return does not disrupt the leader', async (t) => {
  const c = new TestCluster(IDS);
  c.elect('n0');
  c.isolate(['n0', 'n1'], ['n2']);
  for (let i = 0; i < 100; i++) c.tickAll();
  t.equal(c.node('n2').core.term, 1, 'pre-votes failed, so the term stayed');
  t.equal(c.node('n0').core.role, 'leader');
  c.heal();
  c.delivered = [];
  c.node('n2').core.campaign();
  c.settle();
  const refusals = c.delivered.filter((m) => m.type === 'voteResponse' && m.pre && !m.granted && m.to === 'n2');
  t.ok(refusals.some((m) => m.from === 'n1'), 'the follower that hears the leader refuses the pre-vote');
  t.equal(c.node('n0').core.role, 'leader', 'the leader stays');
  t.equal(c.node('n0').core.term, 1, 'no term change');
  c.tickAll(2);
  t.equal(c.node('n2').core.leaderId, 'n0', 'the returning node follows the leader');
});

t.test('a follower in lease ignores a higher-term vote request (even without pre-vote)', async (t) => {
  const c = new TestCluster(IDS, { preVote: false });
  c.elect('n0');
  c.node('n1').core.step({ type: 'vote', from: 'n2', to: 'n1', term: 5, pre: false, lastIndex: 100, lastTerm: 4 });
  t.equal(c.node('n1').core.term, 1);
  t.equal(c.node('n1').core.leaderId, 'n0');
});

t.test('check-quorum: a leader cut off from the quorum steps down within two election timeouts', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  c.isolate(['n0'], ['n1', 'n2']);
  let ticks = 0;
  while (leader.core.role === 'leader' && ticks < 100) {
    leader.core.tick();
    c.settle();
    ticks++;
  }
  t.equal(leader.core.role, 'follower');
  t.ok(ticks <= 2 * leader.core.limits.electionTicks, `stepped down after ${ticks} ticks`);
  t.equal(leader.core.term, 1, 'stepping down does not change the term');
  t.same(leader.core.propose([{ magic: 1, body: body('x') }]), { ok: false, reason: 'NOT_LEADER', leaderId: null });
});

t.test('a follower that answers every heartbeat stays in touch across check-quorum rounds; a silent one drops out within two', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  const rounds = 3 * leader.core.limits.electionTicks;
  // Each round closes by clearing recentActive; the view the status page and retention read must
  // not flicker to "out of touch" between the close and the next heartbeat reply.
  for (let i = 0; i < rounds; i++) {
    leader.core.tick();
    t.ok(leader.core.progressOf('n1')!.inTouch, `tick ${i}: n1 in touch (immediately after the tick)`);
    c.settle();
  }
  c.isolate(['n0', 'n1'], ['n2']);
  let ticks = 0;
  while (leader.core.progressOf('n2')!.inTouch && ticks < 100) {
    leader.core.tick();
    c.settle();
    ticks++;
  }
  t.ok(!leader.core.progressOf('n2')!.inTouch, 'the cut-off n2 is out of touch');
  t.ok(ticks <= 2 * leader.core.limits.electionTicks, `after ${ticks} ticks`);
  t.ok(leader.core.progressOf('n1')!.inTouch, 'n1 still in touch');
  t.equal(leader.core.role, 'leader');
});

t.test('a stale leader steps down when a node at a higher term answers it', async (t) => {
  const c = new TestCluster(IDS);
  const old = c.elect('n0');
  c.isolate(['n0'], ['n1', 'n2']);
  // the followers' lease on n0 must run out before they elect anyone
  for (let i = 0; i < 100 && c.node('n1').core.role !== 'leader' && c.node('n2').core.role !== 'leader'; i++) {
    c.node('n1').core.tick();
    c.node('n2').core.tick();
    c.settle();
  }
  t.equal(c.leaders().filter((n) => n.id !== 'n0').length, 1, 'the majority side elected a leader');
  const newTerm = c.node('n1').core.term;
  t.ok(newTerm > 1);
  c.heal();
  old.core.tick(); // heartbeat at term 1
  c.settle();
  t.equal(old.core.role, 'follower');
  t.equal(old.core.term, newTerm);
});

t.test('membership is validated like dLegerPeers', async (t) => {
  t.doesNotThrow(() => validateMembership('n1', ['n0', 'n1', 'n2']));
  t.throws(() => validateMembership('n3', ['n0', 'n1', 'n2']), RaftConfigError);
  t.throws(() => validateMembership('n0', ['n0', 'n0']), RaftConfigError);
  t.throws(() => validateMembership('x', ['x']), RaftConfigError);
  t.throws(() => validateMembership('n0', []), RaftConfigError);
  t.throws(() => newNode('n0', IDS, 1, { heartbeatTicks: 10, electionTicks: 10 }), RaftConfigError);
});

t.test('a single-node group elects itself and commits alone', async (t) => {
  const n = newNode('n0', ['n0']);
  n.core.campaign();
  t.equal(n.core.role, 'leader');
  handleReady(n);
  const r = n.core.propose([{ magic: 1, body: body('solo') }]);
  t.ok(r.ok);
  while (n.core.hasReady()) handleReady(n);
  t.same(n.applied.map((e) => e.index), [0, 1]);
});
