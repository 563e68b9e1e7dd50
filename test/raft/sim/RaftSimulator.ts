// A seeded cluster simulator (after TigerBeetle's VOPR): cores in one process over a network
// that drops, delays, duplicates, reorders and partitions (both ways and one way), with crashes
// that lose whatever was not yet fsynced, restarts, clock drift, leadership transfers,
// retention with catch-up by segment copy, and batching. Safety is checked after every step;
// a failing seed replays exactly (same seed, same options, same steps).
import { RaftCore, SeededRandom, type HardState, type RaftCoreOptions, type RaftEntry, type RaftMessage, type Ready } from '../../../raft/core/index.js';
import { MemoryLog } from '../helpers/MemoryLog.js';

export interface SimOptions {
  seed: number;
  nodes: 3 | 5;
  faultSteps: number;
  /** steps after the faults stop within which a leader must emerge and a proposal commit */
  calmSteps: number;
  /** keep the last this many events and print them on failure (0: no trace) */
  traceLimit?: number;
}

/** What a seed turned on (drawn from the seed itself, so a replay gets the same). */
export interface SimFeatures {
  oneWayPartitions: boolean;
  clockDrift: boolean;
  transfers: boolean;
  retention: boolean;
  batching: boolean;
  preferredLeader: string | null;
}

interface SimNode {
  id: string;
  core: RaftCore | null;
  /** durable term and vote */
  hard: HardState;
  /** the durable log (what survives a crash) */
  log: MemoryLog;
  /** last index the state machine applied (kept across crashes as a checkpoint, possibly behind) */
  appliedTo: number;
  /** highest index this node ever applied: its log must keep holding up to here */
  maxApplied: number;
  /** log indexes up to here were checked against the committed record */
  checkedUpTo: number;
  /** clock drift: chance to miss a tick (slow clock) and to tick twice (fast clock) per step */
  slow: number;
  fast: number;
}

interface InFlight {
  at: number;
  m: RaftMessage;
}

/** The most messages the simulated network holds; beyond it new ones are dropped (a full socket buffer). */
const MAX_IN_FLIGHT = 4096;
const NET_SLOTS = 8;
const FINAL = 'final';

/** Equal content: term, position, kind and body bytes. */
function sameEntry(a: RaftEntry, b: RaftEntry): boolean {
  if (a === b) return true;
  if (a.index !== b.index || a.term !== b.term || a.pos !== b.pos || a.magic !== b.magic) return false;
  if (a.body === b.body) return true;
  if (a.body.byteLength !== b.body.byteLength) return false;
  for (let i = 0; i < a.body.byteLength; i++) if (a.body[i] !== b.body[i]) return false;
  return true;
}

function show(e: RaftEntry): string {
  return `${e.index}/${e.term}@${e.pos} ${Buffer.from(e.body.subarray(0, 16)).toString()}`;
}

export class SimFailure extends Error {
  override name = 'SimFailure';
}

export class RaftSimulator {
  readonly features: SimFeatures;
  private readonly rnd: SeededRandom;
  private readonly nodes: SimNode[];
  private readonly ids: string[];
  private readonly coreOptions: Partial<RaftCoreOptions>;
  /** messages in flight, by delivery step modulo NET_SLOTS (every delay is below it) */
  private readonly net: InFlight[][] = Array.from({ length: NET_SLOTS }, () => []);
  private inFlight = 0;
  private now = 0;
  private faults = true;
  /** two-way partition: node -> side */
  private partition: Map<string, number> | null = null;
  /** one-way partition: "from>to" links that drop everything */
  private blocked = new Set<string>();
  private readonly leaderOfTerm = new Map<number, string>();
  /** the committed record: the entry committed at each index */
  private readonly committed: RaftEntry[] = [];
  /** what any node applied at each index */
  private readonly appliedAt: RaftEntry[] = [];
  private readonly byId: Map<string, SimNode>;
  private proposals = 0;
  private finalCommitted = false;
  /** index the final proposal was applied at, once some node applied it */
  private finalIndex = -1;
  private readonly trace: string[] = [];
  stats = { steps: 0, delivered: 0, dropped: 0, crashes: 0, elections: 0, maxCommit: -1, transfers: 0, segmentCopies: 0, prefixDrops: 0, partitions: 0 };

  constructor(private readonly opts: SimOptions) {
    this.rnd = new SeededRandom(opts.seed);
    const r = this.rnd;
    this.ids = Array.from({ length: opts.nodes }, (_, i) => `n${i}`);
    this.features = {
      oneWayPartitions: r.next() < 0.5,
      clockDrift: r.next() < 0.8,
      transfers: r.next() < 0.5,
      retention: r.next() < 0.3,
      batching: r.next() < 0.3,
      preferredLeader: r.next() < 0.25 ? this.ids[r.int(this.ids.length)]! : null,
    };
    this.coreOptions = {};
    if (this.features.batching) Object.assign(this.coreOptions, { batchTicks: 1 + r.int(3), batchBytes: 100 + r.int(2000) });
    if (this.features.preferredLeader !== null) Object.assign(this.coreOptions, { preferredLeaderIds: [this.features.preferredLeader] });
    this.nodes = this.ids.map((id) => ({
      id,
      core: null,
      hard: { term: 0, votedFor: null },
      log: new MemoryLog(),
      appliedTo: -1,
      maxApplied: -1,
      checkedUpTo: -1,
      slow: this.features.clockDrift ? r.next() * 0.3 : 0,
      fast: this.features.clockDrift ? r.next() * 0.15 : 0,
    }));
    this.byId = new Map(this.nodes.map((n) => [n.id, n]));
    for (const n of this.nodes) this.start(n);
  }

  run(): void {
    try {
      this.runUnchecked();
    } catch (err) {
      if (err instanceof Error && this.trace.length > 0) err.message += `\n  last events:\n    ${this.trace.join('\n    ')}`;
      throw err;
    }
  }

  private runUnchecked(): void {
    for (let s = 0; s < this.opts.faultSteps; s++) this.step(s);
    this.faults = false;
    this.partition = null;
    this.blocked.clear();
    for (const n of this.nodes) if (!n.core) this.start(n);
    this.event('faults stop');
    for (let s = 0; s < this.opts.calmSteps; s++) {
      this.step(this.opts.faultSteps + s);
      // done when every node applied the final proposal: a leader emerged, it committed, and
      // every follower (lagging, restarted, wiped by a copy) caught up
      if (this.finalCommitted && this.nodes.every((n) => n.appliedTo >= this.finalIndex)) {
        this.checkLogMatching(this.opts.faultSteps + s);
        return;
      }
    }
    const roles = this.nodes.map((n) => `${n.id}:${n.core?.role}@${n.core?.term}/log ${n.log.firstIndex}..${n.core?.lastIndex}/commit ${n.core?.commitIndex}/applied ${n.appliedTo}`).join(' ');
    const what = this.finalCommitted ? `the final proposal (index ${this.finalIndex}) was not applied everywhere` : 'nothing committed';
    throw new SimFailure(`no progress: ${what} within ${this.opts.calmSteps} steps after the faults stopped (${roles})`);
  }

  private step(s: number): void {
    const r = this.rnd;
    this.stats.steps++;
    if (this.faults) this.injectFaults();
    // time: every live node ticks; a drifting clock sometimes skips a tick or ticks twice
    for (const n of this.nodes) {
      if (!n.core) continue;
      let ticks = 1;
      if (this.faults) {
        if (r.next() < n.slow) ticks = 0;
        else if (r.next() < n.fast) ticks = 2;
      }
      for (let i = 0; i < ticks && n.core; i++) {
        // a driver may sleep until ticksUntilDue(): no tick before that one may act
        const core = n.core;
        const state = (): string => `${core.role} ${core.term} ${core.hasReady()}`;
        const due = core.ticksUntilDue();
        const before = state();
        core.tick();
        const after = state();
        if (due > 1 && after !== before) throw new SimFailure(`step ${s}: ${n.id}'s tick acted (${before} -> ${after}) ${due} ticks before ticksUntilDue said`);
        this.drain(n);
      }
    }
    const leader = this.nodes.find((n) => n.core?.role === 'leader');
    if (leader && r.next() < 0.3) {
      const body = !this.faults && !this.finalCommitted ? FINAL : `p${this.proposals++}`;
      leader.core!.propose([{ magic: 1, body: Buffer.from(body) }]);
      this.drain(leader);
    }
    // deliver what is due, in random order
    this.now++;
    const slot = this.now % NET_SLOTS;
    const due = this.net[slot]!;
    this.net[slot] = [];
    this.inFlight -= due.length;
    for (let i = due.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const f of due) {
      const to = this.byId.get(f.m.to)!;
      if (!to.core) continue;
      this.stats.delivered++;
      to.core.step(f.m);
      this.drain(to);
    }
    this.check(s);
  }

  private injectFaults(): void {
    const r = this.rnd;
    if (r.next() < 0.01) {
      const kind = r.next();
      this.partition = null;
      this.blocked.clear();
      if (kind < 0.35) this.event('network healed');
      else if (kind < 0.7 || !this.features.oneWayPartitions) {
        this.partition = new Map(this.ids.map((id) => [id, r.int(2)]));
        this.stats.partitions++;
        this.event(`partition ${[...this.partition].map(([id, side]) => `${id}:${side}`).join(' ')}`);
      } else {
        // one-way: some links drop everything in one direction only
        const links = 1 + r.int(this.ids.length);
        for (let i = 0; i < links; i++) {
          const from = this.ids[r.int(this.ids.length)]!;
          const to = this.ids[r.int(this.ids.length)]!;
          if (from !== to) this.blocked.add(`${from}>${to}`);
        }
        this.stats.partitions++;
        this.event(`one-way partition ${[...this.blocked].join(' ')}`);
      }
    }
    for (const n of this.nodes) {
      if (n.core && r.next() < 0.003) this.crash(n, 'crash');
      else if (!n.core && r.next() < 0.05) this.start(n);
    }
    const leader = this.nodes.find((n) => n.core?.role === 'leader');
    if (leader && this.features.transfers && r.next() < 0.004) {
      const to = this.ids[r.int(this.ids.length)]!;
      const res = leader.core!.transferLeadership(to);
      if (res.ok) this.stats.transfers++;
      this.event(`${leader.id} transfer to ${to}: ${res.ok ? 'started' : res.reason}`);
      this.drain(leader);
    }
    if (this.features.retention) {
      for (const n of this.nodes) {
        if (!n.core || r.next() >= 0.01) continue;
        // retention drops only what this node applied, sometimes everything but the last entry
        const before = n.appliedTo + 1 - r.int(4);
        if (before > n.log.firstIndex) {
          n.log.dropPrefix(before);
          this.stats.prefixDrops++;
          this.event(`${n.id} drops its log before ${n.log.firstIndex}`);
        }
      }
    }
  }

  private send(m: RaftMessage): void {
    if (this.partition && this.partition.get(m.from) !== this.partition.get(m.to)) return;
    if (this.blocked.size > 0 && this.blocked.has(`${m.from}>${m.to}`)) return;
    if ((this.faults && this.rnd.next() < 0.05) || this.inFlight >= MAX_IN_FLIGHT) {
      this.stats.dropped++;
      return;
    }
    const copies = this.faults && this.rnd.next() < 0.02 ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + 1 + this.rnd.int(this.faults ? 4 : 2);
      this.net[at % NET_SLOTS]!.push({ at, m });
      this.inFlight++;
    }
  }

  private start(n: SimNode): void {
    n.core = new RaftCore({
      id: n.id,
      peers: this.ids,
      log: n.log,
      random: new SeededRandom(this.rnd.int(0x7fffffff)),
      hardState: n.hard,
      applied: n.appliedTo,
      ...this.coreOptions,
    });
    n.appliedTo = n.core.appliedIndex;
    this.event(`${n.id} starts at term ${n.hard.term}, log ${n.log.firstIndex}..${n.log.lastIndex}, applied ${n.appliedTo}`);
  }

  private crash(n: SimNode, why: string): void {
    n.core = null;
    this.stats.crashes++;
    // The state machine's applied checkpoint may lag what it applied: entries are applied again.
    n.appliedTo = Math.max(n.log.firstIndex - 1, -1, n.appliedTo - this.rnd.int(3));
    this.event(`${n.id} ${why}`);
  }

  /**
   * Handles Readies as raft/node will: fsync term and vote, truncate, append and fsync, then
   * send, then apply. A crash may strike part-way: what was not yet fsynced is lost (a torn
   * batch keeps only a prefix of its entries) and nothing of the Ready is sent.
   */
  private drain(n: SimNode): void {
    for (let guard = 0; n.core && n.core.hasReady(); guard++) {
      if (guard > 1000) throw new SimFailure(`${n.id}: Ready loop does not end`);
      const rd = n.core.ready();
      if (rd.truncateFrom !== undefined && rd.truncateFrom <= n.checkedUpTo) {
        throw new SimFailure(`${n.id} was asked to truncate from ${rd.truncateFrom}, below its committed ${n.checkedUpTo}`);
      }
      if (this.faults && this.rnd.next() < 0.002) {
        this.crashMidReady(n, rd);
        return;
      }
      if (rd.hardState) n.hard = rd.hardState;
      n.log.persist(rd);
      for (const m of rd.messages) this.send(m);
      this.apply(n, rd.committed);
      if (rd.behindLogStart) for (const p of rd.behindLogStart) this.segmentCopy(n, p);
      n.core.advance(rd);
    }
  }

  private crashMidReady(n: SimNode, rd: Ready): void {
    const stage = this.rnd.int(4);
    if (stage >= 1 && rd.hardState) n.hard = rd.hardState;
    if (stage >= 2 && rd.truncateFrom !== undefined) n.log.truncate(rd.truncateFrom);
    if (stage >= 3 && (rd.truncateFrom === undefined || n.log.lastIndex < rd.truncateFrom)) {
      // raft/node places the whole batch, sends a leader's appends and heartbeats, then writes: the
      // appends may be out while the write is torn (only a prefix of the entries survives)
      const from = n.log.lastIndex + 1;
      n.log.append(rd.entries);
      if (this.rnd.next() < 0.5) for (const m of rd.messages) if (m.type === 'append' || m.type === 'heartbeat') this.send(m);
      n.log.truncate(from + this.rnd.int(rd.entries.length + 1));
    }
    this.crash(n, `crashes mid-Ready (stage ${stage} of 3, ${rd.entries.length} entries)`);
  }

  private apply(n: SimNode, entries: readonly RaftEntry[]): void {
    for (const e of entries) {
      const prior = this.appliedAt[e.index];
      if (prior !== undefined && !sameEntry(prior, e)) throw new SimFailure(`${n.id} applied ${show(e)} at ${e.index}, where ${show(prior)} was applied before`);
      this.appliedAt[e.index] = e;
      if (e.index !== n.appliedTo + 1) throw new SimFailure(`${n.id} applied ${e.index} after ${n.appliedTo}`);
      // an applied entry is committed: it joins the record now (retention may drop it before the next check)
      const known = this.committed[e.index];
      if (known === undefined) {
        if (e.index !== this.committed.length) throw new SimFailure(`${n.id} applied ${e.index} but the committed record ends at ${this.committed.length - 1}`);
        this.committed.push(e);
      } else if (!sameEntry(known, e)) throw new SimFailure(`${n.id} applied ${show(e)} at ${e.index}, committed there: ${show(known)}`);
      n.appliedTo = e.index;
      n.maxApplied = Math.max(n.maxApplied, e.index);
      if (!this.finalCommitted && e.body.byteLength === FINAL.length && Buffer.from(e.body).toString() === FINAL) {
        this.finalCommitted = true;
        this.finalIndex = e.index;
      }
    }
  }

  /**
   * Catch-up outside Raft, as raft/node does it: a follower the leader can no longer feed gets
   * a copy of the leader's persisted log (from its first index) and restarts on it. Done only
   * when the leader's term is at least the follower's durable term (else the copy could hold
   * entries a newer leader overwrote).
   */
  private segmentCopy(leader: SimNode, peer: string): void {
    const p = this.byId.get(peer)!;
    if (!p.core || !leader.core || p.hard.term > leader.core.term || this.rnd.next() < 0.3) return;
    const copy = MemoryLog.copyOf(leader.log, leader.log.firstIndex, leader.log.lastIndex);
    if (copy.lastIndex < p.appliedTo) return;
    this.stats.segmentCopies++;
    this.event(`${leader.id} copies its log ${copy.firstIndex}..${copy.lastIndex} to ${p.id}`);
    p.core = null;
    p.log = copy;
    p.checkedUpTo = copy.firstIndex - 1;
    p.maxApplied = Math.max(p.appliedTo, copy.firstIndex - 1);
    this.start(p);
  }

  private maxCommitIndex(): number {
    return this.committed.length - 1;
  }

  private check(s: number): void {
    for (const n of this.nodes) {
      const c = n.core;
      if (!c) continue;
      if (c.commitIndex > c.lastIndex) throw new SimFailure(`step ${s}: ${n.id} commit ${c.commitIndex} past its last index ${c.lastIndex}`);
      if (n.log.lastIndex < n.maxApplied) throw new SimFailure(`step ${s}: ${n.id} applied up to ${n.maxApplied} but its log ends at ${n.log.lastIndex}`);
      if (c.role === 'leader') {
        const prior = this.leaderOfTerm.get(c.term);
        if (prior === undefined) {
          this.leaderOfTerm.set(c.term, n.id);
          this.stats.elections++;
          this.event(`${n.id} leads term ${c.term}`);
          // every entry committed so far is in the new leader's log (below its first index it was dropped after being applied)
          for (let i = Math.max(0, c.firstIndex); i < this.committed.length; i++) {
            const held = n.log.at(i);
            if (i > c.lastIndex || c.termAt(i) !== this.committed[i]!.term || (held !== undefined && !sameEntry(held, this.committed[i]!))) {
              throw new SimFailure(`step ${s}: leader ${n.id} of term ${c.term} lacks committed entry ${show(this.committed[i]!)}`);
            }
          }
        } else if (prior !== n.id) throw new SimFailure(`step ${s}: two leaders in term ${c.term}: ${prior} and ${n.id}`);
      }
      // what this node has committed and persisted joins the committed record, and must agree with it
      const upTo = Math.min(c.commitIndex, n.log.lastIndex);
      for (let i = Math.max(n.checkedUpTo + 1, n.log.firstIndex); i <= upTo; i++) {
        const e = n.log.at(i)!;
        const known = this.committed[i];
        if (known === undefined) {
          if (i !== this.committed.length) throw new SimFailure(`step ${s}: ${n.id} commits ${i} but the record ends at ${this.committed.length - 1}`);
          this.committed.push(e);
        } else if (!sameEntry(known, e)) throw new SimFailure(`step ${s}: ${n.id} has ${show(e)} committed at ${i}, committed before: ${show(known)}`);
      }
      n.checkedUpTo = Math.max(n.checkedUpTo, upTo);
      this.stats.maxCommit = Math.max(this.stats.maxCommit, c.commitIndex);
    }
    if (s % 16 === 0) this.checkLogMatching(s);
  }

  /** Two logs holding an entry of the same term at one index are identical up to it. */
  private checkLogMatching(s: number): void {
    for (let a = 0; a < this.nodes.length; a++) {
      for (let b = a + 1; b < this.nodes.length; b++) {
        const la = this.nodes[a]!.log;
        const lb = this.nodes[b]!.log;
        const lo = Math.max(la.firstIndex, lb.firstIndex);
        let i = Math.min(la.lastIndex, lb.lastIndex);
        while (i >= lo && la.at(i)!.term !== lb.at(i)!.term) i--;
        for (; i >= lo; i--) {
          const x = la.at(i)!;
          const y = lb.at(i)!;
          if (!sameEntry(x, y)) throw new SimFailure(`step ${s}: logs of n${a} and n${b} differ at ${i} below a shared (index, term)`);
        }
      }
    }
  }

  private event(what: string): void {
    const limit = this.opts.traceLimit ?? 0;
    if (limit <= 0) return;
    this.trace.push(`[${this.now}] ${what}`);
    if (this.trace.length > limit) this.trace.shift();
  }

  /** The command that replays this run. */
  static replayCommand(o: SimOptions): string {
    return `npm run sim -- --seed ${o.seed} --seeds 1 --nodes ${o.nodes} --steps ${o.faultSteps} --calm ${o.calmSteps} --trace`;
  }
}
