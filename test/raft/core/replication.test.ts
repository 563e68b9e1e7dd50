// Replication: positions identical on every replica, conflicting logs repaired with the fast
// back-up, the commit rule for entries of earlier terms, pipelining limits.
import t from 'tap';
import type { AppendRequest, PendingEntry, RaftMessage } from '../../../raft/core/index.js';
import { MemoryLog } from '../helpers/MemoryLog.js';
import { TestCluster, body, handleReady, newNode, text } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];

function logOfTerms(terms: number[], _tag: string): MemoryLog {
  const log = new MemoryLog();
  // bodies depend on (index, term), so equal (index, term) pairs hold equal entries, as Raft requires
  log.append(terms.map((term, index): PendingEntry => ({ index, term, magic: 1, body: body(`e${index}t${term}`) })));
  return log;
}

t.test('proposals commit on every node at the same index, term and position', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  const r = leader.core.propose([{ magic: 1, body: body('hello') }, { magic: 1, body: body('world!') }]);
  t.same(r, { ok: true, term: 1, firstIndex: 1, lastIndex: 2 });
  c.settle();
  t.equal(leader.core.commitIndex, 2);
  c.tickAll(1);
  for (const n of c.nodes.values()) {
    t.same(n.applied.map((e) => [e.index, e.pos, text(e.body)]), [[0, 0, ''], [1, 48, 'hello'], [2, 101, 'world!']], `${n.id} applied the same entries at the same positions`);
  }
  t.same(c.node('n1').core.propose([{ magic: 1, body: body('x') }]), { ok: false, reason: 'NOT_LEADER', leaderId: 'n0' });
});

t.test('a follower with a divergent log is repaired in a few round trips by the conflicting-term back-up', async (t) => {
  // Raft paper figure 7, leader (term 8) vs follower (f): the follower holds 11 entries of terms 2 and 3.
  const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followerTerms = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3];
  const c = new TestCluster([]);
  const mk = (id: string, terms: number[]) =>
    c.nodes.set(id, newNode(id, IDS, id.charCodeAt(1), { hardState: { term: 7, votedFor: null } }, logOfTerms(terms, id)));
  mk('n0', leaderTerms);
  mk('n1', followerTerms);
  mk('n2', leaderTerms);
  c.elect('n0');
  c.settle();
  const n0 = c.node('n0').log.list;
  const n1 = c.node('n1').log.list;
  t.same(n1.map((e) => [e.index, e.term, e.pos, text(e.body)]), n0.map((e) => [e.index, e.term, e.pos, text(e.body)]), 'the follower log equals the leader log');
  const rejections = c.delivered.filter((m) => m.type === 'appendResponse' && m.from === 'n1' && !m.success);
  t.ok(rejections.length <= 3, `${rejections.length} rejections (one index per round trip would take 8)`);
  t.ok(rejections.some((m) => m.type === 'appendResponse' && m.conflictTerm === 3 && m.conflictIndex === 6), 'the follower names its conflicting term and where it starts');
  t.equal(c.node('n0').core.commitIndex, 10, 'the no-op of term 8 commits everything before it');
});

t.test('an entry of an earlier term is not committed by counting replicas, only under a current-term entry', async (t) => {
  // n0 holds [t1, t2] with index 1 never committed; n1 holds [t1]. n0 is elected at term 3.
  const c = new TestCluster([]);
  const opts = { hardState: { term: 2, votedFor: null }, maxEntriesPerAppend: 1 };
  c.nodes.set('n0', newNode('n0', IDS, 1, opts, logOfTerms([1, 2], 'x')));
  c.nodes.set('n1', newNode('n1', IDS, 2, opts, logOfTerms([1], 'x')));
  c.nodes.set('n2', newNode('n2', IDS, 3, opts, logOfTerms([1], 'x')));
  // the leader hears of index 1 on the followers, never of the no-op (index 2) after it
  c.filter = (m) => !(m.type === 'appendResponse' && m.success && m.index >= 2);
  const leader = c.elect('n0');
  t.equal(leader.core.term, 3);
  c.tickAll(3);
  const acked = (id: string) => c.delivered.some((m) => m.type === 'appendResponse' && m.from === id && m.success && m.index === 1);
  t.ok(acked('n1'), 'n1 acknowledged index 1 (term 2): a quorum holds it');
  t.ok(acked('n2'), 'and n2');
  t.equal(leader.core.commitIndex, -1, 'yet it is not committed: its term is not the leader\'s');
  c.heal();
  c.tickAll(2);
  t.equal(leader.core.commitIndex, 2, 'the no-op of term 3 commits it');
  t.same(c.node('n1').applied.map((e) => e.index), [0, 1, 2]);
});

t.test('appends are bounded by entries and bytes per message and by messages in flight per follower', async (t) => {
  const c = new TestCluster(IDS, { maxEntriesPerAppend: 4, maxBytesPerAppend: 1000, maxInflightAppends: 3 });
  const leader = c.elect('n0');
  // the followers' answers are lost: the pipeline must stop at the in-flight limit
  c.filter = (m) => m.type !== 'appendResponse';
  for (let i = 0; i < 40; i++) leader.core.propose([{ magic: 1, body: new Uint8Array(200) }]);
  c.delivered = [];
  c.settle();
  const sent = c.delivered.filter((m): m is AppendRequest => m.type === 'append' && m.to === 'n1');
  t.equal(sent.length, 3, 'three appends in flight, then the follower is paused');
  for (const m of sent) {
    t.ok(m.entries.length <= 4, 'at most 4 entries');
    t.ok(m.entries.reduce((s, e) => s + 48 + e.body.byteLength, 0) <= 1000, 'at most 1000 bytes');
  }
  c.heal();
  c.tickAll(5);
  t.equal(c.node('n1').log.lastIndex, 40, 'all delivered once answers flow again');
  t.equal(leader.core.commitIndex, 40);
});

t.test('a follower that missed appends in the pipeline is found by the heartbeat and caught up', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  c.tickAll(1);
  let dropped = 0;
  c.filter = (m) => {
    if (dropped === 0 && m.type === 'append' && m.to === 'n2' && m.entries.length > 0) {
      dropped++;
      return false;
    }
    return true;
  };
  leader.core.propose([{ magic: 1, body: body('a') }]);
  c.settle();
  t.equal(dropped, 1, 'the append to n2 was dropped');
  t.equal(c.node('n2').log.lastIndex, 0, 'n2 lacks it and nothing else is coming');
  c.tickAll(3);
  t.same(c.node('n2').log.list.map((e) => text(e.body)), ['', 'a']);
  // a later gap is seen at once: n2 rejects, the leader probes back and resends
  c.filter = (m) => !(m.type === 'append' && m.to === 'n2' && m.entries.some((e) => e.index === 2) && dropped++ < 2);
  leader.core.propose([{ magic: 1, body: body('b') }]);
  c.settle();
  leader.core.propose([{ magic: 1, body: body('c') }]);
  c.settle();
  t.same(c.node('n2').log.list.map((e) => text(e.body)), ['', 'a', 'b', 'c']);
});

t.test('follower commit never passes what it holds; a restarted node keeps its applied index', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  leader.core.propose([{ magic: 1, body: body('a') }]);
  c.settle();
  c.tickAll(1);
  const n1 = c.node('n1');
  t.equal(n1.core.commitIndex, 1);
  const restarted = newNode('n1', IDS, 9, { hardState: n1.hard, applied: 1 }, n1.log);
  t.equal(restarted.core.commitIndex, 1);
  t.equal(restarted.core.role, 'follower');
  t.equal(restarted.core.term, 1);
  t.notOk(restarted.core.hasReady(), 'nothing to apply again');
});

t.test('a heartbeat answer naming a shorter log sends the leader back to probing; one without lastIndex changes nothing', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  for (let i = 0; i < 4; i++) leader.core.propose([{ magic: 1, body: body(`h${i}`) }]);
  c.settle();
  c.tickAll(1);
  t.equal(leader.core.progressOf('n1')!.match, 4);
  // an older sender (no lastIndex): nothing to learn
  leader.core.step({ type: 'heartbeatResponse', from: 'n1', to: 'n0', term: 1 });
  t.equal(leader.core.progressOf('n1')!.match, 4);
  t.equal(leader.core.progressOf('n1')!.state, 'replicate');
  // a late answer from before n1 acknowledged 2..4 looks like lost entries: one probe sorts it out
  c.delivered = [];
  leader.core.step({ type: 'heartbeatResponse', from: 'n1', to: 'n0', term: 1, lastIndex: 1 });
  t.equal(leader.core.progressOf('n1')!.state, 'probe');
  c.settle();
  t.equal(leader.core.progressOf('n1')!.match, 4, 'n1 answered the probe with everything it holds');
  t.equal(leader.core.progressOf('n1')!.state, 'replicate');
  t.ok(c.delivered.filter((m) => m.to === 'n1').length <= 2, 'at the cost of one round trip');
  t.equal(leader.core.commitIndex, 4, 'the commit index never moved back');
});

/** The follower an append is for steps it and handles its Ready: its append responses. */
function answer(c: TestCluster, m: AppendRequest): RaftMessage[] {
  const f = c.node(m.to);
  f.core.step(m);
  return handleReady(f).messages.filter((a) => a.type === 'appendResponse');
}

t.test('a leader sends new entries in the Ready that persists them, and counts itself only after advance', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  c.tickAll(1);
  const before = leader.core.commitIndex;
  leader.core.propose([{ magic: 1, body: body('early') }]);
  const rd = leader.core.ready();
  t.equal(rd.entries.length, 1, 'the Ready persists the proposal');
  const appends = rd.messages.filter((m): m is AppendRequest => m.type === 'append');
  t.same(appends.map((m) => m.to).sort(), ['n1', 'n2'], 'and carries an append to each follower');
  for (const m of appends) t.equal(m.entries[0], rd.entries[0], `the append to ${m.to} shares the pending entry object (its log fills in pos)`);
  // the leader's log places the entry; the append to n1 is delivered before the leader's write
  leader.log.persist(rd);
  t.equal(appends[0]!.entries[0]!.pos, rd.entries[0]!.pos, 'the shared entry carries its position');
  for (const a of answer(c, appends.find((m) => m.to === 'n1')!)) leader.core.step(a);
  t.equal(leader.core.commitIndex, before, 'one follower and a leader whose write is not done are not a quorum');
  leader.core.advance(rd);
  t.equal(leader.core.commitIndex, before + 1, 'once the write is done they are');
});

t.test('two followers commit an entry whose leader write is still running', async (t) => {
  const c = new TestCluster(IDS);
  const leader = c.elect('n0');
  c.tickAll(1);
  const before = leader.core.commitIndex;
  leader.core.propose([{ magic: 1, body: body('x') }]);
  const rd = leader.core.ready();
  leader.log.persist(rd);
  for (const m of rd.messages) if (m.type === 'append') for (const a of answer(c, m)) leader.core.step(a);
  t.equal(leader.core.commitIndex, before + 1, 'a quorum of followers holds it');
  leader.core.advance(rd);
  const next = leader.core.ready();
  t.same(next.committed.map((e) => text(e.body)), ['x'], 'applied only after the leader\'s own write');
  leader.core.advance(next);
});
