// bench/suite: the standard scenarios of the benchmark issue in one command. Starts a fresh name
// server, a 3-node DLedger group and a single node (processes, temporary folders), runs each
// scenario with bench/producer and bench/consumer from this process, and prints one table with
// the machine's loopback round trip and fsync rate measured in the same run.
// Usage: node dist/bench/suite.js [--seconds 10] [--flush ASYNC_FLUSH|SYNC_FLUSH|both] [--json] [--keep]
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { intOption, isMain } from './args.js';
import { parseConsumerArgs, runConsumer } from './consumer.js';
import { fsyncRate, loopbackRtt } from './load/machine.js';
import { freePort } from './raft/NodeCluster.js';
import { startBootingProcess, stopProcesses, waitForMaster } from './load/processes.js';
import { parseProducerArgs, runProducer } from './producer.js';


interface Row {
  target: 'group' | 'single';
  flush: string;
  scenario: string;
  tps: number;
  p50ms: number;
  p99ms: number;
  goal: string;
}

class Processes {
  private readonly children: ChildProcess[] = [];
  async start(script: string, args: string[], log: string): Promise<void> {
    this.children.push(await startBootingProcess(script, args, log));
  }
  async stopAll(): Promise<void> {
    await stopProcesses(this.children);
    this.children.length = 0;
  }
}

async function runTarget(target: 'group' | 'single', flush: string, seconds: number, root: string): Promise<Row[]> {
  const procs = new Processes();
  const dir = fs.mkdtempSync(path.join(root, `${target}-${flush}-`));
  const nsPort = await freePort();
  const ns = `127.0.0.1:${nsPort}`;
  fs.writeFileSync(path.join(dir, 'namesrv.conf'), `listenPort=${nsPort}\n`);
  const rows: Row[] = [];
  try {
    await procs.start('server/cli/namesrvMain.js', ['-c', path.join(dir, 'namesrv.conf')], path.join(dir, 'namesrv.log'));
    const cluster = target === 'group' ? 'RaftCluster' : 'SingleCluster';
    const brokerName = target === 'group' ? 'RaftNode00' : 'single-a';
    const ids = target === 'group' ? ['n0', 'n1', 'n2'] : ['n0'];
    const raftPorts = await Promise.all(ids.map(() => freePort()));
    const peers = ids.map((id, i) => `${id}-127.0.0.1:${raftPorts[i]}`).join(';');
    await Promise.all(
      ids.map(async (id) => {
        const conf = [
          `brokerClusterName=${cluster}`,
          `brokerName=${brokerName}`,
          `listenPort=${await freePort()}`,
          `namesrvAddr=${ns}`,
          'brokerIP1=127.0.0.1',
          `storePathRootDir=${path.join(dir, id)}`,
          `flushDiskType=${flush}`,
          ...(target === 'group' ? ['enableDLegerCommitLog=true', 'dLegerGroup=RaftNode00', `dLegerPeers=${peers}`, `dLegerSelfId=${id}`] : []),
        ].join('\n');
        const file = path.join(dir, `broker-${id}.conf`);
        fs.writeFileSync(file, conf + '\n');
        await procs.start('server/cli/brokerMain.js', ['-c', file], path.join(dir, `broker-${id}.log`));
      }),
    );
    await waitForMaster(ns, brokerName);
    const produce = async (scenario: string, goal: string, args: string[]): Promise<number> => {
      const s = await runProducer(parseProducerArgs(['-n', ns, '--duration', String(seconds), '-q', ...args]));
      rows.push({ target, flush, scenario, tps: s.medianTps, p50ms: s.latencyUs.p50 / 1000, p99ms: s.latencyUs.p99 / 1000, goal });
      return s.medianTps;
    };
    const topic = 'SuiteTopic';
    // warm up (JIT, connections, the first segment) before anything is measured
    await runProducer(parseProducerArgs(['-n', ns, '-t', topic, '--create', '8', '--cluster', cluster, '-w', '16', '--duration', '3', '-q']));
    await produce('1 send at a time', target === 'group' ? '>= 4,500/s, p50 <= 0.25 ms' : '>= 8,000/s', ['-t', topic, '-w', '1']);
    if (target === 'group') {
      const top = await produce('256 in flight', '>= 45,000/s', ['-t', topic, '-w', '256']);
      await produce('batches of 32, 16 in flight', '>= 150,000/s', ['-t', topic, '-w', '16', '-b', '32']);
      await produce('at half the top rate', 'p99 <= 5 ms', ['-t', topic, '-w', '256', '--rate', String(Math.max(1, Math.floor(top / 2)))]);
      const c = await runConsumer(parseConsumerArgs(['-n', ns, '-t', topic, '--duration', String(seconds), '--drain', '-q']));
      rows.push({ target, flush, scenario: 'consume from the backlog', tps: c.medianTps, p50ms: NaN, p99ms: NaN, goal: '>= 150,000/s' });
    } else {
      await produce('64 in flight', '>= 60,000/s', ['-t', topic, '-w', '64']);
    }
  } finally {
    await procs.stopAll();
  }
  return rows;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let seconds = 10;
  let flushes = ['ASYNC_FLUSH', 'SYNC_FLUSH'];
  let json = false;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') seconds = intOption(argv[++i], 1, 600, '--seconds');
    else if (a === '--flush') {
      const f = argv[++i];
      flushes = f === 'both' ? ['ASYNC_FLUSH', 'SYNC_FLUSH'] : [String(f)];
      if (!flushes.every((x) => x === 'ASYNC_FLUSH' || x === 'SYNC_FLUSH')) throw new Error('--flush must be ASYNC_FLUSH, SYNC_FLUSH or both');
    } else if (a === '--json') json = true;
    else if (a === '--keep') keep = true;
    else throw new Error(`unknown option ${a}; use --seconds N --flush ASYNC_FLUSH|SYNC_FLUSH|both --json --keep`);
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmq-suite-'));
  const rtt = await loopbackRtt();
  const fsync = fsyncRate(root);
  const rows: Row[] = [];
  try {
    for (const flush of flushes) {
      rows.push(...(await runTarget('group', flush, seconds, root)));
      rows.push(...(await runTarget('single', flush, seconds, root)));
    }
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
  const machine = { loopbackRttUs: rtt, fsyncPerSecond: Math.round(fsync), cpus: os.cpus().length, loadAverage: os.loadavg() };
  if (json) {
    process.stdout.write(JSON.stringify({ machine, seconds, rows }) + '\n');
    return;
  }
  const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
  process.stdout.write(
    `machine: ${machine.cpus} CPUs, load ${machine.loadAverage.map((x) => x.toFixed(1)).join(' ')}, loopback RTT p50 ${f(rtt.p50, 0)} us p99 ${f(rtt.p99, 0)} us, fdatasync ${machine.fsyncPerSecond}/s; ${seconds} s per scenario, medians of per-second rates\n`,
  );
  process.stdout.write(`| target | flush | scenario | msg/s | p50 ms | p99 ms | goal |\n|---|---|---|---|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.target} | ${r.flush} | ${r.scenario} | ${Math.round(r.tps)} | ${f(r.p50ms)} | ${f(r.p99ms)} | ${r.goal} |\n`);
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`suite: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
