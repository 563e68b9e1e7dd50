// etcd-style harness: cores wired by a synchronous network; messages are delivered until quiet.
// A filter can drop messages (partitions). Persistence is instant and complete.
import { RaftCore, SeededRandom, type HardState, type RaftCoreOptions, type RaftEntry, type RaftMessage, type Ready } from '../../../raft/core/index.js';
import { MemoryLog } from './MemoryLog.js';

export interface TestNode {
  id: string;
  core: RaftCore;
  log: MemoryLog;
  hard: HardState;
  applied: RaftEntry[];
}

export type Filter = (m: RaftMessage) => boolean;

export function newNode(id: string, peers: string[], seed = 1, extra: Partial<RaftCoreOptions> = {}, log = new MemoryLog()): TestNode {
  const core = new RaftCore({ id, peers, log, random: new SeededRandom(seed), ...extra });
  return { id, core, log, hard: { term: core.term, votedFor: core.votedFor }, applied: [] };
}

/** Handles one Ready the way raft/node will: persist, then return the messages to send, apply, advance. */
export function handleReady(n: TestNode): { rd: Ready; messages: RaftMessage[] } {
  const rd = n.core.ready();
  if (rd.hardState) n.hard = rd.hardState;
  n.log.persist(rd);
  n.applied.push(...rd.committed);
  n.core.advance(rd);
  return { rd, messages: rd.messages };
}

export class TestCluster {
  readonly nodes = new Map<string, TestNode>();
  /** return false to drop */
  filter: Filter = () => true;
  delivered: RaftMessage[] = [];

  constructor(ids: string[], extra: Partial<RaftCoreOptions> = {}) {
    ids.forEach((id, i) => this.nodes.set(id, newNode(id, ids, 1000 + i, extra)));
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Delivers until no node has anything to do (bounded so a livelock fails the test). */
  settle(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      const msgs: RaftMessage[] = [];
      for (const n of this.nodes.values()) while (n.core.hasReady()) msgs.push(...handleReady(n).messages);
      if (msgs.length === 0) return;
      for (const m of msgs) {
        if (!this.filter(m)) continue;
        const to = this.nodes.get(m.to);
        if (!to) continue;
        this.delivered.push(m);
        to.core.step(m);
      }
    }
    throw new Error('cluster did not settle');
  }

  /** Partitions: messages cross only within a group. */
  isolate(...groups: string[][]): void {
    const groupOf = new Map<string, string>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, `group${i}`)));
    // a node named in no group is alone
    this.filter = (m) => (groupOf.get(m.from) ?? m.from) === (groupOf.get(m.to) ?? m.to);
  }

  heal(): void {
    this.filter = () => true;
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.core.tick();
      this.settle();
    }
  }

  /** Makes `id` leader by campaigning and settling. */
  elect(id: string): TestNode {
    this.node(id).core.campaign();
    this.settle();
    const n = this.node(id);
    if (n.core.role !== 'leader') throw new Error(`${id} did not become leader (role ${n.core.role})`);
    return n;
  }

  leaders(): TestNode[] {
    return [...this.nodes.values()].filter((n) => n.core.role === 'leader');
  }
}

export const body = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
