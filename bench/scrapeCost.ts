// bench/scrapeCost: what scraping /metrics once a second costs a DLedger group's producers.
// Starts a name server and a 3-node group (processes, temporary folders, every process with
// metricsExporterType=PROM). On the idle group it measures each process's /metrics: size,
// request time, event-loop time and CPU per scrape (HTTP included). Then, with a scraper process
// (as Prometheus would be) fetching every process's /metrics:
// 1. short producer runs in alternating pairs without ("off") and with ("on") a scrape round
//    every --interval ms, the order alternating ABBA (off/on, on/off, ...) so that a drift of the
//    machine weighs on both modes alike: per-pair throughput ratios and CPU per message;
// 2. one long producer run in pairs of seconds, one second of each pair with --burst scrape
//    rounds (one: what one scrape a second costs; more: the same effect magnified), the other
//    without: per-pair ratios and the mean effect with its 95 % interval.
// It prints the medians and quartiles, the scrape time in the brokers under load, what the
// scrape's CPU is of the CPU the load uses, and the load average.
// Usage: node dist/bench/scrapeCost.js [--pairs 12] [--seconds 5] [--inflight 64] [--size 1024]
//        [--rate 0] [--interval 1000] [--requests 200] [--second-pairs 90] [--burst 1] [--json]
//        [--keep] [--profile DIR] [--dump DIR]
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { AdminApi } from '../client/AdminApi.js';
import * as H from '../protocol/header/broker.js';
import { RequestCode } from '../protocol/remoting/RequestCode.js';
import { intOption, isMain } from './args.js';
import { parseConsumerArgs, runConsumer } from './consumer.js';
import { percentile } from './load/machine.js';
import { freePort } from './load/ports.js';
import { startBootingProcess, stopProcesses, waitForMaster } from './load/processes.js';
import { parseProducerArgs, runProducer } from './producer.js';

const self = fileURLToPath(import.meta.url);
const CLUSTER = 'ScrapeCluster';
const BROKER_NAME = 'ScrapeGroup00';
const TOPIC = 'ScrapeCost';
const CONSUMER_GROUP = 'ScrapeCostCG';
/** clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux) */
const USER_HZ = 100;

interface Options {
  pairs: number;
  seconds: number;
  inflight: number;
  size: number;
  intervalMs: number;
  requests: number;
  json: boolean;
  keep: boolean;
  /** write a CPU profile of every broker here (node --cpu-prof) */
  profile: string | undefined;
  /** save each process's /metrics text here, after the warm-up */
  dump: string | undefined;
  /** producer messages per second at most (0: as fast as the group answers) */
  rate: number;
  /** pairs of seconds in the one-run phase: one second of each pair has scrapes, the other none */
  secondPairs: number;
  /** scrape rounds in each scraped second of that phase: more than one magnifies the effect to measure it */
  burst: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { pairs: 12, seconds: 5, inflight: 64, size: 1024, intervalMs: 1000, requests: 200, json: false, keep: false, profile: undefined, dump: undefined, rate: 0, secondPairs: 90, burst: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--pairs') o.pairs = intOption(argv[++i], 0, 100, '--pairs');
    else if (a === '--seconds') o.seconds = intOption(argv[++i], 2, 60, '--seconds');
    else if (a === '--inflight') o.inflight = intOption(argv[++i], 1, 1024, '--inflight');
    else if (a === '--size') o.size = intOption(argv[++i], 1, 4 * 1024 * 1024, '--size');
    else if (a === '--interval') o.intervalMs = intOption(argv[++i], 100, 60_000, '--interval');
    else if (a === '--requests') o.requests = intOption(argv[++i], 0, 10_000, '--requests');
    else if (a === '--json') o.json = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--profile') o.profile = path.resolve(String(argv[++i]));
    else if (a === '--dump') o.dump = path.resolve(String(argv[++i]));
    else if (a === '--rate') o.rate = intOption(argv[++i], 0, 10_000_000, '--rate');
    else if (a === '--second-pairs') o.secondPairs = intOption(argv[++i], 0, 1000, '--second-pairs');
    else if (a === '--burst') o.burst = intOption(argv[++i], 1, 20, '--burst');
    else throw new Error(`unknown option ${a}; use --pairs N --seconds S --inflight N --size B --interval MS --requests N --rate N --second-pairs N --burst N --json --keep --profile DIR --dump DIR`);
  }
  return o;
}

const median = (xs: readonly number[]): number => percentile(xs, 0.5);

// ---- the group under test ------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  httpPort: number;
}

class Group {
  readonly procs: Proc[] = [];
  namesrv = '';

  constructor(
    private readonly dir: string,
    private readonly nodeArgs: string[],
  ) {}

  private async spawn(name: string, script: string, conf: string, httpPort: number): Promise<void> {
    const file = path.join(this.dir, `${name}.conf`);
    fs.writeFileSync(file, conf);
    const child = await startBootingProcess(script, ['-c', file], path.join(this.dir, `${name}.log`), this.nodeArgs);
    this.procs.push({ name, child, httpPort });
  }

  async start(): Promise<void> {
    const nsPort = await freePort();
    this.namesrv = `127.0.0.1:${nsPort}`;
    const prom = async (): Promise<[string, number]> => {
      const port = await freePort();
      return [`metricsExporterType=PROM\nmetricsPromExporterHost=127.0.0.1\nmetricsPromExporterPort=${port}\n`, port];
    };
    const [nsProm, nsHttp] = await prom();
    await this.spawn('namesrv', 'server/cli/namesrvMain.js', `listenPort=${nsPort}\n${nsProm}`, nsHttp);
    const ids = ['n0', 'n1', 'n2'];
    const raftPorts = await Promise.all(ids.map(() => freePort()));
    const peers = ids.map((id, i) => `${id}-127.0.0.1:${raftPorts[i]}`).join(';');
    await Promise.all(
      ids.map(async (id) => {
        const [p, http] = await prom();
        const conf = [
          `brokerClusterName=${CLUSTER}`,
          `brokerName=${BROKER_NAME}`,
          `listenPort=${await freePort()}`,
          `namesrvAddr=${this.namesrv}`,
          'brokerIP1=127.0.0.1',
          `storePathRootDir=${path.join(this.dir, id)}`,
          'enableDLegerCommitLog=true',
          `dLegerGroup=${BROKER_NAME}`,
          `dLegerPeers=${peers}`,
          `dLegerSelfId=${id}`,
        ].join('\n');
        await this.spawn(`broker-${id}`, 'server/cli/brokerMain.js', `${conf}\n${p}`, http);
      }),
    );
    await waitForMaster(this.namesrv, BROKER_NAME);
  }

  /** Commits half of every queue for `group`, so that its lag gauges have uncommitted messages to look at. */
  async commitHalf(topic: string, consumerGroup: string, queues: number): Promise<void> {
    const admin = new AdminApi(this.namesrv);
    try {
      const master = (await admin.getClusterInfo()).brokerAddrTable.get(BROKER_NAME)?.brokerAddrs.get(0);
      if (!master) throw new Error(`${BROKER_NAME} has no master`);
      for (let queueId = 0; queueId < queues; queueId++) {
        const max = await admin.getMaxOffset(master, { topic, brokerName: BROKER_NAME, queueId });
        const header = H.UpdateConsumerOffsetRequestHeader.encode({ consumerGroup, topic, queueId, commitOffset: Math.floor(max / 2) });
        await admin.invokeBroker(master, RequestCode.UPDATE_CONSUMER_OFFSET, header);
      }
      await new Promise((r) => setTimeout(r, 500)); // the offsets reach the Raft log within 100 ms
    } finally {
      admin.close();
    }
  }

  get brokers(): Proc[] {
    return this.procs.filter((p) => p.name.startsWith('broker-'));
  }

  async stop(): Promise<void> {
    await stopProcesses(this.procs.map((p) => p.child));
  }

}

/** user + system CPU seconds of a process so far (Linux /proc); NaN elsewhere */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return NaN;
  }
}

// ---- scraping ------------------------------------------------------------------------------

/** kept-alive connections for every request of this process: a scraper keeps its connections too */
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** One GET, the body read to the end and dropped: [ms, bytes]. node:http, which costs a fraction of fetch's CPU. */
function timedGet(port: number, urlPath: string): Promise<[number, number]> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve([performance.now() - t0, bytes]) : reject(new Error(`${urlPath} on ${port}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The time a process spent producing /metrics so far, by its own count: [scrapes, seconds]. */
async function serverScrapeTotals(port: number): Promise<[number, number]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return [value('raftmq_http_metrics_scrapes_total'), value('raftmq_http_metrics_scrape_seconds_total')];
}

interface ScrapeTiming {
  name: string;
  bytes: number;
  /** client-side ms per /metrics request, sequential, on the idle group */
  p50Ms: number;
  p90Ms: number;
  /** the same for /health: what HTTP and loopback cost alone */
  healthP50Ms: number;
  /** the process's own event-loop time per /metrics (collect and format), ms */
  serverMs: number;
  /** the process's CPU per /metrics, HTTP included: idle with and without scraping (ms) */
  cpuMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU per scrape, everything included (HTTP, formatting, GC): each process's CPU over `seconds`
 * of the idle group without scraping, then over `seconds` of `perSecond` scrapes a second.
 */
async function cpuPerScrape(procs: Proc[], seconds: number, perSecond: number): Promise<number[]> {
  const read = (): number[] => procs.map((p) => cpuSeconds(p.child.pid));
  const t0 = performance.now();
  const c0 = read();
  await sleep(seconds * 1000);
  const t1 = performance.now();
  const c1 = read();
  let rounds = 0;
  while (performance.now() - t1 < seconds * 1000) {
    const begun = performance.now();
    await Promise.all(procs.map((p) => timedGet(p.httpPort, '/metrics')));
    rounds++;
    await sleep(Math.max(0, 1000 / perSecond - (performance.now() - begun)));
  }
  const t2 = performance.now();
  const c2 = read();
  return procs.map((_, i) => {
    const idlePerMs = (c1[i]! - c0[i]!) / (t1 - t0);
    return ((c2[i]! - c1[i]! - idlePerMs * (t2 - t1)) * 1000) / rounds;
  });
}

async function timeScrapes(procs: Proc[], n: number): Promise<ScrapeTiming[]> {
  const cpu = await cpuPerScrape(procs, 10, 20);
  const out: ScrapeTiming[] = [];
  for (const p of procs) {
    const [s0, t0] = await serverScrapeTotals(p.httpPort);
    const ms: number[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const [t, b] = await timedGet(p.httpPort, '/metrics');
      ms.push(t);
      bytes = b;
    }
    const [s1, t1] = await serverScrapeTotals(p.httpPort);
    const health: number[] = [];
    for (let i = 0; i < n; i++) health.push((await timedGet(p.httpPort, '/health'))[0]);
    out.push({
      name: p.name,
      bytes,
      p50Ms: median(ms),
      p90Ms: percentile(ms, 0.9),
      healthP50Ms: median(health),
      serverMs: ((t1 - t0) / (s1 - s0)) * 1000,
      cpuMs: cpu[procs.indexOf(p)]!,
    });
  }
  return out;
}

/**
 * The scraper runs in its own process, as Prometheus would, from the start to the end of the
 * bench: on 'start' it fetches every port's /metrics once per interval (all at once), reading
 * each body to the end and dropping it; on 'stop' it stops and reports. One round at its own
 * start loads and warms the HTTP client, so that no run pays for it.
 */
async function scraperChild(ports: number[], intervalMs: number): Promise<void> {
  let ms: number[] = [];
  let failures = 0;
  let running: Promise<void> = Promise.resolve();
  const round = (): Promise<void> =>
    (running = Promise.all(
      ports.map((p) =>
        timedGet(p, '/metrics').then(
          ([t]) => void ms.push(t),
          () => void failures++,
        ),
      ),
    ).then(() => undefined));
  await round();
  let timer: NodeJS.Timeout | undefined;
  let cpu0 = process.cpuUsage();
  process.on('message', (m) => {
    if (m === 'start' && timer === undefined) {
      ms = [];
      failures = 0;
      cpu0 = process.cpuUsage();
      void round();
      timer = setInterval(() => void round(), intervalMs);
      process.send!('started');
    } else if (m === 'stop' && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
      void running.then(() => {
        const cpu = process.cpuUsage(cpu0);
        const report: ScraperReport = { requests: ms.length, failures, p50Ms: median(ms), p90Ms: percentile(ms, 0.9), cpuMs: (cpu.user + cpu.system) / 1000 };
        process.send!(report);
      });
    } else if (typeof m === 'object' && m !== null && 'at' in m) {
      // one round at each of these wall-clock times (ms since the epoch), then a report
      ms = [];
      failures = 0;
      cpu0 = process.cpuUsage();
      const at = (m as { at: number[] }).at;
      let left = at.length;
      for (const t of at) {
        setTimeout(
          () =>
            void round().then(() => {
              if (--left > 0) return;
              const cpu = process.cpuUsage(cpu0);
              process.send!({ requests: ms.length, failures, p50Ms: median(ms), p90Ms: percentile(ms, 0.9), cpuMs: (cpu.user + cpu.system) / 1000 } satisfies ScraperReport);
            }),
          Math.max(0, t - Date.now()),
        );
      }
    } else if (m === 'exit') process.exit(0);
  });
  process.send!('ready');
}

interface ScraperReport {
  requests: number;
  failures: number;
  p50Ms: number;
  p90Ms: number;
  /** the scraper's own CPU from start to stop (ms) */
  cpuMs: number;
}

class Scraper {
  private constructor(private readonly child: ChildProcess) {}

  static async start(ports: number[], intervalMs: number): Promise<Scraper> {
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    const child = fork(self, ['--scraper-child', ports.join(','), String(intervalMs)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the scraper exited with ${code}`)));
    });
    return new Scraper(child);
  }

  private ask<T>(message: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the scraper did not answer '${message}' within 10 s`)), 10_000);
      this.child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      this.child.send(message);
    });
  }

  begin(): Promise<void> {
    return this.ask<string>('start').then(() => undefined);
  }

  end(): Promise<ScraperReport> {
    return this.ask<ScraperReport>('stop');
  }

  /** One round at each of these wall-clock times; resolves with the report after the last. */
  scheduled(at: number[]): Promise<ScraperReport> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as ScraperReport));
      this.child.send({ at });
    });
  }

  close(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send('exit');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    this.child.once('exit', () => clearTimeout(kill));
  }
}

// ---- the runs ------------------------------------------------------------------------------

interface Run {
  mode: 'off' | 'on';
  seconds: number;
  tps: number;
  sent: number;
  failed: number;
  /** CPU ms per 1000 messages sent: the three brokers, the name server and (on) the scraper */
  cpuMsPer1k: number;
  /** CPU ms per second of everything the load runs on: brokers, name server, this process (producer), the scraper */
  cpuMsPerSecond: number;
  /** the processes' own event-loop time per /metrics during the run (ms), "on" runs only */
  serverScrapeMs: number;
  scraper?: ScraperReport;
  loadAverage: number;
}

async function runOne(group: Group, o: Options, mode: 'off' | 'on', scraper: Scraper): Promise<Run> {
  const brokers = group.brokers;
  if (mode === 'on') await scraper.begin();
  const totals0 = mode === 'on' ? await Promise.all(brokers.map((b) => serverScrapeTotals(b.httpPort))) : [];
  const readCpu = (): number => group.procs.reduce((a, p) => a + cpuSeconds(p.child.pid), 0);
  const cpu0 = readCpu();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const s = await runProducer(
    parseProducerArgs(['-n', group.namesrv, '-t', TOPIC, '-s', String(o.size), '-w', String(o.inflight), '--duration', String(o.seconds), '--rate', String(o.rate), '-q']),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = readCpu() - cpu0;
  const self = process.cpuUsage(self0);
  const report = mode === 'on' ? await scraper.end() : undefined;
  let serverScrapeMs = NaN;
  if (mode === 'on') {
    // completed scrapes and their time: the first reading is among them, the last is not
    const totals1 = await Promise.all(brokers.map((b) => serverScrapeTotals(b.httpPort)));
    const scrapes = totals1.reduce((a, t, i) => a + t[0] - totals0[i]![0], 0);
    const secs = totals1.reduce((a, t, i) => a + t[1] - totals0[i]![1], 0);
    serverScrapeMs = scrapes > 0 ? (secs / scrapes) * 1000 : NaN;
  }
  const scraperMs = report?.cpuMs ?? 0;
  return {
    mode,
    seconds,
    tps: s.tps,
    sent: s.sent,
    failed: s.failed,
    cpuMsPer1k: s.sent > 0 ? ((cpu * 1000 + scraperMs) * 1000) / s.sent : NaN,
    cpuMsPerSecond: (cpu * 1000 + scraperMs + (self.user + self.system) / 1000) / seconds,
    serverScrapeMs,
    scraper: report,
    loadAverage: os.loadavg()[0]!,
  };
}

interface Pair {
  order: string;
  off: Run;
  on: Run;
  /** on / off throughput */
  ratio: number;
  /** on / off CPU per message */
  cpuRatio: number;
}

interface SecondPairs {
  pairs: number;
  /** scrape rounds in each scraped second */
  burst: number;
  /** per pair: throughput of the second with a scrape / the second without */
  ratios: number[];
  medianRatio: number;
  /** mean(on - off) / mean(off), with a 95 % interval from the spread of the differences */
  meanEffect: number;
  effectLow: number;
  effectHigh: number;
  medianTps: number;
  scraper: ScraperReport;
  loadBefore: number;
  loadAfter: number;
}

/**
 * One long producer run (runProducer's per-second rates) in pairs of seconds: in each pair one
 * second has a scrape of every process half-way through it, the other none, alternating which
 * (ABBA). Neighbouring seconds share the machine's state, so each pair compares one scrape
 * against none under the same conditions, and many pairs fit in a few minutes.
 */
async function secondPairs(group: Group, o: Options, scraper: Scraper): Promise<SecondPairs> {
  const n = o.secondPairs;
  const duration = 2 * n + 2; // second 0 (ramp-up) and the last one are not used
  const onSeconds: number[] = [];
  for (let k = 0; k < n; k++) onSeconds.push(1 + 2 * k + (k % 2 === 0 ? 0 : 1));
  const loadBefore = os.loadavg()[0]!;
  // runProducer's seconds start once its connections are open, a few ms after the call: a scrape
  // half-way through a second stays inside it
  const t0 = Date.now();
  const at: number[] = [];
  for (const sec of onSeconds) for (let i = 0; i < o.burst; i++) at.push(t0 + sec * 1000 + 100 + Math.floor((800 * (i + 0.5)) / o.burst));
  const report = scraper.scheduled(at);
  const s = await runProducer(
    parseProducerArgs(['-n', group.namesrv, '-t', TOPIC, '-s', String(o.size), '-w', String(o.inflight), '--duration', String(duration), '--rate', String(o.rate), '-q']),
  );
  const r = await report;
  const ratios: number[] = [];
  const diffs: number[] = [];
  const offs: number[] = [];
  for (const on of onSeconds) {
    const off = on % 2 === 1 ? on + 1 : on - 1;
    const a = s.perSecond[on];
    const b = s.perSecond[off];
    if (a === undefined || b === undefined || b === 0) continue;
    ratios.push(a / b);
    diffs.push(a - b);
    offs.push(b);
  }
  const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
  const md = mean(diffs);
  const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - md) ** 2, 0) / Math.max(1, diffs.length - 1));
  const half = (1.96 * sd) / Math.sqrt(diffs.length);
  const base = mean(offs);
  return {
    pairs: ratios.length,
    burst: o.burst,
    ratios,
    medianRatio: median(ratios),
    meanEffect: md / base,
    effectLow: (md - half) / base,
    effectHigh: (md + half) / base,
    medianTps: median(s.perSecond.slice(1, duration - 1)),
    scraper: r,
    loadBefore,
    loadAfter: os.loadavg()[0]!,
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmq-scrape-cost-'));
  if (o.profile) fs.mkdirSync(o.profile, { recursive: true });
  const group = new Group(root, o.profile ? ['--cpu-prof', `--cpu-prof-dir=${o.profile}`] : []);
  const loadBefore = os.loadavg();
  const say = (line: string): void => {
    if (!o.json) process.stdout.write(line + '\n');
  };
  const pairs: Pair[] = [];
  let idle: ScrapeTiming[] = [];
  let fine: SecondPairs | undefined;
  const started = Date.now();
  try {
    await group.start();
    // a topic, a warm-up (JIT, connections, the first segment), and a consumer group with
    // committed offsets, so that the lag gauges have something to compute at every scrape
    await runProducer(parseProducerArgs(['-n', group.namesrv, '-t', TOPIC, '--create', '8', '--cluster', CLUSTER, '-s', String(o.size), '-w', '16', '--duration', '3', '-q']));
    await runConsumer(parseConsumerArgs(['-n', group.namesrv, '-t', TOPIC, '-g', CONSUMER_GROUP, '--duration', '2', '-q']));
    await group.commitHalf(TOPIC, CONSUMER_GROUP, 8);
    if (o.dump) {
      fs.mkdirSync(o.dump, { recursive: true });
      for (const p of group.procs) fs.writeFileSync(path.join(o.dump, `${p.name}.prom`), await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text());
    }
    if (o.requests > 0) {
      idle = await timeScrapes(group.procs, o.requests);
      for (const t of idle) {
        say(
          `${t.name}: /metrics ${(t.bytes / 1024).toFixed(1)} KB, ${t.p50Ms.toFixed(2)} ms p50, ${t.p90Ms.toFixed(2)} ms p90 (client side, ${o.requests} sequential; /health ${t.healthP50Ms.toFixed(2)} ms p50); ` +
            `in the process: ${t.serverMs.toFixed(2)} ms of event loop, ${t.cpuMs.toFixed(2)} ms of CPU with HTTP`,
        );
      }
    }
    const scraper = o.pairs > 0 || o.secondPairs > 0 ? await Scraper.start(group.procs.map((p) => p.httpPort), o.intervalMs) : undefined;
    try {
      // one pair of the measured load, not counted: the first runs after the start run slow
      if (scraper) for (const mode of ['off', 'on'] as const) await runOne(group, o, mode, scraper);
      for (let i = 0; i < o.pairs; i++) {
        const order: Array<'off' | 'on'> = i % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
        const runs: Partial<Record<'off' | 'on', Run>> = {};
        for (const mode of order) runs[mode] = await runOne(group, o, mode, scraper!);
        const off = runs.off!;
        const on = runs.on!;
        const p: Pair = { order: order.join('/'), off, on, ratio: on.tps / off.tps, cpuRatio: on.cpuMsPer1k / off.cpuMsPer1k };
        pairs.push(p);
        say(
          `pair ${String(i + 1).padStart(2)} (${p.order.padEnd(6)}): off ${Math.round(off.tps)}/s, on ${Math.round(on.tps)}/s, ratio ${p.ratio.toFixed(3)}; ` +
            `CPU per 1k msgs off ${off.cpuMsPer1k.toFixed(0)} ms, on ${on.cpuMsPer1k.toFixed(0)} ms (x${p.cpuRatio.toFixed(3)}); ` +
            `scrape ${on.serverScrapeMs.toFixed(2)} ms in the broker, ${on.scraper?.p50Ms.toFixed(1)} ms p50 at the scraper; load ${on.loadAverage.toFixed(1)}`,
        );
      }
      if (scraper && o.secondPairs > 0) fine = await secondPairs(group, o, scraper);
    } finally {
      scraper?.close();
    }
  } finally {
    await group.stop();
    if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
  }
  const loadAfter = os.loadavg();
  const ratios = pairs.map((p) => p.ratio);
  const cpuRatios = pairs.map((p) => p.cpuRatio);
  // What the scrape's CPU, all of it (every process's scrape measured idle, HTTP included, and
  // the scraper's own), is of the CPU the load uses: the throughput it takes when CPU is the limit.
  const scrapesPerSecond = 1000 / o.intervalMs;
  const processesMsPerSecond = idle.reduce((a, t) => a + t.cpuMs, 0) * scrapesPerSecond;
  const scraperMsPerSecond = median(pairs.map((p) => (p.on.scraper?.cpuMs ?? NaN) / p.on.seconds));
  const loadMsPerSecond = median(pairs.map((p) => p.off.cpuMsPerSecond));
  const summary = {
    machine: { cpus: os.cpus().length, loadBefore, loadAfter },
    options: { ...o, profile: o.profile ?? null, dump: o.dump ?? null },
    minutes: (Date.now() - started) / 60_000,
    idle,
    pairs: pairs.map((p) => ({
      order: p.order,
      offTps: p.off.tps,
      onTps: p.on.tps,
      ratio: p.ratio,
      offCpuMsPer1k: p.off.cpuMsPer1k,
      onCpuMsPer1k: p.on.cpuMsPer1k,
      cpuRatio: p.cpuRatio,
      serverScrapeMs: p.on.serverScrapeMs,
      scraperCpuMs: p.on.scraper?.cpuMs,
      failed: p.off.failed + p.on.failed,
      loadAverage: p.on.loadAverage,
    })),
    medianOffTps: median(pairs.map((p) => p.off.tps)),
    medianOnTps: median(pairs.map((p) => p.on.tps)),
    medianRatio: median(ratios),
    ratioP25: percentile(ratios, 0.25),
    ratioP75: percentile(ratios, 0.75),
    pairsOnFaster: ratios.filter((r) => r > 1).length,
    medianCpuRatio: median(cpuRatios),
    cpuRatioP25: percentile(cpuRatios, 0.25),
    cpuRatioP75: percentile(cpuRatios, 0.75),
    medianServerScrapeMs: median(pairs.map((p) => p.on.serverScrapeMs)),
    cpuEstimate: { processesMsPerSecond, scraperMsPerSecond, loadMsPerSecond, share: (processesMsPerSecond + scraperMsPerSecond) / loadMsPerSecond },
    secondPairs: fine,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const pct = (r: number): string => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)} %`;
  if (fine) {
    const b = fine.burst;
    say(
      `\none run of ${2 * fine.pairs + 2} s in ${fine.pairs} pairs of seconds, ${b} scrape round${b > 1 ? 's' : ''} in one second of each pair (median ${Math.round(fine.medianTps)}/s; ` +
        `load average ${fine.loadBefore.toFixed(1)} before, ${fine.loadAfter.toFixed(1)} after): on/off ratio median ${fine.medianRatio.toFixed(3)} (${pct(fine.medianRatio)}), ` +
        `quartiles ${percentile(fine.ratios, 0.25).toFixed(3)}..${percentile(fine.ratios, 0.75).toFixed(3)}; ` +
        `mean effect ${(fine.meanEffect * 100).toFixed(2)} %, 95 % interval ${(fine.effectLow * 100).toFixed(2)}..${(fine.effectHigh * 100).toFixed(2)} %` +
        (b > 1 ? `; per scrape round a second (effect / ${b}): ${((fine.meanEffect * 100) / b).toFixed(2)} % (${((fine.effectLow * 100) / b).toFixed(2)}..${((fine.effectHigh * 100) / b).toFixed(2)} %)` : '') +
        `; scraper ${fine.scraper.requests} requests, ${fine.scraper.failures} failed`,
    );
  }
  if (pairs.length === 0) return;
  say(
    `\n${pairs.length} pairs of ${o.seconds} s, ${o.inflight} sends in flight of ${o.size} B${o.rate > 0 ? ` at ${o.rate}/s at most` : ''}, scraping ${group.procs.length} processes every ${o.intervalMs} ms; ` +
      `load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} before, ${loadAfter.map((x) => x.toFixed(1)).join(' ')} after, ${os.cpus().length} CPUs`,
  );
  say(`throughput: median off ${Math.round(summary.medianOffTps)}/s, on ${Math.round(summary.medianOnTps)}/s`);
  say(
    `on/off throughput ratio: median ${summary.medianRatio.toFixed(3)} (${pct(summary.medianRatio)}), quartiles ${summary.ratioP25.toFixed(3)}..${summary.ratioP75.toFixed(3)}, ` +
      `"on" faster in ${summary.pairsOnFaster} of ${pairs.length} pairs`,
  );
  say(`on/off CPU per message (brokers, name server, scraper): median ${summary.medianCpuRatio.toFixed(3)} (${pct(summary.medianCpuRatio)}), quartiles ${summary.cpuRatioP25.toFixed(3)}..${summary.cpuRatioP75.toFixed(3)}`);
  say(`scrape time in the broker under load: median ${summary.medianServerScrapeMs.toFixed(2)} ms of event loop per /metrics`);
  say(
    `CPU of scraping: ${processesMsPerSecond.toFixed(1)} ms/s in the scraped processes (idle measure, HTTP included) + ${scraperMsPerSecond.toFixed(1)} ms/s in the scraper = ` +
      `${(summary.cpuEstimate.share * 100).toFixed(2)} % of the ${loadMsPerSecond.toFixed(0)} ms/s of CPU the load uses ("off" runs)`,
  );
}

if (isMain(import.meta.url)) {
  if (process.argv[2] === '--scraper-child') {
    void scraperChild(String(process.argv[3]).split(',').map(Number), Number(process.argv[4]));
  } else {
    main().catch((e: unknown) => {
      process.stderr.write(`scrapeCost: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    });
  }
}
