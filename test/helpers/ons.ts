// ali-ons for end-to-end tests, in a child process (onsRunner.ts) that is killed at teardown:
// produce, consume with a handler that fails on purpose for chosen keys, read the queues a
// consumer holds, close a consumer, and wait for received messages with a bounded timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Test } from 'tap';
import { projectRoot } from './fixtures.js';

export interface OnsMessageSpec {
  tags?: string;
  keys?: string[];
  /** utf8 body; or bodyBase64 for bytes */
  body?: string;
  bodyBase64?: string;
  delayLevel?: number;
}

interface Base {
  id: number;
  nameSrv: string;
}
export interface OnsProduceCommand extends Base {
  op: 'produce';
  topic: string;
  producerGroup: string;
  messages: OnsMessageSpec[];
}
export interface OnsConsumeCommand extends Base {
  op: 'consume';
  group: string;
  topic: string;
  /** '*' or 'TagA || TagB' */
  expression: string;
  consumeFromWhere?: 'CONSUME_FROM_LAST_OFFSET' | 'CONSUME_FROM_FIRST_OFFSET' | 'CONSUME_FROM_TIMESTAMP';
  maxReconsumeTimes?: number;
  /** first key of a message -> how many deliveries of it the handler fails */
  failTimes?: Record<string, number>;
}

/** Options of the one MQClient all producers and consumers of a runner share (ali-ons keys it by client id). */
export interface OnsProcessOptions {
  name?: string;
  /** ms between rebalances (ali-ons' default 10 s) */
  rebalanceInterval?: number;
  /** ms between offset commits (ali-ons' default 5 s) */
  persistConsumerOffsetInterval?: number;
  /** ms between heartbeats (ali-ons' default 30 s) */
  heartbeatBrokerInterval?: number;
  /** ms between route look-ups at the name server (ali-ons' default 30 s; its option name is spelled so) */
  pollNameServerInteval?: number;
}
export type OnsCommand =
  | OnsProduceCommand
  | OnsConsumeCommand
  | { op: 'queues'; id: number; group: string; topic: string }
  | { op: 'closeConsumer'; id: number; group: string }
  | { op: 'exit' };

export interface OnsSent {
  msgId: string;
  queueId: number;
  queueOffset: number;
  sendStatus: string;
}

export interface OnsReceivedEvent {
  ev: 'msg';
  group: string;
  /** the message's topic as the handler sees it (retries are reset to the original topic) */
  topic: string;
  /** the topic of the queue it was pulled from (%RETRY%<group> for retries) */
  queueTopic: string;
  tags: string | null;
  keys: string | null;
  msgId: string;
  reconsumeTimes: number;
  queueId: number;
  queueOffset: number;
  bodyBase64: string;
  properties: Record<string, string>;
  /** the handler threw for this delivery */
  failed: boolean;
  at: number;
}

export type OnsEvent =
  | { ev: 'started'; pid: number }
  | { ev: 'done'; id: number; sent?: OnsSent[]; elapsedMs?: number; queues?: Array<{ topic: string; queueId: number }> }
  | { ev: 'error'; id: number; message: string }
  | { ev: 'log'; level: 'warn' | 'error'; text: string }
  | OnsReceivedEvent;

export interface OnsReceived extends Omit<OnsReceivedEvent, 'ev' | 'bodyBase64'> {
  body: Buffer;
}

type CommandBody<C> = C extends { id: number } ? Omit<C, 'id' | 'nameSrv'> : never;
type ConsumeOptions = Omit<OnsConsumeCommand, 'id' | 'nameSrv' | 'op'>;

const RUNNER = path.join(projectRoot, 'dist', 'test', 'helpers', 'onsRunner.js');

/** One ali-ons process (one client id: 127.0.0.1@pid). */
export class OnsClient {
  readonly received: OnsReceived[] = [];
  readonly logs: string[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (e: OnsEvent) => void; reject: (e: Error) => void }>();
  private waiters: Array<() => void> = [];
  private exited = false;

  private constructor(
    readonly child: ChildProcess,
    readonly nameSrv: string,
    readonly name: string,
  ) {}

  /** Spawns the runner; it is killed at the end of `t`. */
  static async start(t: Test, nameSrv: string, opts: OnsProcessOptions = {}): Promise<OnsClient> {
    const { name = 'ons', ...clientOptions } = opts;
    // NODE_OPTIONS='' keeps tap's loader hooks out of the child
    const child = spawn(process.execPath, [RUNNER, JSON.stringify(clientOptions)], { cwd: projectRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const c = new OnsClient(child, nameSrv, name);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: runner did not start within 10 s; ${c.logs.join('\n')}`)), 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name}: runner exited with ${code}; ${c.logs.join('\n')}`));
      });
      c.onStarted = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    child.once('exit', () => {
      c.exited = true;
      for (const p of c.pending.values()) p.reject(new Error(`${name}: runner exited; ${c.logs.slice(-20).join('\n')}`));
      c.pending.clear();
      c.wake();
    });
    child.stderr?.on('data', (d: Buffer) => c.logs.push(d.toString().trimEnd()));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => c.onLine(line));
    await started;
    return c;
  }

  private onStarted: () => void = () => undefined;

  private onLine(line: string): void {
    let e: OnsEvent;
    try {
      e = JSON.parse(line) as OnsEvent;
    } catch {
      this.logs.push(`stdout: ${line}`);
      return;
    }
    switch (e.ev) {
      case 'started':
        this.onStarted();
        return;
      case 'log':
        this.logs.push(`${e.level}: ${e.text}`);
        return;
      case 'msg': {
        const { ev: _ev, bodyBase64, ...rest } = e;
        this.received.push({ ...rest, body: Buffer.from(bodyBase64, 'base64') });
        this.wake();
        return;
      }
      case 'done':
      case 'error': {
        const p = this.pending.get(e.id);
        this.pending.delete(e.id);
        if (!p) return;
        if (e.ev === 'done') p.resolve(e);
        else p.reject(new Error(`${this.name}: ${e.message}\nrecent logs:\n${this.logs.slice(-20).join('\n')}`));
      }
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private send<C extends OnsCommand>(cmd: CommandBody<C>, timeoutMs: number): Promise<Extract<OnsEvent, { ev: 'done' }>> {
    const id = this.nextId++;
    const full = { ...cmd, id, nameSrv: this.nameSrv };
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(`${this.name}: runner has exited`));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${String((cmd as { op: string }).op)} not done within ${timeoutMs} ms\nrecent logs:\n${this.logs.slice(-20).join('\n')}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as Extract<OnsEvent, { ev: 'done' }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(JSON.stringify(full) + '\n');
    });
  }

  /** Sends the messages one after the other; resolves with each send result and the time taken. */
  async produce(topic: string, producerGroup: string, messages: OnsMessageSpec[], timeoutMs = 30_000): Promise<{ sent: OnsSent[]; elapsedMs: number }> {
    const r = await this.send<OnsProduceCommand>({ op: 'produce', topic, producerGroup, messages }, timeoutMs);
    return { sent: r.sent ?? [], elapsedMs: r.elapsedMs ?? 0 };
  }

  /** Starts a push consumer; resolves once it is ready (route, heartbeat and first rebalance done). */
  async consume(opts: ConsumeOptions, timeoutMs = 15_000): Promise<void> {
    await this.send<OnsConsumeCommand>({ ...opts, op: 'consume' }, timeoutMs);
  }

  /** The queues of `topic` the group's consumer in this process holds now. */
  async queues(group: string, topic: string): Promise<number[]> {
    const r = await this.send<{ op: 'queues'; id: number; group: string; topic: string }>({ op: 'queues', group, topic }, 5000);
    return (r.queues ?? []).map((q) => q.queueId);
  }

  /** close(): commits offsets and unregisters from the broker. */
  async closeConsumer(group: string, timeoutMs = 10_000): Promise<void> {
    await this.send<{ op: 'closeConsumer'; id: number; group: string }>({ op: 'closeConsumer', group }, timeoutMs);
  }

  /** Resolves once `pred` holds for the messages received so far; rejects after timeoutMs. */
  async waitFor(what: string, pred: (received: OnsReceived[]) => boolean, timeoutMs: number): Promise<OnsReceived[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) {
        throw new Error(
          `${this.name}: ${what} not seen within ${timeoutMs} ms (${this.received.length} received${this.exited ? ', runner exited' : ''})\nrecent logs:\n${this.logs.slice(-20).join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Waits until `n` messages (of `pred`, all by default) have been received. */
  waitForCount(n: number, timeoutMs: number, pred: (m: OnsReceived) => boolean = () => true): Promise<OnsReceived[]> {
    return this.waitFor(`${n} messages`, (all) => all.filter(pred).length >= n, timeoutMs);
  }

  /** Tells the runner to exit and waits for it (ali-ons would otherwise linger). */
  async exit(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.write(JSON.stringify({ op: 'exit' }) + '\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
