import t from 'tap';
import fs from 'node:fs';
import { crc32 } from '../../../protocol/crc32.js';
import { NOOP_MAGIC, type RaftEntry } from '../../../raft/core/index.js';
import { NotLeaderError, ProposalTimeoutError, RaftNode, TermChangedError } from '../../../raft/node/index.js';
import { builtAddon } from '../../helpers/pageCache.js';
import { readCurrTerm } from '../../../storage/log/termFiles.js';
import { FAST_TIMING, TestCluster, until, type TestNode } from './cluster.js';

const bodies = (...s: string[]): Buffer[] => s.map((x) => Buffer.from(x));
const text = (es: readonly RaftEntry[]): string[] => es.filter((e) => e.magic !== NOOP_MAGIC).map((e) => Buffer.from(e.body).toString());

t.test('a one-node group commits at once, applies in order and restarts from its files', async (t) => {
  const c = await TestCluster.create(t, 1);
  const n0 = await c.start('n0');
  await c.leader();
  const r = await n0.node.propose(bodies('a', 'bb', 'ccc'));
  t.same(r.map((e) => e.index), [1, 2, 3], 'index 0 is the leader no-op');
  t.same(r.map((e) => e.pos), [48, 48 + 49, 48 + 49 + 50], 'positions follow the 48-byte header + body layout');
  await until(() => n0.applied.length === 4, [n0]);
  t.same(n0.applied.map((e) => e.index), [0, 1, 2, 3]);
  t.same(text(n0.applied), ['a', 'bb', 'ccc']);
  t.equal(n0.applied[0]!.magic, NOOP_MAGIC);
  const term = n0.node.status().term;
  await n0.node.close();
  t.same(await readCurrTerm(`${n0.storeDir}/dledger-n0`), { currTerm: term, voteLeader: 'n0' }, 'term and vote are on disk');
  t.ok(fs.existsSync(`${n0.storeDir}/dledger-n0/checkpoint`), 'checkpoint written on close');

  // restart: the state machine says it applied up to 3, so only new entries reach it
  const again = await c.start('n0', { appliedIndex: 3 });
  await c.leader([again]);
  t.ok(again.node.status().term > term, 'a new term after restart');
  const r2 = await again.node.propose(bodies('d'));
  t.equal(r2[0]!.index, 5, 'after the old entries and the new no-op');
  await until(() => again.applied.length === 2, [again]);
  t.same(again.applied.map((e) => e.index), [4, 5]);
  t.same(text(again.applied), ['d']);
});

t.test('a proposal made while the Ready loop winds down (by whoever awaited the last commit) is not left for a tick', async (t) => {
  // In a one-node group the loop itself commits and settles: the proposer's continuation runs
  // after the loop's last look at the core and before the loop has ended. Each link of this
  // chain used to wait for the next tick; it must not need one. Ticks of 25 ms: the chain stays
  // under half as many ticks as links unless a link takes 12 ms.
  const c = await TestCluster.create(t, 1);
  const n0 = await c.start('n0', { timing: { ...FAST_TIMING, tickIntervalMs: 25, heartBeatTimeIntervalMs: 50 } });
  await c.leader();
  await n0.node.propose(bodies('warm'));
  const links = 50;
  const ticks0 = n0.node.counters.ticks;
  const indexes = await new Promise<number[]>((resolve, reject) => {
    const got: number[] = [];
    const next = (): void => {
      n0.node.propose(bodies(`link ${got.length}`)).then((r) => {
        got.push(r[0]!.index);
        if (got.length === links) resolve(got);
        else next();
      }, reject);
    };
    next();
  });
  t.same(indexes, Array.from({ length: links }, (_, i) => indexes[0]! + i), 'every link committed, in order');
  const ticks = n0.node.counters.ticks - ticks0;
  t.ok(ticks < links / 2, `${ticks} ticks for ${links} links: commits did not wait for ticks`);
});

t.test('three nodes: followers refuse with the leader named, the leader commits, every node applies the same entries', async (t) => {
  const c = await TestCluster.create(t, 3);
  const nodes = await c.startAll();
  const leader = await c.leader();
  const follower = nodes.find((n) => n !== leader)!;
  await until(() => follower.node.status().leaderId === leader.id, [follower]);
  const err = await follower.node.propose(bodies('x')).catch((e: unknown) => e);
  t.type(err, NotLeaderError);
  t.equal((err as NotLeaderError).leaderId, leader.id);
  t.equal((err as NotLeaderError).leaderAddress, `127.0.0.1:${c.peers.get(leader.id)!.port}`);

  const proposals = Array.from({ length: 50 }, (_, i) => leader.node.propose(bodies(`m${i}`, `m${i}'`)));
  const results = (await Promise.all(proposals)).flat();
  t.equal(results.length, 100);
  t.same(results.map((r) => r.index), [...results.map((r) => r.index)].sort((a, b) => a - b), 'indexes follow proposal order');
  const last = results[results.length - 1]!.index;
  await until(() => nodes.every((n) => n.applied.at(-1)?.index === last), nodes);
  const expect = leader.applied.map((e) => `${e.index}/${e.term}/${e.pos}/${Buffer.from(e.body).toString('hex')}`);
  for (const n of nodes) {
    t.same(n.applied.map((e) => `${e.index}/${e.term}/${e.pos}/${Buffer.from(e.body).toString('hex')}`), expect, `${n.id} applied the same log, positions included`);
  }
  const posOf = new Map(leader.applied.map((e) => [e.index, e.pos]));
  t.ok(results.every((r) => posOf.get(r.index) === r.pos), 'propose reports the position the entry has in the log');
  // the leader's log hashes each body once; the CRC travels with the entry, and followers store it
  for (const n of nodes) {
    const wrong = n.applied.filter((e) => e.body.byteLength > 0 && e.bodyCrc !== (crc32(e.body) | 0));
    t.same(wrong.map((e) => e.index), [], `${n.id}: every entry carries its body's CRC`);
  }
});

t.test('an async onApply holds back later entries: one call at a time, in order', async (t) => {
  const c = await TestCluster.create(t, 3);
  let active = 0;
  let maxActive = 0;
  const seen = new Map<string, number[]>();
  const nodes: TestNode[] = [];
  for (const id of c.peers.keys()) {
    seen.set(id, []);
    nodes.push(
      await c.start(id, {
        maxApplyQueueEntries: 8,
        onApply: async (es) => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setImmediate(r));
          seen.get(id)!.push(...es.map((e) => e.index));
          active--;
        },
      }),
    );
  }
  const leader = await c.leader();
  const results = (await Promise.all(Array.from({ length: 40 }, (_, i) => leader.node.propose(bodies(`p${i}`))))).flat();
  const last = results.at(-1)!.index;
  await until(() => nodes.every((n) => n.node.status().appliedIndex === last), nodes);
  for (const [id, list] of seen) t.same(list, Array.from({ length: last + 1 }, (_, i) => i), `${id} applied 0..${last} in order`);
  t.ok(maxActive <= 3, `at most one call per node at a time (${maxActive} over 3 nodes)`);
});

t.test('without a quorum a proposal times out, and fails with TermChangedError when leadership is lost', async (t) => {
  const c1 = await TestCluster.create(t, 3);
  const n1 = await c1.startAll({ timing: { tickIntervalMs: 10, heartBeatTimeIntervalMs: 50, maxHeartBeatLeak: 20, maxWaitAckTimeMs: 50 } });
  const l1 = await c1.leader();
  await Promise.all(n1.filter((n) => n !== l1).map((n) => n.node.close()));
  const e1 = await l1.node.propose(bodies('late')).catch((e: unknown) => e);
  t.type(e1, ProposalTimeoutError, 'no quorum acknowledged it within maxWaitAckTimeMs');

  const c2 = await TestCluster.create(t, 3);
  // the leader steps down 1..2 election timeouts after its followers go: long enough to propose first
  const n2 = await c2.startAll({ timing: { tickIntervalMs: 10, heartBeatTimeIntervalMs: 50, maxHeartBeatLeak: 12, maxWaitAckTimeMs: 60000 } });
  const l2 = await c2.leader();
  await l2.node.propose(bodies('ok'));
  await Promise.all(n2.filter((n) => n !== l2).map((n) => n.node.close()));
  const e2 = await l2.node.propose(bodies('orphan')).catch((e: unknown) => e);
  t.type(e2, TermChangedError, 'the leader stepped down (check quorum) before a quorum acknowledged');
  const e3 = await l2.node.propose(bodies('again')).catch((e: unknown) => e);
  t.type(e3, NotLeaderError);
  t.equal((e3 as NotLeaderError).leaderId, null);
});

t.test('proposals the log would refuse are refused up front, and the node keeps serving', async (t) => {
  const c = await TestCluster.create(t, 1);
  const n0 = await c.start('n0', { maxPendingRequestsNum: 4 });
  await c.leader();
  await t.rejects(n0.node.propose(bodies('x'), 2), RangeError, 'the no-op kind is the leader\'s own');
  await t.rejects(n0.node.propose(bodies('x'), 7), RangeError, 'not an entry kind');
  await t.rejects(n0.node.propose([Buffer.alloc(17 * 1024 * 1024)]), RangeError, 'larger than an entry may be');
  await t.rejects(n0.node.propose(bodies('a', 'b', 'c', 'd', 'e')), { code: 'BUSY', limit: 'maxPendingRequestsNum' });
  t.same((await n0.node.propose(bodies('fine'), 16)).map((e) => e.index), [1]);
});

t.test('RaftNode.start refuses a self id outside dLegerPeers', async (t) => {
  await t.rejects(RaftNode.start({ selfId: 'n5', peers: 'n0-127.0.0.1:1;n1-127.0.0.1:2', storeDir: '/nonexistent', onApply: () => undefined }), /not among dLegerPeers/);
});

t.test('SYNC_FLUSH commits once entries are fsynced, with either log writer', async (t) => {
  for (const logWriter of ['worker', 'main'] as const) {
    const c = await TestCluster.create(t, 1);
    const n0 = await c.start('n0', { flushDiskType: 'SYNC_FLUSH', logWriter });
    await c.leader();
    t.same((await n0.node.propose(bodies('durable'))).map((e) => e.index), [1], logWriter);
  }
});

t.test('an idle group wakes for the core\'s deadlines only: followers count ticks by the clock without a timer per tick', async (t) => {
  const c = await TestCluster.create(t, 3);
  const nodes = await c.startAll();
  const leader = await c.leader();
  const followers = nodes.filter((n) => n !== leader);
  await until(() => followers.every((f) => f.node.status().leaderId === leader.id), nodes);
  const term = leader.node.status().term;
  const at = (n: (typeof nodes)[number]): { ticks: number; wakeups: number } => ({ ticks: n.node.counters.ticks, wakeups: n.node.counters.tickWakeups });
  const before = new Map(nodes.map((n) => [n.id, at(n)]));
  const t0 = performance.now();
  // an observation window, not a wait for an event: twelve heartbeat periods of the leader (50 ms
  // each), in which a tick timer every 10 ms would wake each node about 60 times
  await new Promise((r) => setTimeout(r, 600));
  const ticksPassed = (performance.now() - t0) / FAST_TIMING.tickIntervalMs;
  const leaderWakeups = leader.node.counters.tickWakeups - before.get(leader.id)!.wakeups;
  t.ok(leaderWakeups >= 5 && leaderWakeups <= 30, `the leader woke ${leaderWakeups} times for ticks (heartbeats every 5 ticks)`);
  for (const f of followers) {
    const d = { ticks: f.node.counters.ticks - before.get(f.id)!.ticks, wakeups: f.node.counters.tickWakeups - before.get(f.id)!.wakeups };
    t.ok(d.wakeups <= 5, `${f.id} woke ${d.wakeups} times for ticks while ${ticksPassed.toFixed(0)} ticks passed`);
    t.ok(d.ticks >= ticksPassed * 0.5, `${f.id}'s core was given ${d.ticks} ticks (by the clock, on its inputs)`);
  }
  for (const n of nodes) t.equal(n.node.status().term, term, `${n.id}: no election while idle`);
});

t.test('preferredLeaderIds with beforePreferredTransfer: the leader runs the hook, what it writes commits, then it hands over', async (t) => {
  const c = await TestCluster.create(t, 3);
  const calls: Array<{ on: string; target: string }> = [];
  const hookWrites: number[] = [];
  const extra = (id: string) => ({
    core: { preferredLeaderIds: ['n2'] },
    beforePreferredTransfer: async (target: string): Promise<void> => {
      calls.push({ on: id, target });
      // what a broker does here: write the consumer offsets it holds
      const [r] = await c.nodes.get(id)!.node.propose(bodies(`written by ${id} before the hand-over`));
      hookWrites.push(r!.index);
    },
  });
  // n2 starts late, so one of the others leads first
  await Promise.all(['n0', 'n1'].map((id) => c.start(id, extra(id))));
  const first = await c.leader();
  t.not(first.id, 'n2');
  const n2 = await c.start('n2', extra('n2'));
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (n2.node.status().role !== 'leader') return;
      n2.node.off('roleChange', check);
      resolve();
    };
    n2.node.on('roleChange', check);
    check();
  });
  t.same(calls, [{ on: first.id, target: 'n2' }], 'the old leader ran the hook once, for n2');
  t.equal(hookWrites.length, 1, 'the write made in the hook committed');
  await until(() => n2.applied.some((e) => e.index === hookWrites[0]), [n2]);
  t.equal(Buffer.from(n2.applied.find((e) => e.index === hookWrites[0])!.body).toString(), `written by ${first.id} before the hand-over`, 'and the new leader has it');
  t.equal(first.node.status().role, 'follower');
});

t.test('with a cache window, the background round drops the fsynced pages behind it, with either log writer', async (t) => {
  const addon = builtAddon();
  const window = 64 * 1024;
  for (const [logWriter, flushDiskType] of [['main', 'ASYNC_FLUSH'], ['worker', 'SYNC_FLUSH']] as const) {
    const c = await TestCluster.create(t, 1);
    const n0 = await c.start('n0', {
      logWriter,
      flushDiskType,
      dataSegmentSize: 64 * 1024,
      cacheWindow: window,
      timing: { ...FAST_TIMING, flushIntervalCommitLog: 3_600_000 }, // the test runs the rounds
    });
    await c.leader();
    let last = { index: 0, pos: 0 };
    for (let i = 0; i < 30; i++) last = (await n0.node.propose(Array.from({ length: 10 }, () => Buffer.alloc(1000, i)))).at(-1)!;
    const end = last.pos + 48 + 1000;
    await n0.node.backgroundRound();
    t.equal(n0.node.pageCacheDroppedBytes, end - window, `${logWriter}: the log up to the window was dropped`);
    const dataDir = `${n0.storeDir}/dledger-n0/data`;
    const files = fs.readdirSync(dataDir).sort();
    t.ok(files.length > 4, `${logWriter}: several files (${files.length})`);
    for (const name of files) {
      const start = Number(name);
      const fd = fs.openSync(`${dataDir}/${name}`, 'r');
      const cached = addon.cachedPages(fd, 0, fs.fstatSync(fd).size);
      fs.closeSync(fd);
      if (start + 64 * 1024 <= end - window) t.equal(cached, 0, `${logWriter} ${name}: behind the window`);
      else if (start >= end - window) t.ok(cached > 0, `${logWriter} ${name}: in the window, cached`);
    }
    await n0.node.close();
  }
});

t.test('batches queued while onApply runs go to the next call together, in order', async (t) => {
  // An application that waits before it writes (the broker coalesces its index writes for up
  // to 1 ms) must see what piled up in one call; one call per Ready in turn collapsed the
  // group's rate to one Ready per wait.
  const c = await TestCluster.create(t, 1);
  const calls: number[][] = [];
  const noRelease = (): void => undefined;
  let release: () => void = noRelease;
  let heldStarted: () => void = () => undefined;
  const held = new Promise<void>((r) => (heldStarted = r));
  const n0 = await c.start('n0', {
    onApply: async (es) => {
      calls.push(es.map((e) => e.index));
      if (release === noRelease && es.some((e) => e.magic !== NOOP_MAGIC)) {
        heldStarted();
        await new Promise<void>((r) => (release = r));
      }
    },
  });
  await c.leader();
  const a = (await n0.node.propose(bodies('a')))[0]!.index; // committed; the call that applies it is held
  await held;
  const rest: number[] = [];
  for (const b of ['b', 'c', 'd']) rest.push((await n0.node.propose(bodies(b)))[0]!.index); // three Readies, three batches
  const before = calls.length;
  t.same(calls.flat(), Array.from({ length: a + 1 }, (_, i) => i), 'nothing more is handed over while a call runs');
  release();
  await until(() => n0.node.status().appliedIndex === rest.at(-1), [n0]);
  t.same(calls.slice(before), [rest], 'the three queued batches in one call');
});

t.test('leadsWithQuorumWithin: a leader counts the peers it heard from lately; a follower never leads', async (t) => {
  const c = await TestCluster.create(t, 3);
  const nodes = await c.startAll();
  const leader = await c.leader();
  await leader.node.propose(bodies('x')); // both followers answered lately
  const now = performance.now();
  t.ok(leader.node.leadsWithQuorumWithin(5_000, now), 'heard from the followers within 5 s');
  t.notOk(leader.node.leadsWithQuorumWithin(500, now + 60_000), 'a minute later without a word from them: not confirmed (a paused or cut-off leader)');
  for (const n of nodes.filter((x) => x !== leader)) t.notOk(n.node.leadsWithQuorumWithin(5_000), `${n.id} is a follower`);
  const single = await (await TestCluster.create(t, 1)).start('n0');
  await new Promise<void>((r) => (single.node.status().role === 'leader' ? r() : single.node.once('roleChange', () => r())));
  t.ok(single.node.leadsWithQuorumWithin(0, performance.now() + 60_000), 'a group of one is its own quorum');
});
