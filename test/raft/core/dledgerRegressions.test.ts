// DLedger's bug reports (spec/dledger.md 4.3) replayed against our core, one named test each.
import t from 'tap';
import type { AppendRequest, RaftEntry, RaftMessage } from '../../../raft/core/index.js';
import { MemoryLog } from '../helpers/MemoryLog.js';
import { TestCluster, body, handleReady, newNode, text } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];
const prop = (s: string) => [{ magic: 1, body: body(s) }];
const sameEntries = (a: readonly RaftEntry[], b: readonly RaftEntry[]) =>
  a.length === b.length && a.every((e, i) => e.index === b[i]!.index && e.term === b[i]!.term && e.pos === b[i]!.pos && text(e.body) === text(b[i]!.body));

/** Restarts every node from what it persisted (a full-group restart): log, term and vote, applied index. */
function restartAll(c: TestCluster, seedBase: number, extra = {}): void {
  for (const [id, n] of [...c.nodes]) {
    const fresh = newNode(id, IDS, seedBase + Number(id.slice(1)), { hardState: n.hard, applied: n.applied.length - 1, ...extra }, n.log);
    fresh.applied.push(...n.applied);
    c.nodes.set(id, fresh);
  }
}

for (const preVote of [true, false]) {
  t.test(`after a full restart a lagging node is not elected and never truncates committed entries (rocketmq #2178, preVote ${preVote})`, async (t) => {
    const c = new TestCluster(IDS, { preVote });
    const n0 = c.elect('n0');
    c.isolate(['n0', 'n1'], ['n2']);
    for (let i = 0; i < 5; i++) n0.core.propose(prop(`m${i}`));
    c.settle();
    t.equal(n0.core.commitIndex, 5, 'committed on n0 and n1 while n2 was away');
    const committed = n0.log.list.slice(0, 6);
    restartAll(c, 100, { preVote });
    c.heal();
    // the lagging node is the first to time out and campaign
    c.node('n2').core.campaign();
    c.settle();
    t.not(c.node('n2').core.role, 'leader', 'n2 was refused');
    let ticks = 0;
    while (c.leaders().length === 0 && ticks < 200) {
      c.tickAll(1);
      ticks++;
      t.not(c.node('n2').core.role, 'leader');
    }
    const leader = c.leaders()[0]!;
    t.ok(leader.id === 'n0' || leader.id === 'n1', `an up-to-date node leads (${leader.id})`);
    c.tickAll(3);
    for (const n of c.nodes.values()) t.ok(sameEntries(n.log.list.slice(0, 6), committed), `${n.id} holds every committed entry`);
  });
}

t.test('the commit index never exceeds the last index (dledger #316)', async (t) => {
  // n1 holds 6 entries of term 1, committed up to 2; the new leader (term 3) holds 0..2 of term 1 and then its own.
  const log = new MemoryLog();
  log.append([0, 1, 2, 3, 4, 5].map((index) => ({ index, term: 1, magic: 1, body: body(`old${index}`) })));
  const n1 = newNode('n1', IDS, 1, { hardState: { term: 2, votedFor: null }, applied: 2 }, log);
  const check = (what: string) => t.ok(n1.core.commitIndex <= n1.core.lastIndex, `${what}: commit ${n1.core.commitIndex} <= last ${n1.core.lastIndex}`);
  const pos3 = log.list[3]!.pos;
  const send = (m: Omit<AppendRequest, 'type' | 'from' | 'to' | 'term'>) => {
    n1.core.step({ type: 'append', from: 'n0', to: 'n1', term: 3, ...m });
    handleReady(n1);
    check(`after append prev ${m.prevIndex}, ${m.entries.length} entries, commit ${m.commit}`);
  };
  // the leader's commit (4) is past where the follower's log will end after truncation (3 + the replacement)
  send({ prevIndex: 2, prevTerm: 1, entries: [{ index: 3, term: 3, magic: 2, pos: pos3, body: new Uint8Array(0) }], commit: 4 });
  t.equal(n1.core.lastIndex, 3, 'truncated after the conflict and appended the replacement');
  t.equal(n1.core.commitIndex, 3, 'commit capped at what matches the leader');
  n1.core.step({ type: 'heartbeat', from: 'n0', to: 'n1', term: 3, commit: 50 });
  handleReady(n1);
  check('after a heartbeat with a far commit');
  send({ prevIndex: 1, prevTerm: 1, entries: [], commit: 50 });
  t.equal(n1.core.commitIndex, 3, 'an old, short append does not move it either');
  // and a node restarted on its log: commit = applied <= last
  const again = newNode('n1', IDS, 2, { hardState: n1.hard, applied: 3 }, n1.log);
  t.ok(again.core.commitIndex <= again.core.lastIndex);
  t.throws(() => newNode('n1', IDS, 2, { hardState: n1.hard, applied: 9 }, n1.log), /applied 9 is past/);
});

t.test('a follower whose data was wiped catches up while the group is idle (dledger #61)', async (t) => {
  const c = new TestCluster(IDS);
  const n0 = c.elect('n0');
  for (let i = 0; i < 5; i++) n0.core.propose(prop(`w${i}`));
  c.settle();
  c.tickAll(2);
  t.equal(c.node('n2').log.lastIndex, 5);
  // n2 loses everything: empty log, no term, no vote; nobody proposes any more
  c.nodes.set('n2', newNode('n2', IDS, 77));
  c.tickAll(3);
  t.ok(sameEntries(c.node('n2').log.list, n0.log.list), 'n2 holds the whole log again, with no new write');
  t.same(c.node('n2').applied.map((e) => e.index), [0, 1, 2, 3, 4, 5], 'and applied it');
  t.equal(n0.core.role, 'leader', 'without disturbing the leader');
  t.equal(n0.core.term, 1);
});

t.test('a partly written batch that is sent again is accepted (dledger #142)', async (t) => {
  const n1 = newNode('n1', IDS, 1);
  const batch: RaftEntry[] = [];
  let pos = 0;
  for (let i = 0; i < 5; i++) {
    const b = body(`batch${i}`);
    batch.push({ index: i, term: 1, magic: 1, pos, body: b });
    pos += 48 + b.byteLength;
  }
  const append: RaftMessage = { type: 'append', from: 'n0', to: 'n1', term: 1, prevIndex: -1, prevTerm: -1, entries: batch, commit: -1 };
  n1.core.step(append);
  const rd = n1.core.ready();
  // the node crashes after writing the term and two of the five entries; nothing was sent
  n1.log.append(rd.entries.slice(0, 2));
  const restarted = newNode('n1', IDS, 2, { hardState: rd.hardState! }, n1.log);
  t.equal(restarted.core.lastIndex, 1);
  restarted.core.step(append); // the leader sends the whole batch again
  const { rd: rd2, messages } = handleReady(restarted);
  t.same(rd2.entries.map((e) => e.index), [2, 3, 4], 'only the missing tail is written');
  t.equal(rd2.truncateFrom, undefined, 'nothing is truncated');
  t.same(messages.map((m) => m.type === 'appendResponse' && [m.success, m.index]), [[true, 4]], 'accepted');
  t.ok(sameEntries(restarted.log.list, batch));
  // an older, overlapping batch arriving late is accepted as well (DLedger answered REPEATED_PUSH)
  restarted.core.step({ ...append, entries: batch.slice(0, 3) });
  t.same(handleReady(restarted).messages.map((m) => m.type === 'appendResponse' && [m.success, m.index]), [[true, 2]]);
  t.equal(restarted.core.lastIndex, 4, 'and leaves the longer log alone');
});

t.test('an asymmetric partition does not cause endless elections (dledger PR #25, #325)', async (t) => {
  for (const [blocked, what] of [['n0>n2', 'n2 cannot hear the leader'], ['n2>n0', 'the leader cannot hear n2']] as const) {
    const c = new TestCluster(IDS);
    const n0 = c.elect('n0');
    c.tickAll(1);
    c.filter = (m) => `${m.from}>${m.to}` !== blocked;
    let committed = n0.core.commitIndex;
    for (let i = 0; i < 100; i++) {
      if (i % 10 === 0) n0.core.propose(prop(`a${i}`));
      c.tickAll(1);
    }
    t.equal(n0.core.role, 'leader', `${what}: the leader stays`);
    t.equal(n0.core.term, 1, `${what}: no term was spent`);
    t.ok(n0.core.commitIndex >= committed + 10, `${what}: writes commit through the healthy majority`);
    committed = n0.core.commitIndex;
    c.heal();
    c.tickAll(3);
    t.equal(c.node('n2').log.lastIndex, n0.log.lastIndex, `${what}: n2 is in sync once healed`);
    t.equal(c.node('n2').core.leaderId, 'n0');
  }
});

t.test('a follower that times out and comes back is resynchronised instead of retried forever (dledger #331)', async (t) => {
  const c = new TestCluster(IDS, { maxInflightAppends: 4, maxEntriesPerAppend: 2 });
  const n0 = c.elect('n0');
  c.tickAll(1);
  c.isolate(['n0', 'n1'], ['n2']);
  for (let i = 0; i < 40; i++) {
    n0.core.propose(prop(`r${i}`));
    c.settle();
  }
  // n2 is away long enough to time out (its pre-votes go nowhere) while the leader's pipeline to it is full and lost
  for (let i = 0; i < 30; i++) c.tickAll(1);
  t.ok(n0.core.progressOf('n2')!.match < 5, 'n2 fell behind');
  c.heal();
  c.delivered = [];
  let ticks = 0;
  while (c.node('n2').log.lastIndex < n0.log.lastIndex && ticks < 20) {
    c.tickAll(1);
    ticks++;
  }
  t.equal(c.node('n2').log.lastIndex, n0.log.lastIndex, `n2 caught up in ${ticks} ticks`);
  t.ok(ticks <= 3, 'within a few heartbeats');
  t.ok(sameEntries(c.node('n2').log.list, n0.log.list));
  const toN2 = c.delivered.filter((m): m is AppendRequest => m.type === 'append' && m.to === 'n2');
  const seen = new Map<string, number>();
  for (const m of toN2) seen.set(`${m.prevIndex}:${m.entries.length}`, (seen.get(`${m.prevIndex}:${m.entries.length}`) ?? 0) + 1);
  t.ok(Math.max(...seen.values()) <= 2, 'no append was retried over and over');
  t.equal(n0.core.role, 'leader');
});
