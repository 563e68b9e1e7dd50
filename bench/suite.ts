// bench/suite: the standard scenarios of the benchmark issue in one command. Starts a fresh name
// server, a 3-node DLedger group and a single node (processes, temporary folders), runs each
// scenario with bench/producer and bench/consumer from this process, and prints one table with
// the machine's loopback round trip and fsync rate measured in the same run.
// Usage: node dist/bench/suite.js [--seconds 10] [--flush ASYNC_FLUSH|SYNC_FLUSH|both] [--json] [--keep]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdminApi } from '../client/AdminApi.js';
import { intOption, isMain } from './args.js';
import { parseConsumerArgs, runConsumer } from './consumer.js';
import { fsyncRate, loopbackRtt } from './load/machine.js';
import { freePort } from './raft/NodeCluster.js';
import { parseProducerArgs, runProducer } from './producer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..');

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
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    const child = spawn(process.execPath, [path.join(dist, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    const out = fs.createWriteStream(log);
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s; see ${log}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (/boot success/.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited with ${code}; see ${log}`));
      });
    });
  }
  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    this.children.length = 0;
  }
}

async function waitForMaster(ns: string, brokerName: string): Promise<void> {
  const admin = new AdminApi(ns);
  try {
    for (let i = 0; i < 600; i++) {
      try {
        if ((await admin.getClusterInfo()).brokerAddrTable.get(brokerName)?.brokerAddrs.get(0)) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${brokerName} has no master after 60 s`);
  } finally {
    admin.close();
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
