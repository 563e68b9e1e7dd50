// bench/failover: how long a DLedger group is unavailable when its leader dies. Starts a name
// server and a 3-node group (processes, temporary folders), keeps a producer of the project's
// lean client sending with several sends in flight, and for each trial kill -9s the leader and
// measures (a) kill -> the name server's cluster info lists a new master (broker id 0), (b) kill
// -> the first send that succeeds through the new master. The producer refreshes its route from
// the name server as soon as a send fails. Between trials the killed node is restarted and the
// load waits until it has caught up. Prints p50/p99/max of both and the failed sends per trial,
// with the machine's load average.
// Usage: node dist/bench/failover.js [--trials 10] [--inflight 8] [--size 256] [--json] [--keep]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { AdminApi } from '../client/AdminApi.js';
import { GetMaxOffsetRequestHeader } from '../protocol/header/broker.js';
import { serializeProperties } from '../protocol/message/index.js';
import { RequestCode } from '../protocol/remoting/RequestCode.js';
import { intOption, isMain } from './args.js';
import { percentile } from './load/machine.js';
import { freePort } from './load/ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..');

/** What one send attempt ended with. */
export interface Attempt {
  key: string;
  addr: string;
  ok: boolean;
  /** the failure (response code or error) when not ok */
  error?: string;
  queueId: number;
  queueOffset?: number;
  start: number;
  end: number;
}

/**
 * A producer on the lean client for one broker group: it sends to the master the name server
 * routes (broker id 0) and, as soon as a send fails, asks the name server for the route again
 * (one refresh at a time, shared by the sends that failed together), so it moves to a new
 * master at once instead of after the 30 s route poll of the Java client.
 */
export class RouteFollowingProducer {
  readonly attempts: Attempt[] = [];
  private master: string | undefined;
  private refreshing: Promise<string | undefined> | undefined;
  private readonly admin: AdminApi;

  constructor(
    namesrvAddr: string,
    readonly topic: string,
    readonly brokerName: string,
    readonly queues: number,
    sendTimeoutMs = 3000,
  ) {
    this.admin = new AdminApi(namesrvAddr, sendTimeoutMs);
  }

  close(): void {
    this.admin.close();
  }

  get currentMaster(): string | undefined {
    return this.master;
  }

  /** The master of the topic's route now (coalesced: concurrent callers share one lookup). */
  refresh(): Promise<string | undefined> {
    this.refreshing ??= (async () => {
      try {
        const route = await this.admin.getTopicRoute(this.topic);
        this.master = route.brokerDatas.find((b) => b.brokerName === this.brokerName)?.brokerAddrs.get(0);
      } catch {
        this.master = undefined;
      } finally {
        this.refreshing = undefined;
      }
      return this.master;
    })();
    return this.refreshing;
  }

  /** One attempt to the current master; recorded in `attempts`. */
  async sendOnce(key: string, queueId: number, body: Buffer): Promise<Attempt> {
    const addr = this.master ?? (await this.refresh());
    const start = Date.now();
    const a: Attempt = { key, addr: addr ?? '', ok: false, queueId, start, end: start };
    if (!addr) {
      a.error = 'no master in the route';
    } else {
      try {
        const r = await this.admin.sendMessage(addr, {
          producerGroup: 'FailoverPG',
          topic: this.topic,
          queueId,
          body,
          properties: serializeProperties([['KEYS', key], ['WAIT', 'true']]),
          bornTimestamp: start,
        });
        a.ok = r.sendStatus === 'SEND_OK';
        a.queueOffset = r.queueOffset;
        if (!a.ok) a.error = r.sendStatus;
      } catch (e) {
        a.error = (e as Error).message.slice(0, 120);
      }
    }
    a.end = Date.now();
    this.attempts.push(a);
    if (!a.ok) {
      // the route may be stale: look it up again (and give a dead address a moment)
      const before = this.master;
      const now = await this.refresh();
      if (now === before || now === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    return a;
  }

  /** Sends until one attempt succeeds or `deadline` passes; returns the attempts of this message. */
  async send(key: string, queueId: number, body: Buffer, deadline: number): Promise<Attempt[]> {
    const mine: Attempt[] = [];
    for (;;) {
      const a = await this.sendOnce(key, queueId, body);
      mine.push(a);
      if (a.ok || Date.now() > deadline) return mine;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the bench

interface Options {
  trials: number;
  inflight: number;
  size: number;
  json: boolean;
  keep: boolean;
}

interface Trial {
  killed: string;
  next: string;
  routedMs: number;
  firstSendMs: number;
  /** sends that reached a broker (or tried to connect) and failed */
  failedSends: number;
  /** attempts not made because the route had no master */
  noRoute: number;
}

interface Node {
  id: string;
  port: number;
  conf: string;
  log: string;
  child?: ChildProcess;
}

function startProcess(script: string, args: string[], log: string): Promise<ChildProcess> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, [path.join(dist, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = fs.createWriteStream(log, { flags: 'a' });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s; see ${log}`)), 60_000);
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (/boot success/.test(text)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}; see ${log}`));
    });
  });
}

function stopProcess(c: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.kill('SIGKILL'), 10_000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill(signal);
  });
}

async function until<T>(what: string, timeoutMs: number, everyMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function runFailoverBench(o: Options): Promise<{ trials: Trial[]; load: number[] }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftmq-failover-'));
  const nsPort = await freePort();
  const ns = `127.0.0.1:${nsPort}`;
  fs.writeFileSync(path.join(root, 'namesrv.conf'), `listenPort=${nsPort}\n`);
  const TOPIC = 'FailoverTopic';
  const QUEUES = 4;
  const brokerName = 'RaftNode00';
  const ids = ['n0', 'n1', 'n2'];
  const raftPorts = await Promise.all(ids.map(() => freePort()));
  const peers = ids.map((id, i) => `${id}-127.0.0.1:${raftPorts[i]}`).join(';');
  const nodes: Node[] = [];
  for (const id of ids) {
    const port = await freePort();
    const conf = path.join(root, `broker-${id}.conf`);
    fs.writeFileSync(
      conf,
      [
        'brokerClusterName=RaftCluster',
        `brokerName=${brokerName}`,
        `listenPort=${port}`,
        `namesrvAddr=${ns}`,
        'brokerIP1=127.0.0.1',
        `storePathRootDir=${path.join(root, id)}`,
        'enableDLegerCommitLog=true',
        'dLegerGroup=RaftNode00',
        `dLegerPeers=${peers}`,
        `dLegerSelfId=${id}`,
      ].join('\n') + '\n',
    );
    nodes.push({ id, port, conf, log: path.join(root, `broker-${id}.log`) });
  }
  const addrOf = (n: Node): string => `127.0.0.1:${n.port}`;
  const admin = new AdminApi(ns, 3000);
  const load1: number[] = [];
  const trials: Trial[] = [];
  let nsChild: ChildProcess | undefined;
  let producer: RouteFollowingProducer | undefined;
  try {
    nsChild = await startProcess('server/cli/namesrvMain.js', ['-c', path.join(root, 'namesrv.conf')], path.join(root, 'namesrv.log'));
    await Promise.all(nodes.map(async (n) => (n.child = await startProcess('server/cli/brokerMain.js', ['-c', n.conf], n.log))));
    const masterAddr = async (): Promise<string | undefined> => (await admin.getClusterInfo()).brokerAddrTable.get(brokerName)?.brokerAddrs.get(0);
    const first = await until('a master', 60_000, 50, masterAddr);
    await admin.createTopic(first, {
      topicName: TOPIC,
      readQueueNums: QUEUES,
      writeQueueNums: QUEUES,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    });
    producer = new RouteFollowingProducer(ns, TOPIC, brokerName, QUEUES);
    await until('the topic route', 30_000, 100, async () => ((await producer!.refresh()) ? true : undefined));

    // the load: `inflight` workers, each sending one message after the other
    const body = Buffer.alloc(o.size, 0x62);
    let running = true;
    let seq = 0;
    const worker = async (): Promise<void> => {
      while (running) {
        const i = seq++;
        await producer!.sendOnce(`k${i}`, i % QUEUES, body);
      }
    };
    const maxOffsets = async (n: Node): Promise<string> => {
      const out: number[] = [];
      for (let q = 0; q < QUEUES; q++) {
        const res = await admin.invokeBroker(addrOf(n), RequestCode.GET_MAX_OFFSET, GetMaxOffsetRequestHeader.encode({ topic: TOPIC, queueId: q }));
        out.push(Number(res.extFields?.offset ?? -1));
      }
      return out.join(',');
    };

    for (let trial = 0; trial < o.trials; trial++) {
      running = true;
      const workers = Array.from({ length: o.inflight }, () => worker());
      // some load before the kill
      const warmFrom = producer.attempts.length;
      await until('sends under load', 30_000, 20, async () => (producer!.attempts.slice(warmFrom).filter((a) => a.ok).length >= 200 ? true : undefined));
      const leaderAddr = await until('the master', 30_000, 20, masterAddr);
      const leader = nodes.find((n) => addrOf(n) === leaderAddr)!;
      load1.push(os.loadavg()[0]!);
      const attemptsFrom = producer.attempts.length;
      const killedAt = Date.now();
      leader.child!.kill('SIGKILL');
      const routed = until('a new master in the cluster info', 60_000, 10, async () => {
        const m = await masterAddr();
        return m !== undefined && m !== leaderAddr ? { addr: m, at: Date.now() } : undefined;
      });
      const firstSend = until('a send through the new master', 60_000, 5, async () => {
        const a = producer!.attempts.slice(attemptsFrom).find((x) => x.ok && x.addr !== leaderAddr && x.start >= killedAt);
        return a ? a : undefined;
      });
      const [r, s] = await Promise.all([routed, firstSend]);
      // stop the load, count what failed around the failover
      running = false;
      await Promise.all(workers);
      const failures = producer.attempts.slice(attemptsFrom).filter((a) => !a.ok);
      const noRoute = failures.filter((a) => a.addr === '').length;
      const failedSends = failures.length - noRoute;
      trials.push({ killed: leader.id, next: nodes.find((n) => addrOf(n) === r.addr)?.id ?? r.addr, routedMs: r.at - killedAt, firstSendMs: s.end - killedAt, failedSends, noRoute });
      if (!o.json) {
        process.stdout.write(
          `trial ${trial + 1}: killed ${leader.id}, new master ${trials.at(-1)!.next}: routed ${r.at - killedAt} ms, first send ${s.end - killedAt} ms, failed sends ${failedSends} (+${noRoute} attempts held back: no master in the route), load ${os.loadavg()[0]!.toFixed(2)}\n`,
        );
      }
      // bring the killed node back and wait until its queues equal the master's
      await new Promise<void>((resolve) => (leader.child!.exitCode !== null || leader.child!.signalCode !== null ? resolve() : leader.child!.once('exit', () => resolve())));
      leader.child = await startProcess('server/cli/brokerMain.js', ['-c', leader.conf], leader.log);
      await until('the restarted node catches up', 60_000, 50, async () => {
        const m = nodes.find((n) => addrOf(n) === r.addr)!;
        const [a, b] = await Promise.all([maxOffsets(m), maxOffsets(leader)]);
        return a === b ? true : undefined;
      });
      await producer.refresh();
    }
    return { trials, load: load1 };
  } finally {
    producer?.close();
    admin.close();
    await Promise.all(nodes.map((n) => stopProcess(n.child)));
    await stopProcess(nsChild);
    if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
    else process.stdout.write(`kept ${root}\n`);
  }
}

function parseArgs(argv: string[]): Options {
  const cmd = new Command('failover')
    .option('--trials <n>', 'leader kills', '10')
    .option('-w, --inflight <n>', 'sends in flight', '8')
    .option('-s, --size <bytes>', 'message body size', '256')
    .option('--json', 'print the result as JSON', false)
    .option('--keep', 'keep the store and log folders', false)
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, string | boolean>>();
  return {
    trials: intOption(String(o.trials), 1, 1000, '--trials'),
    inflight: intOption(String(o.inflight), 1, 256, '--inflight'),
    size: intOption(String(o.size), 1, 4 * 1024 * 1024, '--size'),
    json: o.json === true,
    keep: o.keep === true,
  };
}

if (isMain(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const { trials, load } = await runFailoverBench(o);
  const routed = trials.map((t) => t.routedMs);
  const sent = trials.map((t) => t.firstSendMs);
  const failed = trials.map((t) => t.failedSends);
  const noRoute = trials.map((t) => t.noRoute);
  const row = (name: string, xs: number[], goal: string): string =>
    `| ${name} | ${percentile(xs, 0.5)} | ${percentile(xs, 0.99)} | ${Math.max(...xs)} | ${goal} |`;
  if (o.json) {
    process.stdout.write(JSON.stringify({ trials, loadavg1: load }) + '\n');
  } else {
    const [l1, l5, l15] = os.loadavg();
    process.stdout.write(
      [
        '',
        `bench/failover: ${trials.length} kill -9s of the leader of a 3-node group, ${o.inflight} sends in flight, ${o.size} B bodies, ${os.cpus().length} cores`,
        '',
        '| measure (ms after kill -9) | p50 | p99 | max | goal |',
        '| --- | --- | --- | --- | --- |',
        row('name server lists the new master', routed, 'p99 < 2000'),
        row('first send through the new master', sent, 'p99 < 2000'),
        row('failed sends per trial (count)', failed, '-'),
        row('attempts held back per trial: no master in the route (count)', noRoute, '-'),
        '',
        `failed sends in all: ${failed.reduce((a, b) => a + b, 0)} (a worker whose send fails refreshes the route and, while it has no master, retries every 20 ms); load average at the kills: ${Math.min(...load).toFixed(2)}..${Math.max(...load).toFixed(2)}; at the end: ${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)}`,
        '',
      ].join('\n'),
    );
  }
}
