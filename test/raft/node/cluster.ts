// In-process RaftNodes over the real TCP transport on loopback, with short timers, for tests.
import type { Test } from 'tap';
import type { RaftEntry } from '../../../raft/core/index.js';
import { RaftNode, type RaftNodeOptions } from '../../../raft/node/index.js';
import type { PeerAddress } from '../../../raft/transport/index.js';
import { freePort, tempDir } from '../../helpers/processes.js';

// generous enough that a busy test machine (tap runs files in parallel) does not lose its leader mid-test
export const FAST_TIMING = { tickIntervalMs: 10, heartBeatTimeIntervalMs: 50, maxHeartBeatLeak: 8, maxWaitAckTimeMs: 10000 };

export interface TestNode {
  id: string;
  node: RaftNode;
  applied: RaftEntry[];
  storeDir: string;
}

export class TestCluster {
  readonly nodes = new Map<string, TestNode>();
  constructor(
    readonly t: Test,
    readonly peers: Map<string, PeerAddress>,
    readonly root: string,
  ) {}

  static async create(t: Test, size: number): Promise<TestCluster> {
    const peers = new Map<string, PeerAddress>();
    for (let i = 0; i < size; i++) peers.set(`n${i}`, { host: '127.0.0.1', port: await freePort() });
    return new TestCluster(t, peers, tempDir(t, 'raftmq-node-'));
  }

  async start(id: string, extra: Partial<RaftNodeOptions> = {}): Promise<TestNode> {
    const applied: RaftEntry[] = [];
    const storeDir = `${this.root}/${id}`;
    const node = await RaftNode.start({
      group: 'test',
      selfId: id,
      peers: this.peers,
      storeDir,
      timing: FAST_TIMING,
      onApply: (es) => {
        applied.push(...es);
      },
      log: () => undefined,
      ...extra,
    });
    this.t.teardown(() => node.close());
    const tn = { id, node, applied, storeDir };
    this.nodes.set(id, tn);
    return tn;
  }

  async startAll(extra: Partial<RaftNodeOptions> = {}): Promise<TestNode[]> {
    return Promise.all([...this.peers.keys()].map((id) => this.start(id, extra)));
  }

  /** Resolves with the node that is leader once one is (event-driven, no polling of time). */
  leader(among: TestNode[] = [...this.nodes.values()]): Promise<TestNode> {
    const now = among.find((n) => n.node.status().role === 'leader');
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const offs: Array<() => void> = [];
      for (const n of among) {
        const l = (c: { role: string }): void => {
          if (c.role !== 'leader') return;
          for (const off of offs) off();
          resolve(n);
        };
        n.node.on('roleChange', l);
        offs.push(() => n.node.off('roleChange', l));
      }
    });
  }
}

/** Waits for a condition that changes with applied entries, checking after every apply. */
export async function until(cond: () => boolean, nodes: TestNode[]): Promise<void> {
  while (!cond()) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        for (const n of nodes) n.node.off('applied', done);
        resolve();
      };
      for (const n of nodes) n.node.on('applied', done);
    });
  }
}
