// Three standalone Raft node processes on loopback for bench/raft: start, find the leader,
// kill -9, restart. Children run without NODE_OPTIONS (loader hooks of a runner slow starts).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../load/ports.js';
import { ControlClient } from '../../raft/node/ControlClient.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../raft/node/standaloneMain.js');

export interface Proc {
  id: string;
  child: ChildProcess;
  control: ControlClient;
  exited: Promise<void>;
}

export interface RoleEvent {
  id: string;
  role: string;
  term: number;
  leader: string;
  /** wall clock of the child, ms with fractions */
  at: number;
}

export class NodeCluster {
  readonly procs = new Map<string, Proc>();
  private roleListeners: Array<(e: RoleEvent) => void> = [];
  /** the latest role event per node */
  readonly roles = new Map<string, RoleEvent>();

  private constructor(
    readonly root: string,
    readonly peers: string,
    readonly ids: string[],
    private readonly extraArgs: string[],
  ) {}

  static async start(root: string, extraArgs: string[]): Promise<NodeCluster> {
    const ids = ['n0', 'n1', 'n2'];
    const peers = (await Promise.all(ids.map(async (id) => `${id}-127.0.0.1:${await freePort()}`))).join(';');
    const c = new NodeCluster(root, peers, ids, extraArgs);
    await Promise.all(ids.map((id) => c.startNode(id)));
    return c;
  }

  async startNode(id: string): Promise<Proc> {
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    // RAFTMQ_NODE_ARGS: extra node flags for the node processes (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
    const nodeArgs = (process.env['RAFTMQ_NODE_ARGS'] ?? '').split(' ').filter((x) => x !== '');
    const args = [...nodeArgs, MAIN, '--dLegerGroup', 'bench', '--dLegerPeers', this.peers, '--dLegerSelfId', id, '--storePathRootDir', path.join(this.root, id), ...this.extraArgs];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const controlPort = await new Promise<number>((resolve, reject) => {
      let partial = '';
      child.stdout!.on('data', (d: Buffer) => {
        partial += d.toString();
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          const r = /^READY \S+ raft=\S+ control=(\d+)/.exec(line);
          if (r) resolve(Number(r[1]));
          const m = /^ROLE (\S+) (\d+) (\S+) ([\d.]+)/.exec(line);
          if (m) {
            const e = { id, role: m[1]!, term: Number(m[2]), leader: m[3]!, at: Number(m[4]) };
            this.roles.set(id, e);
            for (const l of [...this.roleListeners]) l(e);
          }
        }
      });
      void exited.then(() => reject(new Error(`${id} exited before it was ready: ${err}`)));
    });
    const control = await ControlClient.connect(controlPort);
    const p = { id, child, control, exited };
    this.procs.set(id, p);
    return p;
  }

  /** The first role event that satisfies `pred` (already seen or coming), or an error after timeoutMs. */
  waitRole(pred: (e: RoleEvent) => boolean, timeoutMs: number): Promise<RoleEvent> {
    for (const e of this.roles.values()) if (pred(e) && this.procs.get(e.id)?.child.exitCode === null) return Promise.resolve(e);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.roleListeners = this.roleListeners.filter((x) => x !== l);
        reject(new Error(`no matching role change within ${timeoutMs} ms`));
      }, timeoutMs);
      const l = (e: RoleEvent): void => {
        if (!pred(e)) return;
        clearTimeout(timer);
        this.roleListeners = this.roleListeners.filter((x) => x !== l);
        resolve(e);
      };
      this.roleListeners.push(l);
    });
  }

  /** Who leads now, asked of every live node (a leader that reports itself). */
  async leader(timeoutMs = 10_000): Promise<Proc> {
    const e = await this.waitRole((r) => r.role === 'leader', timeoutMs);
    return this.procs.get(e.id)!;
  }

  async kill(id: string): Promise<void> {
    const p = this.procs.get(id)!;
    p.control.close();
    p.child.kill('SIGKILL');
    await p.exited;
    this.procs.delete(id);
    this.roles.delete(id);
  }

  /** SIGTERM (a clean close: profiles are written), SIGKILL after 5 s. */
  async terminate(id: string): Promise<void> {
    const p = this.procs.get(id)!;
    p.control.close();
    p.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p.exited, new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
    this.procs.delete(id);
    this.roles.delete(id);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((id) => this.terminate(id)));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
