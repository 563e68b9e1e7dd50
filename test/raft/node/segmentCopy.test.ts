// Segment copy end to end over the real transport: a follower that was away while the leader
// dropped the segments it needs gets the leader's log and snapshot, and goes on from there.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { InstalledCopy } from '../../../raft/node/SegmentCopy.js';
import { TestCluster, until, type TestNode } from './cluster.js';

const SEGMENT = 64 * 1024;
const body = (i: number): Buffer => Buffer.alloc(1000, `e${i}-`);

function entryKey(n: TestNode, i: number): string {
  const e = n.node.storage.entryAt(i);
  return `${e.index}/${e.term}/${e.pos}/${e.magic}/${e.body.toString('hex')}`;
}

// The main-thread writer (ASYNC_FLUSH) syncs the newest files from a timer; a sync that ran while
// the copy was being swapped in found no index folder and stopped the node (the e2e segmentCopy
// test's rare stall). With a 1 ms period the swap always meets one.
const writers = [
  { name: 'writer thread', opts: {} },
  { name: 'main-thread writer, background syncs every 1 ms', opts: { logWriter: 'main' as const, flushDiskType: 'ASYNC_FLUSH' as const, timing: { flushIntervalCommitLog: 1 } } },
];

for (const w of writers)
t.test(`a follower behind the leader log start gets the segments and the snapshot, installs them and follows (${w.name})`, async (t) => {
  const c = await TestCluster.create(t, 3);
  const installs = new Map<string, InstalledCopy[]>();
  const extra = (id: string) => ({
    ...w.opts,
    dataSegmentSize: SEGMENT,
    // appends queued for the absent follower would otherwise reach it when it is back
    transport: { maxQueueMessages: 2 },
    log: process.env.DEBUG_COPY ? (l: string) => console.error(id, l) : () => undefined,
    takeSnapshot: async () => {
      const applied = c.nodes.get(id)!.node.status().appliedIndex;
      return { appliedIndex: applied, data: Buffer.from(`state of ${id} at ${applied}`) };
    },
    onInstall: async (ic: InstalledCopy) => {
      installs.set(id, [...(installs.get(id) ?? []), ic]);
    },
  });
  const nodes = await Promise.all([...c.peers.keys()].map((id) => c.start(id, extra(id))));
  const leader = await c.leader();
  const away = nodes.find((n) => n !== leader)!;
  let last = 0;
  for (let k = 0; k < 4; k++) last = (await leader.node.propose(Array.from({ length: 50 }, (_, i) => body(k * 50 + i)))).at(-1)!.index;
  await until(() => away.applied.at(-1)?.index === last, [away]);
  const awayApplied = away.applied.at(-1)!.index;
  await away.node.close();

  // the group goes on without it, and retention drops what it would need
  for (let k = 4; k < 12; k++) last = (await leader.node.propose(Array.from({ length: 50 }, (_, i) => body(k * 50 + i)))).at(-1)!.index;
  const segs = leader.node.storage.dataSegments;
  t.ok(segs.length >= 5, `the leader has ${segs.length} segments`);
  const cut = segs[segs.length - 2]!.firstIndex;
  // on both nodes that stayed: whichever leads when it comes back has to copy
  const other = nodes.find((n) => n !== leader && n !== away)!;
  await until(() => other.applied.at(-1)?.index === last, [other]);
  await leader.node.storage.dropPrefix(cut);
  await other.node.storage.dropPrefix(cut);
  t.equal(leader.node.storage.firstIndex, cut);
  t.ok(cut > awayApplied + 1, `the leader starts at ${cut}, the follower applied up to ${awayApplied}`);

  const back = await c.start(away.id, { ...extra(away.id), appliedIndex: awayApplied });
  await until(() => back.applied.at(-1)?.index === last, [back]);
  t.equal(leader.node.status().role, 'leader', 'the leader stayed leader');
  t.equal(leader.node.copyStats.sent, 1, 'one copy sent');
  t.equal(back.node.copyStats.installed, 1, 'one copy installed');
  const got = installs.get(away.id) ?? [];
  t.equal(got.length, 1, 'the application was told once');
  t.equal(got[0]!.firstIndex, cut, 'the log starts at the leader first index');
  t.equal(got[0]!.startPos, leader.node.storage.entryAt(cut).pos);
  t.match(got[0]!.snapshot?.toString(), new RegExp(`^state of ${leader.id} at \\d+$`), 'with the leader snapshot');
  t.equal(back.applied[0]!.index, cut, 'apply resumes at the first copied entry');
  t.equal(back.node.storage.firstIndex, cut);
  for (let i = cut; i <= last; i++) {
    if (entryKey(back, i) !== entryKey(leader, i)) {
      t.fail(`entry ${i} differs`);
      break;
    }
  }
  t.same(
    back.node.storage.dataSegments.map((s) => path.basename(s.path)),
    leader.node.storage.dataSegments.map((s) => path.basename(s.path)),
    'the same segment files',
  );
  t.notOk(fs.existsSync(path.join(back.storeDir, `dledger-${back.id}`, 'copy-ready')), 'nothing left of the copy');

  // and it follows from here like any follower
  const more = await leader.node.propose([body(9999)]);
  await until(() => back.applied.at(-1)?.index === more[0]!.index, [back]);
  t.equal(entryKey(back, more[0]!.index), entryKey(leader, more[0]!.index));
  t.ok(back.applied.every((e, k) => k === 0 || e.index === back.applied[k - 1]!.index + 1), 'in order, no gaps');

  // restarted on the copied log, it does not need the snapshot again (its state is past the log start)
  await back.node.close();
  const again = await c.start(away.id, { ...extra(away.id), appliedIndex: more[0]!.index });
  const after = await leader.node.propose([body(10000)]);
  await until(() => again.applied.at(-1)?.index === after[0]!.index, [again]);
  t.equal(installs.get(away.id)!.length, 1, 'no second install at a restart');
  t.equal(leader.node.copyStats.sent, 1, 'and no second copy');
});

t.test('a restart whose application state is behind the log start hands it the kept snapshot', async (t) => {
  const c = await TestCluster.create(t, 1);
  const n0 = await c.start('n0', { dataSegmentSize: SEGMENT });
  await c.leader();
  let last = 0;
  for (let k = 0; k < 6; k++) last = (await n0.node.propose(Array.from({ length: 50 }, (_, i) => body(i)))).at(-1)!.index;
  await until(() => n0.applied.at(-1)?.index === last, [n0]);
  const cut = n0.node.storage.dataSegments.at(-2)!.firstIndex;
  await n0.node.storage.dropPrefix(cut);
  await n0.node.close();
  const seen: InstalledCopy[] = [];
  const again = await c.start('n0', { dataSegmentSize: SEGMENT, appliedIndex: 3, onInstall: async (ic) => void seen.push(ic) });
  t.equal(seen.length, 1, 'the application hears that its state is behind the log');
  t.equal(seen[0]!.firstIndex, cut);
  t.equal(seen[0]!.snapshot, null, 'no snapshot was ever kept here');
  t.equal(again.node.status().appliedIndex, cut - 1);
});
