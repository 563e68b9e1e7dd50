// bench/producer: RocketMQ's benchmark Producer for raftmq (or any RocketMQ broker), on the
// project's lean client. Prints one line per second (TPS, latency avg/p50/p99/max, failures)
// and a summary; --json prints the summary as JSON.
// Usage: node dist/bench/producer.js -n 127.0.0.1:9876 -t BenchTopic [-s 1024] [-w 64]
//        [--mode sync|async|oneway] [-b 1] [-k] [--no-uniq-key] [-c tags] [--duration 10 | --count N] [--create 8] [--json]
import { Command } from 'commander';
import { RemotingConnection } from '../client/RemotingConnection.js';
import { RemotingClient } from '../client/RemotingClient.js';
import { SendMessageRequestHeaderV2 } from '../protocol/header/broker.js';
import { MessageProperty, UniqKeyGenerator, encodeBatchBody, serializeProperties } from '../protocol/message/index.js';
import { createRequest, type RemotingCommand } from '../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../protocol/remoting/RequestCode.js';
import { intOption, isMain } from './args.js';
import { LatencyHistogram } from './load/LatencyHistogram.js';
import { resolveTopic, type QueueTarget } from './load/route.js';

interface Options {
  namesrv: string;
  topic: string;
  size: number;
  inflight: number;
  mode: 'sync' | 'async' | 'oneway';
  batch: number;
  keys: boolean;
  /** a UNIQ_KEY per message, made here as RocketMQ's clients do (--no-uniq-key: the broker makes it) */
  uniqKey: boolean;
  tags: number;
  duration: number;
  count: number;
  create: number;
  cluster: string;
  json: boolean;
  quiet: boolean;
  /** messages per second at most (0 = as fast as the broker answers) */
  rate: number;
  /** seconds of sends before the measured `duration`, left out of the figures (0 = none) */
  warmup: number;
}

export interface ProducerSummary {
  mode: string;
  size: number;
  inflight: number;
  batch: number;
  seconds: number;
  sent: number;
  failed: number;
  tps: number;
  /** per-second send rates, for the median */
  perSecond: number[];
  medianTps: number;
  latencyUs: { avg: number; p50: number; p99: number; max: number };
  errors: Record<string, number>;
  /** CPU time (user + system) of this process during the whole run (warm-up included), microseconds */
  cpuMicros: number;
  /** the warm-up's length and the messages it sent, not in the figures above */
  warmupSeconds: number;
  warmupSent: number;
}

export function parseProducerArgs(argv: string[]): Options {
  const cmd = new Command('producer')
    .requiredOption('-n, --namesrv <addr>', 'name server address')
    .option('-t, --topic <topic>', 'topic', 'BenchmarkTest')
    .option('-s, --size <bytes>', 'message body size', '1024')
    .option('-w, --inflight <n>', 'sends in flight (the Java tool\'s thread count)', '64')
    .option('--mode <mode>', 'sync | async | oneway', 'sync')
    .option('-b, --batch <n>', 'messages per SEND_BATCH_MESSAGE (1 = single sends)', '1')
    .option('-k, --keys', 'give every message a key', false)
    .option('--no-uniq-key', 'send without UNIQ_KEY (RocketMQ\'s clients always set it; the broker then makes one)')
    .option('-c, --tags <n>', 'number of distinct tags (0 = none)', '0')
    .option('--duration <s>', 'run this many seconds', '10')
    .option('--count <n>', 'stop after this many messages (0 = no limit)', '0')
    .option('--create <queues>', 'create the topic with this many queues first (0 = no)', '0')
    .option('--cluster <name>', 'cluster to create the topic in', 'DefaultCluster')
    .option('--json', 'print the summary as JSON', false)
    .option('-q, --quiet', 'no per-second lines', false)
    .option('--rate <n>', 'messages per second at most (0 = no limit)', '0')
    .option('--warmup <s>', 'send this many seconds first and leave them out of the figures (the tool\'s and the brokers\' code warms up)', '0')
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, string | boolean>>();
  const mode = String(o.mode);
  if (mode !== 'sync' && mode !== 'async' && mode !== 'oneway') throw new Error('--mode must be sync, async or oneway');
  return {
    namesrv: String(o.namesrv),
    topic: String(o.topic),
    size: intOption(String(o.size), 1, 4 * 1024 * 1024, '--size'),
    inflight: intOption(String(o.inflight), 1, 4096, '--inflight'),
    mode,
    batch: intOption(String(o.batch), 1, 1024, '--batch'),
    keys: o.keys === true,
    uniqKey: o.uniqKey !== false,
    tags: intOption(String(o.tags), 0, 1000, '--tags'),
    duration: intOption(String(o.duration), 1, 3600, '--duration'),
    count: intOption(String(o.count), 0, 1_000_000_000, '--count'),
    create: intOption(String(o.create), 0, 1024, '--create'),
    cluster: String(o.cluster),
    json: o.json === true,
    quiet: o.quiet === true,
    rate: intOption(String(o.rate), 0, 10_000_000, '--rate'),
    warmup: intOption(String(o.warmup), 0, 600, '--warmup'),
  };
}

export async function runProducer(o: Options): Promise<ProducerSummary> {
  const targets = (await resolveTopic(o.namesrv, o.topic, o.create > 0 ? { queues: o.create, cluster: o.cluster } : undefined)).write;
  if (targets.length === 0) throw new Error(`topic ${o.topic} has no writable queue`);
  const client = new RemotingClient({ maxPendingInvokes: 1 << 20 });
  const conns = new Map<string, RemotingConnection>();
  for (const t of targets) if (!conns.has(t.addr)) conns.set(t.addr, await client.connection(t.addr));
  const body = Buffer.alloc(o.size, 0x61);
  // the message id the Java client gives every message (MessageClientIDSetter): ip, pid, a
  // per-process value, then time in the month and a counter
  const uniq = new UniqKeyGenerator({ ip: '127.0.0.1', pid: process.pid, processValue: (Math.random() * 0x7fffffff) | 0 });
  const keyProps = (i: number): string => {
    const p: Array<[string, string]> = [];
    if (o.uniqKey) p.push([MessageProperty.UNIQ_KEY, uniq.next(Date.now())]);
    if (o.tags > 0) p.push(['TAGS', `Tag${i % o.tags}`]);
    if (o.keys) p.push(['KEYS', `k${i}`]);
    return serializeProperties(p);
  };
  let seq = 0;
  const request = (target: QueueTarget): { cmd: RemotingCommand; n: number } => {
    const n = o.batch;
    const first = seq;
    seq += n;
    const ext = SendMessageRequestHeaderV2.encode({
      a: 'BenchProducerGroup',
      b: o.topic,
      c: 'TBW102',
      d: 4,
      e: target.queueId,
      f: 0,
      g: Date.now(),
      h: 0,
      i: n === 1 ? keyProps(first) : '',
      j: 0,
      k: false,
      m: n > 1,
    });
    const payload = n === 1 ? body : encodeBatchBody(Array.from({ length: n }, (_, j) => ({ body, flag: 0, propertiesText: keyProps(first + j) })));
    return { cmd: createRequest({ code: n === 1 ? RequestCode.SEND_MESSAGE_V2 : RequestCode.SEND_BATCH_MESSAGE, extFields: ext, body: payload }), n };
  };

  const total = new LatencyHistogram();
  const second = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let sent = 0;
  let failed = 0;
  let secondSent = 0;
  let secondFailed = 0;
  const perSecond: number[] = [];
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + (o.warmup + o.duration) * 1000;
  // during the warm-up nothing is recorded; a send counts if it left after the warm-up
  let measuring = o.warmup === 0;
  let measuredFrom = start;
  let warmupSent = 0;
  let ticks = 0;
  const limitReached = (): boolean => (o.count > 0 && seq >= o.count) || Date.now() >= deadline;
  let rr = Math.floor(Math.random() * targets.length);
  const next = (): QueueTarget => targets[rr++ % targets.length]!;

  const ticker = setInterval(() => {
    ticks++;
    const warming = !measuring;
    if (measuring) perSecond.push(secondSent);
    if (!o.quiet && !o.json) {
      const us = (v: number): string => (v / 1000).toFixed(3);
      process.stdout.write(
        `${new Date().toISOString().slice(11, 19)} ${warming ? 'warmup ' : ''}send tps ${secondSent}  avg ${us(second.mean)} ms  p50 ${us(second.quantile(0.5))} ms  p99 ${us(second.quantile(0.99))} ms  max ${us(second.max)} ms  failed ${secondFailed}  total ${sent}\n`,
      );
    }
    secondSent = 0;
    secondFailed = 0;
    second.reset();
    if (warming && ticks >= o.warmup) {
      // the warm-up is over: start the figures afresh
      warmupSent = sent;
      sent = 0;
      failed = 0;
      total.reset();
      for (const k of Object.keys(errors)) delete errors[k];
      measuring = true;
      measuredFrom = Date.now();
    }
  }, 1000);

  // --rate: message k may leave no earlier than start + k / rate. A send takes its slots before it
  // waits: the in-flight loops then leave one after another. (Computing the due time from the
  // messages already sent let every waiting loop wake for the same slot, in bursts of up to
  // --inflight sends, which measured the bursts' queueing instead of the latency at that rate.)
  let paced = 0;
  const pace = async (): Promise<void> => {
    if (o.rate <= 0) return;
    const slot = paced;
    paced += o.batch;
    const due = start + (slot / o.rate) * 1000;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  };
  const loop = async (): Promise<void> => {
    while (!limitReached()) {
      await pace();
      if (limitReached()) break;
      const target = next();
      const conn = conns.get(target.addr)!;
      const { cmd, n } = request(target);
      if (o.mode === 'oneway') {
        conn.invokeOneway(cmd);
        sent += n;
        secondSent += n;
        // let the socket drain now and then so oneway cannot fill memory
        if (seq % 256 === 0) await new Promise((r) => setImmediate(r));
        continue;
      }
      const t0 = process.hrtime.bigint();
      const counted = measuring;
      try {
        const res = await conn.invoke(cmd, 10_000);
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        if (res.code === 0) {
          if (counted !== measuring) {
            warmupSent += n; // left during the warm-up, answered after it
            continue;
          }
          sent += n;
          secondSent += n;
          total.record(us);
          second.record(us);
        } else {
          failed += n;
          secondFailed += n;
          const k = `code ${res.code}`;
          errors[k] = (errors[k] ?? 0) + 1;
        }
      } catch (e) {
        failed += n;
        secondFailed += n;
        const k = (e as Error).name;
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  // sync and async differ only in the Java tool's threading; here both keep `inflight` sends outstanding
  await Promise.all(Array.from({ length: o.inflight }, loop));
  clearInterval(ticker);
  const seconds = (Date.now() - measuredFrom) / 1000;
  const cpu = process.cpuUsage(cpu0);
  client.close();
  const sorted = [...perSecond].sort((a, b) => a - b);
  return {
    mode: o.mode,
    size: o.size,
    inflight: o.inflight,
    batch: o.batch,
    seconds,
    sent,
    failed,
    tps: sent / seconds,
    perSecond,
    medianTps: sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)]! : sent / seconds,
    latencyUs: { avg: total.mean, p50: total.quantile(0.5), p99: total.quantile(0.99), max: total.max },
    errors,
    cpuMicros: cpu.user + cpu.system,
    warmupSeconds: o.warmup,
    warmupSent,
  };
}

async function main(): Promise<void> {
  const o = parseProducerArgs(process.argv.slice(2));
  const s = await runProducer(o);
  if (o.json) {
    process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  const ms = (v: number): string => (v / 1000).toFixed(3);
  process.stdout.write(
    `summary: ${s.sent} sent, ${s.failed} failed in ${s.seconds.toFixed(1)} s${s.warmupSeconds > 0 ? ` after a ${s.warmupSeconds} s warm-up (${s.warmupSent} sent)` : ''}; tps ${s.tps.toFixed(0)} (median of seconds ${s.medianTps}); ` +
      `latency avg ${ms(s.latencyUs.avg)} ms p50 ${ms(s.latencyUs.p50)} ms p99 ${ms(s.latencyUs.p99)} ms max ${ms(s.latencyUs.max)} ms` +
      (Object.keys(s.errors).length > 0 ? `; errors ${JSON.stringify(s.errors)}` : '') +
      '\n',
  );
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`producer: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
