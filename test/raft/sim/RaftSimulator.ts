// A seeded cluster simulator (after TigerBeetle's VOPR): cores in one process over a network
// that drops, delays, duplicates, reorders and partitions, with crashes that lose whatever was
// not persisted. Safety is checked after every step; a failing seed replays exactly.
import { RaftCore, SeededRandom, type HardState, type RaftEntry, type RaftMessage } from '../../../raft/core/index.js';
import { MemoryLog } from '../helpers/MemoryLog.js';

export interface SimOptions {
  seed: number;
  nodes: 3 | 5;
  faultSteps: number;
  /** steps after the faults stop within which a proposal must commit */
  calmSteps: number;
}

interface SimNode {
  id: string;
  core: RaftCore | null;
  hard: HardState;
  log: MemoryLog;
  applied: RaftEntry[];
}

interface InFlight {
  at: number;
  m: RaftMessage;
}

const key = (e: RaftEntry): string => `${e.term}/${e.pos}/${Buffer.from(e.body).toString('hex')}`;

export class SimFailure extends Error {
  override name = 'SimFailure';
}

export class RaftSimulator {
  private readonly rnd: SeededRandom;
  private readonly nodes: SimNode[];
  private readonly ids: string[];
  private net: InFlight[] = [];
  private now = 0;
  private faults = true;
  private partition: Map<string, number> | null = null;
  private readonly leaderOfTerm = new Map<number, string>();
  private readonly committed: string[] = [];
  private readonly appliedAt: string[] = [];
  private proposals = 0;
  stats = { delivered: 0, dropped: 0, crashes: 0, elections: 0, maxCommit: -1 };

  constructor(private readonly opts: SimOptions) {
    this.rnd = new SeededRandom(opts.seed);
    this.ids = Array.from({ length: opts.nodes }, (_, i) => `n${i}`);
    this.nodes = this.ids.map((id) => ({ id, core: null, hard: { term: 0, votedFor: null }, log: new MemoryLog(), applied: [] }));
    for (const n of this.nodes) this.start(n);
  }

  run(): void {
    for (let s = 0; s < this.opts.faultSteps; s++) this.step(s);
    this.faults = false;
    this.partition = null;
    for (const n of this.nodes) if (!n.core) this.start(n);
    const target = this.maxCommitIndex();
    let proposed = false;
    for (let s = 0; s < this.opts.calmSteps; s++) {
      this.step(this.opts.faultSteps + s);
      const leader = this.nodes.find((n) => n.core?.role === 'leader');
      if (leader && !proposed) {
        proposed = leader.core!.propose([{ magic: 1, body: Buffer.from(`final`) }]).ok;
        this.drain(leader);
      }
      if (proposed && this.maxCommitIndex() > target + 1) return;
    }
    throw new SimFailure(`no progress: no proposal committed within ${this.opts.calmSteps} steps after the faults stopped`);
  }

  private step(s: number): void {
    const r = this.rnd;
    if (this.faults) {
      if (r.next() < 0.01) this.partition = r.next() < 0.5 ? null : this.randomPartition();
      for (const n of this.nodes) {
        if (n.core && r.next() < 0.003) this.crash(n);
        else if (!n.core && r.next() < 0.05) this.start(n);
      }
    }
    // time: every node ticks (a little drift: sometimes a node skips a tick)
    for (const n of this.nodes) {
      if (!n.core || (this.faults && r.next() < 0.05)) continue;
      n.core.tick();
      this.drain(n);
    }
    if (r.next() < 0.3) {
      const leader = this.nodes.find((n) => n.core?.role === 'leader');
      if (leader) {
        leader.core!.propose([{ magic: 1, body: Buffer.from(`p${this.proposals++}`) }]);
        this.drain(leader);
      }
    }
    // deliver what is due, in random order
    this.now++;
    const due = this.net.filter((f) => f.at <= this.now);
    this.net = this.net.filter((f) => f.at > this.now);
    for (let i = due.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const f of due) {
      const to = this.nodes.find((n) => n.id === f.m.to)!;
      if (!to.core) continue;
      this.stats.delivered++;
      to.core.step(f.m);
      this.drain(to);
    }
    this.check(s);
  }

  private randomPartition(): Map<string, number> {
    const p = new Map<string, number>();
    for (const id of this.ids) p.set(id, this.rnd.int(2));
    return p;
  }

  private send(m: RaftMessage): void {
    if (this.partition && this.partition.get(m.from) !== this.partition.get(m.to)) return;
    if (this.faults && this.rnd.next() < 0.05) {
      this.stats.dropped++;
      return;
    }
    const copies = this.faults && this.rnd.next() < 0.02 ? 2 : 1;
    for (let i = 0; i < copies; i++) this.net.push({ at: this.now + 1 + this.rnd.int(this.faults ? 4 : 2), m });
  }

  private start(n: SimNode): void {
    n.core = new RaftCore({ id: n.id, peers: this.ids, log: n.log, random: new SeededRandom(this.rnd.int(0x7fffffff)), hardState: n.hard, applied: n.applied.length - 1 });
  }

  private crash(n: SimNode): void {
    n.core = null;
    this.stats.crashes++;
  }

  /** Handles Readies as raft/node will; a crash may strike mid-way, after a partial persist and before any send. */
  private drain(n: SimNode): void {
    for (let guard = 0; n.core && n.core.hasReady(); guard++) {
      if (guard > 1000) throw new SimFailure(`${n.id}: Ready loop does not end`);
      const rd = n.core.ready();
      if (this.faults && this.rnd.next() < 0.002) {
        if (rd.hardState && this.rnd.next() < 0.5) n.hard = rd.hardState;
        this.crash(n);
        return;
      }
      if (rd.hardState) n.hard = rd.hardState;
      n.log.persist(rd);
      for (const m of rd.messages) this.send(m);
      for (const e of rd.committed) {
        const k = key(e);
        const prior = this.appliedAt[e.index];
        if (prior !== undefined && prior !== k) throw new SimFailure(`${n.id} applied ${k} at ${e.index}, another node applied ${prior}`);
        this.appliedAt[e.index] = k;
        if (e.index !== n.applied.length) throw new SimFailure(`${n.id} applied ${e.index} after ${n.applied.length - 1}`);
        n.applied.push(e);
      }
      n.core.advance(rd);
    }
  }

  private maxCommitIndex(): number {
    return this.committed.length - 1;
  }

  private check(s: number): void {
    for (const n of this.nodes) {
      const c = n.core;
      if (!c) continue;
      if (c.role === 'leader') {
        const prior = this.leaderOfTerm.get(c.term);
        if (prior === undefined) {
          this.leaderOfTerm.set(c.term, n.id);
          this.stats.elections++;
          // every entry committed so far is in the new leader's log
          for (let i = 0; i < this.committed.length; i++) {
            if (i > c.lastIndex || c.termAt(i) !== Number(this.committed[i]!.split('/')[0])) {
              throw new SimFailure(`step ${s}: leader ${n.id} of term ${c.term} lacks committed entry ${i} (${this.committed[i]})`);
            }
          }
        } else if (prior !== n.id) throw new SimFailure(`step ${s}: two leaders in term ${c.term}: ${prior} and ${n.id}`);
      }
      // what this node has committed and persisted joins the committed record, and must agree with it
      const upTo = Math.min(c.commitIndex, n.log.lastIndex);
      for (let i = 0; i <= upTo; i++) {
        const k = key(n.log.list[i]!);
        const known = this.committed[i];
        if (known === undefined) this.committed[i] = k;
        else if (known !== k) throw new SimFailure(`step ${s}: ${n.id} has ${k} committed at ${i}, committed before: ${known}`);
      }
      this.stats.maxCommit = Math.max(this.stats.maxCommit, c.commitIndex);
    }
    if (s % 10 === 0) this.checkLogMatching(s);
  }

  /** Two logs holding an entry of the same term at one index are identical up to it. */
  private checkLogMatching(s: number): void {
    for (let a = 0; a < this.nodes.length; a++) {
      for (let b = a + 1; b < this.nodes.length; b++) {
        const la = this.nodes[a]!.log.list;
        const lb = this.nodes[b]!.log.list;
        let i = Math.min(la.length, lb.length) - 1;
        while (i >= 0 && la[i]!.term !== lb[i]!.term) i--;
        for (; i >= 0; i--) {
          if (key(la[i]!) !== key(lb[i]!)) throw new SimFailure(`step ${s}: logs of n${a} and n${b} differ at ${i} below a shared (index, term)`);
        }
      }
    }
  }
}
