// bench/suite: the standard scenarios of the benchmark issue in one command. Starts a fresh name
// server, a 3-node DLedger group and a single node (processes, temporary folders), runs each
// scenario with bench/producer or bench/consumer in a tool process of its own, and prints one
// table with the machine's loopback round trip and fsync rate measured in the same run. Each row
// also gives the CPU time spent per message by the brokers (all of them, from /proc/<pid>/stat)
// and by the client (the tool's own report): on a shared machine they move far less than the
// rates do. Before each one-send-at-a-time row, the bare chain (bench/load/bareChain.ts) measures
// the floor of that row on this machine: bare node processes (a client, a leader, two followers
// or none) doing only the writes and sends of one send; the table gives it as a row of its own.
// Usage: node dist/bench/suite.js [--seconds 10] [--flush ASYNC_FLUSH|SYNC_FLUSH|both] [--set key=value]... [--json] [--keep]
// --set adds a line to every broker's config file (e.g. --set commitLogCacheWindow=268435456).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, isMain } from './args.js';
import type { ConsumerSummary } from './consumer.js';
import { bareChain } from './load/bareChain.js';
import { fsyncRate, loopbackRtt } from './load/machine.js';
import { freePort } from './load/ports.js';
import { processCpuMicros, startBootingProcess, stopProcesses, waitForMaster } from './load/processes.js';
import type { ProducerSummary } from './producer.js';

const distDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Row {
  target: 'group' | 'single';
  flush: string;
  scenario: string;
  tps: number;
  p50ms: number;
  p99ms: number;
  goal: string;
  /** CPU microseconds per message: all brokers together, and the client; NaN where /proc is missing */
  brokerCpuUs: number;
  clientCpuUs: number;
}

/**
 * Seconds each producer scenario sends before it is measured: its tool process is new, and in
 * its first second the JIT and the connections make the tool itself late (measured: 2-12k of
 * the first second's 22k sends at half rate took over 5 ms, against 0.2-2.3k in each later second).
 */
const WARMUP_SECONDS = 2;

/**
 * Runs bench/producer or bench/consumer with --json in a process of its own (one client process
 * per scenario, as RocketMQ's benchmark tool is run; a scenario does not inherit the heap and
 * compiled code of the ones before it) and returns its summary. Killed if it overruns by a minute.
 */
async function runTool<T extends { cpuMicros: number }>(tool: 'producer' | 'consumer', args: string[], seconds: number): Promise<T> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, [path.join(distDir, 'bench', `${tool}.js`), ...args, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-1_000_000)));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`bench ${tool} ${args.join(' ')} exited with ${code}: ${err || last}`);
  return JSON.parse(last) as T;
}

/** CPU per message while `run` goes: the brokers' (summed, from /proc) and the tool process's (its own report). */
async function cpuPerMessage<T extends { cpuMicros: number }>(brokers: readonly ChildProcess[], run: () => Promise<T>, count: (r: T) => number): Promise<{ result: T; broker: number; client: number }> {
  const before = brokers.map((c) => processCpuMicros(c.pid));
  const result = await run();
  const n = Math.max(1, count(result));
  let broker = 0;
  brokers.forEach((c, i) => (broker += processCpuMicros(c.pid) - before[i]!));
  return { result, broker: broker / n, client: result.cpuMicros / n };
}

class Processes {
  private readonly children: ChildProcess[] = [];
  readonly brokers: ChildProcess[] = [];
  async start(script: string, args: string[], log: string, broker = false): Promise<void> {
    const child = await startBootingProcess(script, args, log);
    this.children.push(child);
    if (broker) this.brokers.push(child);
  }
  async stopAll(): Promise<void> {
    await stopProcesses(this.children);
    this.children.length = 0;
  }
}

async function runTarget(target: 'group' | 'single', flush: string, seconds: number, root: string, settings: readonly string[]): Promise<Row[]> {
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
          ...settings,
          ...(target === 'group' ? ['enableDLegerCommitLog=true', 'dLegerGroup=RaftNode00', `dLegerPeers=${peers}`, `dLegerSelfId=${id}`] : []),
        ].join('\n');
        const file = path.join(dir, `broker-${id}.conf`);
        fs.writeFileSync(file, conf + '\n');
        await procs.start('server/cli/brokerMain.js', ['-c', file], path.join(dir, `broker-${id}.log`), true);
      }),
    );
    await waitForMaster(ns, brokerName);
    const produce = async (scenario: string, goal: string, args: string[]): Promise<number> => {
      const m = await cpuPerMessage(
        procs.brokers,
        () => runTool<ProducerSummary>('producer', ['-n', ns, '--warmup', String(WARMUP_SECONDS), '--duration', String(seconds), ...args], WARMUP_SECONDS + seconds),
        (r) => r.sent + r.warmupSent,
      );
      const s = m.result;
      rows.push({ target, flush, scenario, tps: s.medianTps, p50ms: s.latencyUs.p50 / 1000, p99ms: s.latencyUs.p99 / 1000, goal, brokerCpuUs: m.broker, clientCpuUs: m.client });
      return s.medianTps;
    };
    const topic = 'SuiteTopic';
    // warm up (JIT, connections, the first segment) before anything is measured
    await runTool<ProducerSummary>('producer', ['-n', ns, '-t', topic, '--create', '8', '--cluster', cluster, '-w', '16', '--duration', '3'], 3);
    if (flush === 'ASYNC_FLUSH') {
      // the floor of the next row, measured now (same machine, same minute); without fsyncs, so ASYNC_FLUSH only
      const floor = await bareChain(dir, { followers: target === 'group' ? 2 : 0, client: true, count: 5000, warm: 1000 });
      const servers = floor.leaderCpuUs + (target === 'group' ? 2 * floor.followerCpuUs : 0);
      rows.push({ target, flush, scenario: 'bare floor: 1 send at a time', tps: floor.perSec, p50ms: floor.p50us / 1000, p99ms: floor.p99us / 1000, goal: '(bare node processes)', brokerCpuUs: servers, clientCpuUs: floor.clientCpuUs });
    }
    await produce('1 send at a time', target === 'group' ? '>= 4,500/s, p50 <= 0.25 ms' : '>= 8,000/s', ['-t', topic, '-w', '1']);
    if (target === 'group') {
      const top = await produce('256 in flight', '>= 45,000/s', ['-t', topic, '-w', '256']);
      await produce('batches of 32, 16 in flight', '>= 150,000/s', ['-t', topic, '-w', '16', '-b', '32']);
      await produce('at half the top rate', 'p99 <= 5 ms', ['-t', topic, '-w', '256', '--rate', String(Math.max(1, Math.floor(top / 2)))]);
      const m = await cpuPerMessage(procs.brokers, () => runTool<ConsumerSummary>('consumer', ['-n', ns, '-t', topic, '--duration', String(seconds), '--drain', '--repeat'], seconds), (r) => r.received);
      rows.push({ target, flush, scenario: 'consume from the backlog', tps: m.result.medianTps, p50ms: NaN, p99ms: NaN, goal: '>= 150,000/s', brokerCpuUs: m.broker, clientCpuUs: m.client });
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
  const settings: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') seconds = intOption(argv[++i], 1, 600, '--seconds');
    else if (a === '--flush') {
      const f = argv[++i];
      flushes = f === 'both' ? ['ASYNC_FLUSH', 'SYNC_FLUSH'] : [String(f)];
      if (!flushes.every((x) => x === 'ASYNC_FLUSH' || x === 'SYNC_FLUSH')) throw new Error('--flush must be ASYNC_FLUSH, SYNC_FLUSH or both');
    } else if (a === '--json') json = true;
    else if (a === '--keep') keep = true;
    else if (a === '--set') {
      const kv = String(argv[++i]);
      if (!/^[A-Za-z][A-Za-z0-9]*=\S*$/.test(kv)) throw new Error(`--set expects key=value (a broker config line), got ${kv}`);
      settings.push(kv);
    } else throw new Error(`unknown option ${a}; use --seconds N --flush ASYNC_FLUSH|SYNC_FLUSH|both --set key=value --json --keep`);
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmq-suite-'));
  const rtt = await loopbackRtt();
  const fsync = fsyncRate(root);
  const rows: Row[] = [];
  try {
    for (const flush of flushes) {
      rows.push(...(await runTarget('group', flush, seconds, root, settings)));
      rows.push(...(await runTarget('single', flush, seconds, root, settings)));
    }
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
  const machine = { loopbackRttUs: rtt, fsyncPerSecond: Math.round(fsync), cpus: os.cpus().length, loadAverage: os.loadavg() };
  if (json) {
    process.stdout.write(JSON.stringify({ machine, seconds, settings, rows }) + '\n');
    return;
  }
  const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
  process.stdout.write(
    `machine: ${machine.cpus} CPUs, load ${machine.loadAverage.map((x) => x.toFixed(1)).join(' ')}, loopback RTT p50 ${f(rtt.p50, 0)} us p99 ${f(rtt.p99, 0)} us, fdatasync ${machine.fsyncPerSecond}/s; ${seconds} s per scenario after a ${WARMUP_SECONDS} s warm-up (sends of a fresh tool process; left out of rates and latencies), medians of per-second rates${settings.length > 0 ? `; brokers set ${settings.join(' ')}` : ''}\n`,
  );
  process.stdout.write(`| target | flush | scenario | msg/s | p50 ms | p99 ms | goal | brokers' CPU us/msg | client CPU us/msg |\n|---|---|---|---|---|---|---|---|---|\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.target} | ${r.flush} | ${r.scenario} | ${Math.round(r.tps)} | ${f(r.p50ms)} | ${f(r.p99ms)} | ${r.goal} | ${f(r.brokerCpuUs, 0)} | ${f(r.clientCpuUs, 0)} |\n`);
  }
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`suite: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
