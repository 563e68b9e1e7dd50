// A child process that drives ali-ons (the npm RocketMQ remoting client) for end-to-end tests.
// ali-ons keeps sleeping loops and an inner producer alive after close(), so it must not run in
// the tap process: this runner takes JSON commands on stdin, one per line, writes JSON events
// on stdout, one per line, and exits when told (see OnsCommand / OnsEvent in ons.ts).
import { createRequire } from 'node:module';
import readline from 'node:readline';
import type { OnsCommand, OnsConsumeCommand, OnsEvent, OnsMessageSpec, OnsProcessOptions, OnsProduceCommand } from './ons.js';

const require = createRequire(import.meta.url);
// ali-ons ships no types; its producer and consumer are used as `any` in this file only.
const ons = require('ali-ons') as { Producer: new (o: object) => any; Consumer: new (o: object) => any; Message: new (topic: string, tags: string | null, body: Buffer) => any };

interface ConsumedMessage {
  topic: string;
  tags?: string;
  keys?: string;
  msgId: string;
  reconsumeTimes: number;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  body: Buffer;
  properties: Record<string, string>;
}

function emit(e: OnsEvent): void {
  process.stdout.write(JSON.stringify(e) + '\n');
}

/** warnings and errors of ali-ons go to the test as log events (stdout carries only events) */
const logger = {
  info: (): void => undefined,
  debug: (): void => undefined,
  warn: (...args: unknown[]): void => emit({ ev: 'log', level: 'warn', text: args.map(String).join(' ') }),
  error: (...args: unknown[]): void => emit({ ev: 'log', level: 'error', text: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') }),
};

/** intervals of the MQClient, which the first producer or consumer of the process creates */
const processOptions = JSON.parse(process.argv[2] ?? '{}') as Omit<OnsProcessOptions, 'name'>;

function clientOptions(nameSrv: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  // httpclient is required even with nameSrv (it is only used for Aliyun's address service)
  return { nameSrv, httpclient: {}, clientIP: '127.0.0.1', logger, ...processOptions, ...extra };
}

function bodyOf(m: OnsMessageSpec): Buffer {
  if (m.bodyBase64 !== undefined) return Buffer.from(m.bodyBase64, 'base64');
  return Buffer.from(m.body ?? '', 'utf8');
}

const producers = new Map<string, Promise<any>>();
const consumers = new Map<string, any>();

function producerFor(nameSrv: string, group: string): Promise<any> {
  let p = producers.get(group);
  if (!p) {
    p = (async () => {
      const producer = new ons.Producer(clientOptions(nameSrv, { producerGroup: group }));
      producer.on('error', (e: Error) => logger.error(`producer ${group}: ${e.message}`));
      // send() swallows the error of each attempt and throws "Send [n] times, still failed": keep it
      const attempt = producer.sendKernelImpl.bind(producer) as (...a: unknown[]) => Promise<unknown>;
      producer.sendKernelImpl = async (...a: unknown[]) => {
        try {
          return await attempt(...a);
        } catch (e) {
          const err = e as Error & { code?: number };
          logger.error(`producer ${group}: send attempt failed: ${err.name} code ${String(err.code)} ${err.message}`);
          throw e;
        }
      };
      await producer.ready();
      return producer;
    })();
    producers.set(group, p);
  }
  return p;
}

async function produce(c: OnsProduceCommand): Promise<void> {
  const producer = await producerFor(c.nameSrv, c.producerGroup);
  const started = Date.now();
  const sent = [];
  for (const m of c.messages) {
    const msg = new ons.Message(c.topic, m.tags ?? null, bodyOf(m));
    if (m.keys && m.keys.length > 0) msg.keys = m.keys;
    if (m.delayLevel !== undefined) msg.delayTimeLevel = m.delayLevel;
    const r = await producer.send(msg);
    sent.push({ msgId: String(r.msgId), queueId: Number(r.messageQueue.queueId), queueOffset: Number(r.queueOffset), sendStatus: String(r.sendStatus) });
  }
  emit({ ev: 'done', id: c.id, sent, elapsedMs: Date.now() - started });
}

async function consume(c: OnsConsumeCommand): Promise<void> {
  if (consumers.has(c.group)) throw new Error(`consumer group ${c.group} already runs in this process`);
  const consumer = new ons.Consumer(
    clientOptions(c.nameSrv, {
      consumerGroup: c.group,
      ...(c.consumeFromWhere ? { consumeFromWhere: c.consumeFromWhere } : {}),
      ...(c.maxReconsumeTimes !== undefined ? { maxReconsumeTimes: c.maxReconsumeTimes } : {}),
    }),
  );
  consumer.on('error', (e: Error) => logger.error(`consumer ${c.group}: ${e.message}`));
  consumers.set(c.group, consumer);
  const deliveries = new Map<string, number>();
  // ali-ons calls the handler with the queue for its own topic, and with the message alone for
  // messages from %RETRY%<group> (whose topic it has reset to the original one)
  consumer.subscribe(c.topic, c.expression, async (msg: ConsumedMessage, mq?: { topic: string }) => {
    const key = (msg.keys ?? '').split(' ')[0] ?? '';
    const n = (deliveries.get(key) ?? 0) + 1;
    deliveries.set(key, n);
    const fail = key !== '' && n <= (c.failTimes?.[key] ?? 0);
    emit({
      ev: 'msg',
      group: c.group,
      topic: msg.topic,
      queueTopic: mq ? mq.topic : `%RETRY%${c.group}`,
      tags: msg.tags ?? null,
      keys: msg.keys ?? null,
      msgId: msg.msgId,
      reconsumeTimes: msg.reconsumeTimes,
      queueId: msg.queueId,
      queueOffset: msg.queueOffset,
      bodyBase64: msg.body.toString('base64'),
      properties: msg.properties,
      failed: fail,
      at: Date.now(),
    });
    if (fail) throw new Error(`handler fails on purpose (delivery ${n} of ${key})`);
  });
  await consumer.ready();
  emit({ ev: 'done', id: c.id });
}

function queuesOf(group: string, topic: string): Array<{ topic: string; queueId: number }> {
  const consumer = consumers.get(group);
  if (!consumer) throw new Error(`no consumer of group ${group}`);
  const out: Array<{ topic: string; queueId: number }> = [];
  for (const { messageQueue } of consumer.processQueueTable.values()) {
    if (messageQueue.topic === topic) out.push({ topic: messageQueue.topic, queueId: Number(messageQueue.queueId) });
  }
  return out.sort((a, b) => a.queueId - b.queueId);
}

async function run(c: OnsCommand): Promise<void> {
  switch (c.op) {
    case 'produce':
      return produce(c);
    case 'consume':
      return consume(c);
    case 'queues':
      emit({ ev: 'done', id: c.id, queues: queuesOf(c.group, c.topic) });
      return;
    case 'closeConsumer': {
      const consumer = consumers.get(c.group);
      if (!consumer) throw new Error(`no consumer of group ${c.group}`);
      consumers.delete(c.group);
      await consumer.close();
      emit({ ev: 'done', id: c.id });
      return;
    }
    case 'exit':
      // ali-ons' timers and inner producer would keep the process alive for minutes
      process.stdout.write('', () => process.exit(0));
      return;
  }
}

process.on('unhandledRejection', (e) => logger.error(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  let c: OnsCommand;
  try {
    c = JSON.parse(line) as OnsCommand;
  } catch {
    logger.error(`not a JSON command: ${line.slice(0, 200)}`);
    return;
  }
  run(c).catch((e: unknown) => emit({ ev: 'error', id: 'id' in c ? c.id : 0, message: (e as Error)?.stack ?? String(e) }));
});
// the test process went away: do not linger
process.stdin.on('end', () => process.exit(0));
emit({ ev: 'started', pid: process.pid });
