// A small line protocol on a loopback port so that tests and bench/raft can drive a standalone
// node: propose, run a load loop inside the node, read the status. One request per line, one
// answer per line, answers carry the request id.
//   status                               -> status <role> <term> <leader|-> <commit> <applied> <last>
//   stats                                -> stats <key>=<value> ... (node and transport counters)
//   applied <id> <index>                 -> applied <id> <appliedIndex>, once this node applied up to index
//   propose <id> <count> <size>          -> ok <id> <firstIndex> <lastIndex> <firstPos> <micros>
//                                         | err <id> <CODE> <leaderId|-> <leaderAddress|->
//   load <id> <entries> <inflight> <size> <batch>
//                                        -> load <id> <committed> <elapsedMicros> <p50Micros> <p99Micros> <errors>
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { NotLeaderError } from './errors.js';
import type { RaftNode } from './RaftNode.js';

const MAX_LINE = 1024;
const MAX_BODY = 4 * 1024 * 1024;
const MAX_LOAD_ENTRIES = 100_000_000;
/** distinct bodies cycled through by the load loop */
const BODY_POOL = 64;
const MAX_CONNECTIONS = 64;
/** requests of one connection waiting for an answer */
const MAX_WAITING = 4096;
/** latency samples one load run keeps (the first ones) */
const MAX_SAMPLES = 1_000_000;

const waiting = new WeakMap<net.Socket, number>();

export class ControlServer {
  private readonly conns = new Set<net.Socket>();
  private readonly bodies = new Map<number, Buffer[]>();

  private constructor(
    private readonly node: RaftNode,
    private readonly server: net.Server,
  ) {}

  static async start(node: RaftNode, port: number): Promise<ControlServer> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const c = new ControlServer(node, server);
    server.on('connection', (s) => c.accept(s));
    return c;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(sock: net.Socket): void {
    if (this.conns.size >= MAX_CONNECTIONS) {
      sock.destroy();
      return;
    }
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.handle(sock, line);
      }
      if (buf.length > MAX_LINE) sock.destroy();
    });
  }

  private handle(sock: net.Socket, line: string): void {
    const [cmd, ...a] = line.split(/\s+/);
    const reply = (text: string): void => {
      waiting.set(sock, (waiting.get(sock) ?? 1) - 1);
      if (!sock.destroyed) sock.write(text + '\n');
    };
    const n0 = waiting.get(sock) ?? 0;
    if (n0 >= MAX_WAITING) {
      sock.destroy();
      return;
    }
    waiting.set(sock, n0 + 1);
    if (cmd === 'status') {
      const s = this.node.status();
      return reply(`status ${s.role} ${s.term} ${s.leaderId ?? '-'} ${s.commitIndex} ${s.appliedIndex} ${s.lastIndex}`);
    }
    if (cmd === 'stats') {
      const t = this.node.transportStats();
      const links = Object.entries(t.peers).map(([id, l]) => `${id}:sent=${l.sentMessages},bytes=${l.sentBytes},dropped=${l.dropped},connects=${l.connects}`);
      return reply(`stats ${Object.entries(this.node.counters).map(([k, v]) => `${k}=${v}`).join(' ')} received=${t.receivedMessages} ${links.join(' ')}`);
    }
    const id = a[0] ?? '-';
    const n = a.slice(1).map(Number);
    if (cmd === 'propose' && n.length === 2 && n.every((v) => Number.isInteger(v)) && n[0]! >= 1 && n[0]! <= 65536 && n[1]! >= 0 && n[1]! <= MAX_BODY) {
      const t0 = performance.now();
      this.node.propose(this.bodiesFor(n[1]!, n[0]!, 0)).then(
        (r) => reply(`ok ${id} ${r[0]!.index} ${r[r.length - 1]!.index} ${r[0]!.pos} ${Math.round((performance.now() - t0) * 1000)}`),
        (e: Error) => reply(errLine(id, e)),
      );
      return;
    }
    if (cmd === 'applied' && n.length === 1 && Number.isSafeInteger(n[0])) {
      const want = n[0]!;
      if (this.node.status().appliedIndex >= want) return reply(`applied ${id} ${this.node.status().appliedIndex}`);
      const on = (applied: number): void => {
        if (applied < want) return;
        this.node.off('applied', on);
        reply(`applied ${id} ${applied}`);
      };
      this.node.on('applied', on);
      sock.once('close', () => this.node.off('applied', on));
      return;
    }
    if (cmd === 'load' && n.length === 4 && n.every((v) => Number.isInteger(v) && v >= 0) && n[0]! <= MAX_LOAD_ENTRIES && n[1]! >= 1 && n[1]! <= 65536 && n[2]! <= MAX_BODY && n[3]! >= 1 && n[3]! <= 65536) {
      void this.load(n[0]!, n[1]!, n[2]!, n[3]!).then((r) => reply(`load ${id} ${r}`));
      return;
    }
    reply(`err ${id} BAD_REQUEST - -`);
  }

  private bodiesFor(size: number, count: number, seq: number): Buffer[] {
    let pool = this.bodies.get(size);
    if (!pool) {
      if (this.bodies.size > 8) this.bodies.clear();
      pool = Array.from({ length: BODY_POOL }, (_, i) => Buffer.alloc(size, i + 1));
      this.bodies.set(size, pool);
    }
    const out = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) out[i] = pool[(seq + i) % BODY_POOL]!;
    return out;
  }

  /** Keeps `inflight` proposals of `batch` entries outstanding until `total` entries committed. */
  private load(total: number, inflight: number, size: number, batch: number): Promise<string> {
    return new Promise((resolve) => {
      const lat: number[] = [];
      let issued = 0;
      let committed = 0;
      let outstanding = 0;
      let errors = 0;
      const t0 = performance.now();
      const finish = (): void => {
        const us = Math.round((performance.now() - t0) * 1000);
        lat.sort((x, y) => x - y);
        const q = (p: number): number => Math.round((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0) * 1000);
        resolve(`${committed} ${us} ${q(0.5)} ${q(0.99)} ${errors}`);
      };
      const issue = (): void => {
        while (outstanding < inflight && issued < total && errors < 100) {
          const n = Math.min(batch, total - issued);
          issued += n;
          outstanding++;
          const s = performance.now();
          this.node.propose(this.bodiesFor(size, n, issued)).then(
            () => {
              if (lat.length < MAX_SAMPLES) lat.push(performance.now() - s);
              committed += n;
              done();
            },
            () => {
              errors++;
              done();
            },
          );
        }
      };
      const done = (): void => {
        outstanding--;
        if (outstanding === 0 && (issued >= total || errors >= 100)) finish();
        else issue();
      };
      issue();
      if (outstanding === 0) finish();
    });
  }
}

function errLine(id: string, e: Error): string {
  const code = (e as { code?: string }).code ?? 'ERROR';
  if (e instanceof NotLeaderError) return `err ${id} ${code} ${e.leaderId ?? '-'} ${e.leaderAddress ?? '-'}`;
  return `err ${id} ${code} - -`;
}
