// bench/raft: three standalone Raft nodes as processes on loopback (TCP transport, segmented
// log in a temp folder), 1 KiB entries.
//   - commits per second and commit latency (propose -> commit, measured inside the leader)
//     with 1 proposal in flight, with 256 in flight (one entry each), and with 16 batches of 64
//   - election time: kill -9 the leader, time until a survivor reports itself leader (both
//     clocks are this machine's wall clock), then until the new leader commits; the killed node
//     is restarted and caught up before the next trial
//   - CPU time of the three processes per committed entry (from /proc), steadier than the rates
//     on a shared machine
//   - the loopback TCP round trip between two processes and the disk's fdatasync rate, measured
//     in the same run, to read the figures against
//   - the bare chain (bench/load/bareChain.ts): three bare Node processes doing only the writes and
//     sends of one commit, one at a time, in every run; the one-at-a-time row is read as a ratio to it
// Figures are medians over runs. Usage:
//   node dist/bench/raft.js [--quick] [--runs 3] [--entries 300000] [--trials 20]
//        [--writer worker|main (default: main for ASYNC_FLUSH, as the broker)] [--flush ASYNC_FLUSH|SYNC_FLUSH] [--dir /tmp] [--json]
//        [--instructions: count the nodes' instructions per entry with perf stat, for A/B comparisons;
//         the counters cost each context switch a few microseconds here, so the one-in-flight row's
//         latency and CPU read higher with it]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { bareChain, type BareChainResult } from './load/bareChain.js';
import { fsyncRate, loopbackRtt } from './load/machine.js';
import { intOption } from './args.js';
import { NodeCluster } from './raft/NodeCluster.js';
import { processCpuTimes, processSyscalls } from './load/processes.js';
import { countInstructions } from './load/instructions.js';

interface Args {
  runs: number;
  entries: number;
  trials: number;
  writer: 'worker' | 'main';
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  dir: string;
  json: boolean;
  instructions: boolean;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const a: Args = { runs: quick ? 1 : 3, entries: quick ? 50_000 : 300_000, trials: quick ? 5 : 20, writer: 'worker', flush: 'ASYNC_FLUSH', dir: os.tmpdir(), json: false, instructions: false };
  let writerGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--quick') continue;
    else if (k === '--json') a.json = true;
    else if (k === '--instructions') a.instructions = true;
    else if (k === '--runs') a.runs = intOption(v(), 1, 20, '--runs');
    else if (k === '--entries') a.entries = intOption(v(), 1000, 10_000_000, '--entries');
    else if (k === '--trials') a.trials = intOption(v(), 0, 200, '--trials');
    else if (k === '--writer') {
      a.writer = v() === 'main' ? 'main' : 'worker';
      writerGiven = true;
    }
    else if (k === '--flush') a.flush = v() === 'SYNC_FLUSH' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH';
    else if (k === '--dir') a.dir = v();
    else throw new Error(`unknown option ${k}`);
  }
  // by default the writer the broker uses (RaftCommitLog): this thread for ASYNC_FLUSH, the writer thread for SYNC_FLUSH
  if (!writerGiven) a.writer = a.flush === 'ASYNC_FLUSH' ? 'main' : 'worker';
  return a;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? NaN;
};
const now = (): number => performance.timeOrigin + performance.now();

interface LoadResult {
  perSec: number;
  p50us: number;
  p99us: number;
  /** CPU time of the three node processes together per committed entry (NaN without /proc) */
  cpuUs: number;
  /** read and write system calls per committed entry: the leader's, and the followers' mean */
  leaderReads: number;
  leaderWrites: number;
  followerReads: number;
  followerWrites: number;
  /** CPU per committed entry in user and kernel mode: the leader's, and the followers' mean */
  leaderUserUs: number;
  leaderSysUs: number;
  followerUserUs: number;
  followerSysUs: number;
  /** thousands of instructions per committed entry (perf stat with --instructions; NaN otherwise): the leader's, and the followers' mean */
  leaderKInstr: number;
  followerKInstr: number;
}

async function load(c: NodeCluster, entries: number, inflight: number, batch: number, countThem: boolean): Promise<LoadResult> {
  const leader = await c.leader();
  const followers = [...c.procs.values()].filter((p) => p !== leader);
  const calls = (): { lr: number; lw: number; fr: number; fw: number } => {
    const l = processSyscalls(leader.child.pid);
    const f = followers.map((p) => processSyscalls(p.child.pid));
    return { lr: l.reads, lw: l.writes, fr: f.reduce((s, x) => s + x.reads, 0), fw: f.reduce((s, x) => s + x.writes, 0) };
  };
  const times = (): { lu: number; ls: number; fu: number; fs: number } => {
    const l = processCpuTimes(leader.child.pid);
    const f = followers.map((p) => processCpuTimes(p.child.pid));
    return { lu: l.user, ls: l.system, fu: f.reduce((s, x) => s + x.user, 0), fs: f.reduce((s, x) => s + x.system, 0) };
  };
  const pids = [leader.child.pid, ...followers.map((p) => p.child.pid)];
  const counter = countThem ? await countInstructions(pids) : { stop: async (): Promise<number[]> => pids.map(() => NaN) };
  const times0 = times();
  const calls0 = calls();
  const r = await leader.control.load(entries, inflight, 1024, batch);
  const n = Math.max(1, Number(r[2]));
  const instructions = await counter.stop();
  const calls1 = calls();
  const times1 = times();
  const cpuUs = (times1.lu + times1.ls + times1.fu + times1.fs - (times0.lu + times0.ls + times0.fu + times0.fs)) / n;
  if (r[0] !== 'load' || Number(r[6]) > 0) throw new Error(`load failed: ${r.join(' ')}`);
  const perFollower = n * Math.max(1, followers.length);
  return {
    perSec: Number(r[2]) / (Number(r[3]) / 1e6),
    p50us: Number(r[4]),
    p99us: Number(r[5]),
    cpuUs,
    leaderReads: (calls1.lr - calls0.lr) / n,
    leaderWrites: (calls1.lw - calls0.lw) / n,
    followerReads: (calls1.fr - calls0.fr) / perFollower,
    followerWrites: (calls1.fw - calls0.fw) / perFollower,
    leaderUserUs: (times1.lu - times0.lu) / n,
    leaderSysUs: (times1.ls - times0.ls) / n,
    followerUserUs: (times1.fu - times0.fu) / perFollower,
    followerSysUs: (times1.fs - times0.fs) / perFollower,
    leaderKInstr: instructions[0]! / n / 1000,
    followerKInstr: instructions.slice(1).reduce((x, y) => x + y, 0) / perFollower / 1000,
  };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const out: Record<string, unknown> = { args: a, cpus: os.cpus().length, node: process.version };
  const log = (s: string): void => {
    if (!a.json) console.log(s);
  };
  const load0 = os.loadavg()[0]!;
  log(`bench/raft: 3 processes on loopback, 1 KiB entries, ${a.flush}, log writer ${a.writer}, ${os.cpus().length} CPUs, node ${process.version}, load average ${load0.toFixed(1)}`);

  const rtt = await loopbackRtt();
  const fsyncs = fsyncRate(a.dir);
  out['loopbackRttUs'] = rtt;
  out['fsyncPerSec'] = Math.round(fsyncs);
  log(`loopback TCP round trip between two processes: p50 ${rtt.p50.toFixed(0)} us, p99 ${rtt.p99.toFixed(0)} us; fdatasync rate: ${fsyncs.toFixed(0)}/s`);

  const nodeArgs = ['--logWriter', a.writer, '--flushDiskType', a.flush];
  const rows: Record<string, LoadResult[]> = { 'in flight 1': [], 'in flight 256 (1 entry each)': [], 'in flight 16 x 64 entries': [] };
  const bare: BareChainResult[] = [];
  for (let run = 0; run < a.runs; run++) {
    bare.push(await bareChain(a.dir, { followers: 2, client: false, count: Math.min(10_000, a.entries), warm: 2000 }));
    // a fresh group per run: each run starts from an empty log
    const c = await NodeCluster.start(fs.mkdtempSync(path.join(a.dir, 'raft-bench-')), nodeArgs);
    try {
      // warm-up in every shape measured: V8 compiles the paths and sizes its heap before the rows
      await load(c, 2000, 16, 1, false);
      await load(c, 20_000, 256, 1, false);
      await load(c, 20_000, 16, 64, false);
      await load(c, 2000, 1, 1, false);
      rows['in flight 1']!.push(await load(c, Math.min(10_000, a.entries), 1, 1, a.instructions));
      rows['in flight 256 (1 entry each)']!.push(await load(c, a.entries, 256, 1, a.instructions));
      rows['in flight 16 x 64 entries']!.push(await load(c, a.entries, 16, 64, a.instructions));
    } finally {
      await c.stop();
    }
  }
  type Row = { entriesPerSec: number; p50us: number; p99us: number; cpuUsPerEntry: number; perEntry: Record<string, number> };
  const table: Record<string, Row> = {};
  const detailKeys = ['leaderUserUs', 'leaderSysUs', 'followerUserUs', 'followerSysUs', 'leaderReads', 'leaderWrites', 'followerReads', 'followerWrites', 'leaderKInstr', 'followerKInstr'] as const;
  log('\ncommits (medians of runs)           entries/s   p50 us   p99 us   CPU us/entry (3 nodes)');
  for (const [name, rs] of Object.entries(rows)) {
    const perEntry: Record<string, number> = {};
    for (const k of detailKeys) perEntry[k] = median(rs.map((r) => r[k]));
    const m: Row = {
      entriesPerSec: Math.round(median(rs.map((r) => r.perSec))),
      p50us: median(rs.map((r) => r.p50us)),
      p99us: median(rs.map((r) => r.p99us)),
      cpuUsPerEntry: median(rs.map((r) => r.cpuUs)),
      perEntry,
    };
    table[name] = m;
    log(`  ${name.padEnd(32)} ${String(m.entriesPerSec).padStart(9)} ${String(Math.round(m.p50us)).padStart(8)} ${String(Math.round(m.p99us)).padStart(8)} ${(Number.isFinite(m.cpuUsPerEntry) ? m.cpuUsPerEntry.toFixed(1) : '-').padStart(10)}`);
  }
  // where the time goes: user and kernel CPU, and system calls (all threads), per committed entry
  // instructions (perf stat, --instructions) read steadier than time on a shared machine: compare runs in them
  log('\nper entry (medians)                 leader: user us  sys us  reads  writes  k instr   follower (mean): user us  sys us  reads  writes  k instr');
  for (const [name, m] of Object.entries(table)) {
    const e = m.perEntry;
    const f = (k: string, d: number, w: number): string => (Number.isFinite(e[k]) ? e[k]!.toFixed(d) : '-').padStart(w);
    log(`  ${name.padEnd(32)} ${f('leaderUserUs', 1, 15)} ${f('leaderSysUs', 1, 7)} ${f('leaderReads', 2, 6)} ${f('leaderWrites', 2, 7)} ${f('leaderKInstr', 1, 8)}   ${f('followerUserUs', 1, 24)} ${f('followerSysUs', 1, 7)} ${f('followerReads', 2, 6)} ${f('followerWrites', 2, 7)} ${f('followerKInstr', 1, 8)}`);
  }
  out['commits'] = table;

  // the floor: the same one-at-a-time commits made by bare processes, in the same runs
  const b = {
    perSec: Math.round(median(bare.map((r) => r.perSec))),
    p50us: median(bare.map((r) => r.p50us)),
    p99us: median(bare.map((r) => r.p99us)),
    leaderCpuUs: median(bare.map((r) => r.leaderCpuUs)),
    followerCpuUs: median(bare.map((r) => r.followerCpuUs)),
  };
  const one = table['in flight 1']!;
  const oneLeader = one.perEntry['leaderUserUs']! + one.perEntry['leaderSysUs']!;
  const oneFollower = one.perEntry['followerUserUs']! + one.perEntry['followerSysUs']!;
  out['bareChain'] = { ...b, p50Ratio: one.p50us / b.p50us, leaderCpuRatio: oneLeader / b.leaderCpuUs, followerCpuRatio: oneFollower / b.followerCpuUs };
  const us = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
  log(`\nbare chain, one at a time (3 bare node processes: 1 KiB, one pwrite and the sends per entry, committed at the first answer; medians of runs):`);
  log(`  ${b.perSec}/s, p50 ${us(b.p50us)} us, p99 ${us(b.p99us)} us, CPU per entry: leader ${us(b.leaderCpuUs)} us, follower ${us(b.followerCpuUs)} us`);
  log(`  raftmq one at a time against it: p50 ${(one.p50us / b.p50us).toFixed(2)}x, CPU per entry: leader ${(oneLeader / b.leaderCpuUs).toFixed(2)}x (${us(oneLeader)} us), follower ${(oneFollower / b.followerCpuUs).toFixed(2)}x (${us(oneFollower)} us)`);

  // elections
  const c = await NodeCluster.start(fs.mkdtempSync(path.join(a.dir, 'raft-bench-')), nodeArgs);
  const toLeader: number[] = [];
  const toCommit: number[] = [];
  try {
    for (let trial = 0; trial < a.trials; trial++) {
      const leader = await c.leader();
      // everyone caught up: a proposal applied on all three
      const ok = await leader.control.propose(1, 1024);
      if (ok[0] !== 'ok') throw new Error(`propose before the kill: ${ok.join(' ')}`);
      for (const p of c.procs.values()) await p.control.waitApplied(Number(ok[3]));
      const term = c.roles.get(leader.id)!.term;
      const killedAt = now();
      await c.kill(leader.id);
      const next = await c.waitRole((e) => e.role === 'leader' && e.term > term, 30_000);
      toLeader.push(next.at - killedAt);
      let r = await c.procs.get(next.id)!.control.propose(1, 1024);
      for (let i = 0; r[0] !== 'ok' && i < 5; i++) r = await (await c.leader()).control.propose(1, 1024);
      if (r[0] !== 'ok') throw new Error(`no commit after the election: ${r.join(' ')}`);
      toCommit.push(now() - killedAt);
      await c.startNode(leader.id);
      await c.waitRole((e) => e.id === leader.id && e.role === 'follower' && e.leader !== '-', 30_000);
      if (!a.json) process.stdout.write(`  trial ${trial + 1}: new leader after ${(next.at - killedAt).toFixed(0)} ms\n`);
    }
  } finally {
    await c.stop();
  }
  out['election'] = {
    trials: toLeader.length,
    toLeaderMs: { p50: median(toLeader), p99: pct(toLeader, 0.99), max: Math.max(...toLeader) },
    toCommitMs: { p50: median(toCommit), p99: pct(toCommit, 0.99) },
  };
  log(`\nleader killed (kill -9) -> new leader, ${toLeader.length} trials: p50 ${median(toLeader).toFixed(0)} ms, p99 ${pct(toLeader, 0.99).toFixed(0)} ms, max ${Math.max(...toLeader).toFixed(0)} ms`);
  log(`leader killed -> first commit on the new leader: p50 ${median(toCommit).toFixed(0)} ms, p99 ${pct(toCommit, 0.99).toFixed(0)} ms`);
  log('(default timers: heartbeat 100 ms, campaign after 500..1000 ms without one, 10 ms ticks)');
  out['loadAverage'] = { start: load0, end: os.loadavg()[0] };
  log(`load average (1 min) at start ${load0.toFixed(1)}, at end ${os.loadavg()[0]!.toFixed(1)}: other processes share the ${os.cpus().length} CPUs`);
  if (a.json) console.log(JSON.stringify(out, null, 2));
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
