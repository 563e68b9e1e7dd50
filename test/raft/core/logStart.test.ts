// A log whose prefix retention dropped: the core never reads below the first index, and a
// follower that needs entries the leader no longer has is named in Ready.behindLogStart
// (catch-up by segment copy happens outside the core).
import t from 'tap';
import { RaftCore, SeededRandom, type Ready } from '../../../raft/core/index.js';
import { MemoryLog } from '../helpers/MemoryLog.js';
import { TestCluster, body, handleReady, newNode, type TestNode } from '../helpers/TestCluster.js';

const IDS = ['n0', 'n1', 'n2'];

/** A settled 3-node group with n2 cut off while n0 commits `count` entries and drops its prefix before `dropBefore`. */
function groupWithDroppedPrefix(count: number, dropBefore: number): { c: TestCluster; n0: TestNode; readies: Ready[] } {
  const c = new TestCluster(IDS);
  const n0 = c.elect('n0');
  c.tickAll(1);
  c.isolate(['n0', 'n1'], ['n2']);
  for (let i = 0; i < count; i++) n0.core.propose([{ magic: 1, body: body(`e${i}`) }]);
  c.settle();
  c.node('n0').core.tick();
  c.settle();
  n0.log.dropPrefix(dropBefore);
  c.node('n1').log.dropPrefix(dropBefore);
  const readies: Ready[] = [];
  return { c, n0, readies };
}

/** Runs ticks, recording the Readies of n0. */
function tickRecording(c: TestCluster, ticks: number, readies: Ready[]): void {
  for (let i = 0; i < ticks; i++) {
    for (const n of c.nodes.values()) n.core.tick();
    for (let round = 0; round < 100; round++) {
      const msgs = [];
      for (const n of c.nodes.values()) {
        while (n.core.hasReady()) {
          const r = handleReady(n);
          if (n.id === 'n0') readies.push(r.rd);
          msgs.push(...r.messages);
        }
      }
      if (msgs.length === 0) break;
      for (const m of msgs) if (c.filter(m)) c.node(m.to).core.step(m);
    }
  }
}

t.test('a follower that needs entries before the leader log start is reported in Ready.behindLogStart', async (t) => {
  const { c, n0, readies } = groupWithDroppedPrefix(10, 6);
  t.equal(n0.log.firstIndex, 6);
  t.equal(n0.core.firstIndex, 6);
  c.heal();
  tickRecording(c, 6, readies);
  const reports = readies.filter((r) => r.behindLogStart !== undefined);
  t.ok(reports.length >= 1, 'reported');
  t.ok(reports.every((r) => r.behindLogStart!.length === 1 && r.behindLogStart![0] === 'n2'), 'only n2');
  t.ok(reports.length <= 6, `about once per heartbeat, not in a loop (${reports.length} in 6 ticks)`);
  t.equal(c.node('n2').log.lastIndex, 0, 'nothing could be sent');
  t.ok(n0.core.propose([{ magic: 1, body: body('more') }]).ok, 'the leader keeps working');
  tickRecording(c, 2, readies);
  t.equal(c.node('n1').log.lastIndex, n0.log.lastIndex, 'n1, within the retained range, keeps replicating');

  // the caller copies n0's log (segment copy) to n2 and restarts n2's core on it
  const n2 = c.node('n2');
  const copy = MemoryLog.copyOf(n0.log, n0.log.firstIndex, n0.core.commitIndex);
  const restarted: TestNode = { id: 'n2', log: copy, hard: n2.hard, applied: n2.applied, core: new RaftCore({ id: 'n2', peers: IDS, log: copy, random: new SeededRandom(5), hardState: n2.hard, applied: 0 }) };
  t.equal(restarted.core.appliedIndex, copy.firstIndex - 1, 'entries before the copied log count as applied');
  c.nodes.set('n2', restarted);
  tickRecording(c, 1, readies);
  readies.length = 0;
  tickRecording(c, 3, readies);
  t.equal(restarted.log.lastIndex, n0.log.lastIndex, 'n2 caught up from the copied log start');
  t.equal(restarted.core.commitIndex, n0.core.commitIndex);
  t.notOk(readies.some((r) => r.behindLogStart !== undefined), 'no longer reported');
  t.same(restarted.applied.slice(-2).map((e) => e.index), [n0.log.lastIndex - 1, n0.log.lastIndex], 'applies from there on');
});

t.test('a node restarted on a log with a dropped prefix campaigns, leads and replicates', async (t) => {
  const { c, n0 } = groupWithDroppedPrefix(8, 5);
  // restart n0 and n1 on their trimmed logs; n2 stays cut off
  for (const id of ['n0', 'n1']) {
    const n = c.node(id);
    c.nodes.set(id, newNode(id, IDS, 40 + id.length, { hardState: n.hard, applied: n.applied.length - 1 }, n.log));
  }
  const n1 = c.elect('n1');
  t.equal(n1.core.firstIndex, 5);
  t.ok(n1.core.propose([{ magic: 1, body: body('after') }]).ok);
  c.settle();
  c.tickAll(1);
  t.equal(c.node('n0').log.lastIndex, n1.log.lastIndex);
  t.equal(n1.core.commitIndex, n1.log.lastIndex);
  t.equal(n0.log.firstIndex, 5);
});

t.test('an empty log that starts after 0 reports its last index as firstIndex - 1', async (t) => {
  const log = new MemoryLog();
  log.append([0, 1, 2].map((index) => ({ index, term: 1, magic: 1, body: body(`x${index}`) })));
  log.dropPrefix(2);
  t.equal(log.firstIndex, 2);
  t.equal(log.lastIndex, 2, 'the last entry is never dropped');
  const n = newNode('n0', ['n0'], 1, { hardState: { term: 1, votedFor: 'n0' } }, log);
  t.equal(n.core.appliedIndex, 1);
  t.equal(n.core.commitIndex, 1);
  n.core.campaign();
  while (n.core.hasReady()) handleReady(n);
  t.equal(n.core.commitIndex, 3, 'a single node commits its no-op after the kept entry');
  t.same(n.applied.map((e) => e.index), [2, 3]);
});
