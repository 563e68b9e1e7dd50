// bench/consumer: pulls a topic as fast as the broker serves it (from the first offset, or
// from the end), committing offsets every second; prints messages and MiB per second, and a
// summary (--json for machines). --pipeline N keeps up to N pulls in flight per queue: the
// next ones ask for the offsets a full batch would end at, and are dropped and asked again
// when an answer ends elsewhere (a short batch, a gap, the end of the queue). --drain stops each
// queue at the max offset it had at the start: the rate of draining a backlog, without idle
// seconds after it; with --repeat a drained queue starts again from its first offset until
// --duration is over: the steady rate of reading a backlog, however small the backlog is.
// Usage: node dist/bench/consumer.js -n 127.0.0.1:9876 -t BenchTopic [-g group] [--from first|last]
//        [--duration 10 | --count N] [--drain [--repeat]] [--batch 32] [--pipeline 2] [--json]
import { Command } from 'commander';
import { RemotingClient } from '../client/RemotingClient.js';
import * as H from '../protocol/header/broker.js';
import { createRequest, type RemotingCommand } from '../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../protocol/remoting/ResponseCode.js';
import { intOption, isMain } from './args.js';
import { resolveTopic } from './load/route.js';

interface Options {
  namesrv: string;
  topic: string;
  group: string;
  from: 'first' | 'last';
  duration: number;
  count: number;
  batch: number;
  pipeline: number;
  drain: boolean;
  repeat: boolean;
  json: boolean;
  quiet: boolean;
}

export interface ConsumerSummary {
  seconds: number;
  received: number;
  bytes: number;
  tps: number;
  /** messages received in each whole second */
  perSecond: number[];
  /** the median of perSecond; the overall rate when fewer than 3 whole seconds ran (a short drain) */
  medianTps: number;
  pulls: number;
  /** answers dropped because an earlier answer of the same queue ended elsewhere */
  dropped: number;
  /** queues drained to their end (with --repeat, each pass counts) */
  passes: number;
  errors: Record<string, number>;
  /** CPU time (user + system) of this process during the run, microseconds */
  cpuMicros: number;
}

export function parseConsumerArgs(argv: string[]): Options {
  const cmd = new Command('consumer')
    .requiredOption('-n, --namesrv <addr>', 'name server address')
    .option('-t, --topic <topic>', 'topic', 'BenchmarkTest')
    .option('-g, --group <group>', 'consumer group', 'BenchConsumerGroup')
    .option('--from <where>', 'first | last offset of each queue', 'first')
    .option('--duration <s>', 'run this many seconds', '10')
    .option('--count <n>', 'stop after this many messages (0 = no limit)', '0')
    .option('--batch <n>', 'messages per pull (maxMsgNums)', '32')
    .option('--pipeline <n>', 'pulls in flight per queue', '2')
    .option('--drain', 'stop each queue at the max offset it had at the start', false)
    .option('--repeat', 'with --drain: read a drained queue again from its first offset until --duration is over', false)
    .option('--json', 'print the summary as JSON', false)
    .option('-q, --quiet', 'no per-second lines', false)
    .exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, string | boolean>>();
  const from = String(o.from);
  if (from !== 'first' && from !== 'last') throw new Error('--from must be first or last');
  if (o.repeat === true && (o.drain !== true || from !== 'first')) throw new Error('--repeat needs --drain and --from first');
  return {
    namesrv: String(o.namesrv),
    topic: String(o.topic),
    group: String(o.group),
    from,
    duration: intOption(String(o.duration), 1, 3600, '--duration'),
    count: intOption(String(o.count), 0, 1_000_000_000, '--count'),
    batch: intOption(String(o.batch), 1, 1024, '--batch'),
    pipeline: intOption(String(o.pipeline), 1, 64, '--pipeline'),
    drain: o.drain === true,
    repeat: o.repeat === true,
    json: o.json === true,
    quiet: o.quiet === true,
  };
}

/** Records in a pull body, counted by their TOTALSIZE fields without decoding them. */
function countRecords(body: Buffer | undefined): number {
  if (!body) return 0;
  let n = 0;
  for (let p = 0; p + 4 <= body.length; ) {
    const size = body.readInt32BE(p);
    if (size <= 0) break;
    p += size;
    n++;
  }
  return n;
}

export async function runConsumer(o: Options): Promise<ConsumerSummary> {
  const queues = (await resolveTopic(o.namesrv, o.topic)).read;
  const client = new RemotingClient();
  const errors: Record<string, number> = {};
  let received = 0;
  let bytes = 0;
  let pulls = 0;
  let dropped = 0;
  let passes = 0;
  let secondReceived = 0;
  let secondBytes = 0;
  const perSecond: number[] = [];
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + o.duration * 1000;
  const done = (): boolean => (o.count > 0 && received >= o.count) || Date.now() >= deadline;
  const offsets = new Map<string, { addr: string; queueId: number; offset: number }>();

  const ticker = setInterval(() => {
    perSecond.push(secondReceived);
    if (!o.quiet && !o.json) {
      process.stdout.write(
        `${new Date().toISOString().slice(11, 19)} consume tps ${secondReceived}  ${(secondBytes / 1048576).toFixed(1)} MiB/s  total ${received}\n`,
      );
    }
    secondReceived = 0;
    secondBytes = 0;
    // offsets commit once a second, oneway, as the Java consumer does every 5 s
    for (const q of offsets.values()) {
      const ext = H.UpdateConsumerOffsetRequestHeader.encode({ consumerGroup: o.group, topic: o.topic, queueId: q.queueId, commitOffset: q.offset });
      void client.invokeOneway(q.addr, createRequest({ code: RequestCode.UPDATE_CONSUMER_OFFSET, extFields: ext })).catch(() => undefined);
    }
  }, 1000);

  const pull = (addr: string, queueId: number, offset: number): Promise<RemotingCommand> => {
    const ext = H.PullMessageRequestHeader.encode({
      consumerGroup: o.group,
      topic: o.topic,
      queueId,
      queueOffset: offset,
      maxMsgNums: o.batch,
      sysFlag: 0x2 | 0x4, // suspend, subscription in the request
      commitOffset: 0,
      suspendTimeoutMillis: 1000,
      subscription: '*',
      subVersion: 0,
    });
    pulls++;
    return client.invoke(addr, createRequest({ code: RequestCode.PULL_MESSAGE, extFields: ext }), 5000);
  };

  const maxOffset = async (addr: string, queueId: number): Promise<number> => {
    const res = await client.invoke(addr, createRequest({ code: RequestCode.GET_MAX_OFFSET, extFields: H.GetMaxOffsetRequestHeader.encode({ topic: o.topic, queueId }) }));
    return Number(res.extFields?.offset ?? 0);
  };

  const loop = async (addr: string, queueId: number): Promise<void> => {
    const end = o.drain ? await maxOffset(addr, queueId) : Number.POSITIVE_INFINITY;
    let offset = o.from === 'last' ? (o.drain ? end : await maxOffset(addr, queueId)) : 0;
    const key = `${addr}/${queueId}`;
    offsets.set(key, { addr, queueId, offset });
    // pulls in flight, oldest first; each asked for `at`
    const inFlight: Array<{ at: number; answer: Promise<RemotingCommand> }> = [];
    // full batches in a row decide how far ahead to ask: one short answer falls back to one pull
    let depth = 1;
    for (;;) {
      if (done()) break;
      if (offset >= end) {
        passes++;
        if (!o.repeat || end === 0) break;
        // asks still out are for offsets before the end: let them come back uncounted, start over
        await Promise.allSettled(inFlight.splice(0).map((p) => p.answer));
        offset = 0;
        depth = 1;
        continue;
      }
      let ask = inFlight.length > 0 ? inFlight[inFlight.length - 1]!.at + o.batch : offset;
      while (inFlight.length < depth && ask < end) {
        const answer = pull(addr, queueId, ask);
        answer.catch(() => undefined); // awaited below; dropped ones must not go unhandled
        inFlight.push({ at: ask, answer });
        ask += o.batch;
      }
      const { at, answer } = inFlight.shift()!;
      try {
        const res = await answer;
        if (at !== offset) {
          dropped++; // asked ahead of an answer that ended elsewhere
          continue;
        }
        const next = Number(res.extFields?.nextBeginOffset ?? offset);
        if (res.code === ResponseCode.SUCCESS) {
          const n = countRecords(res.body);
          received += n;
          secondReceived += n;
          bytes += res.body?.length ?? 0;
          secondBytes += res.body?.length ?? 0;
        } else if (res.code !== ResponseCode.PULL_NOT_FOUND && res.code !== ResponseCode.PULL_RETRY_IMMEDIATELY && res.code !== ResponseCode.PULL_OFFSET_MOVED) {
          const k = `code ${res.code}`;
          errors[k] = (errors[k] ?? 0) + 1;
          await new Promise((r) => setTimeout(r, 100));
        }
        depth = res.code === ResponseCode.SUCCESS && next === at + o.batch ? Math.min(o.pipeline, depth + 1) : 1;
        offset = next;
        offsets.get(key)!.offset = offset;
      } catch (e) {
        if (at !== offset) {
          dropped++;
          continue;
        }
        const k = (e as Error).name;
        errors[k] = (errors[k] ?? 0) + 1;
        depth = 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // answers still on their way are not counted
    await Promise.allSettled(inFlight.map((p) => p.answer));
  };
  await Promise.all(queues.map((q) => loop(q.addr, q.queueId)));
  clearInterval(ticker);
  const seconds = (Date.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  client.close();
  const sorted = [...perSecond].sort((a, b) => a - b);
  return {
    seconds,
    received,
    bytes,
    tps: received / seconds,
    perSecond,
    // fewer than 3 whole seconds (a short drain): the rate over the run
    medianTps: sorted.length >= 3 ? sorted[Math.floor(sorted.length / 2)]! : received / seconds,
    pulls,
    dropped,
    passes,
    errors,
    cpuMicros: cpu.user + cpu.system,
  };
}

async function main(): Promise<void> {
  const o = parseConsumerArgs(process.argv.slice(2));
  const s = await runConsumer(o);
  if (o.json) {
    process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  process.stdout.write(
    `summary: ${s.received} messages (${(s.bytes / 1048576).toFixed(1)} MiB) in ${s.seconds.toFixed(1)} s; tps ${s.tps.toFixed(0)} (median of seconds ${s.medianTps}); ${s.pulls} pulls (${s.dropped} dropped)` +
      (Object.keys(s.errors).length > 0 ? `; errors ${JSON.stringify(s.errors)}` : '') +
      '\n',
  );
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`consumer: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
