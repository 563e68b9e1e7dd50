// Consumer offsets: answered from memory, made durable as consumer-offset entries in the
// commit log (replicated with everything else, so a failover loses none). Commits arriving
// within one flush interval are written as one entry.
import type { AppliedBatch, CommitLog } from './commitlog/CommitLog.js';
import { consumerOffsetsRecord, deleteConsumerOffsetsRecord, type OffsetCommit } from './metadata/BrokerMetadata.js';
import type { MetadataAppendRecord } from './commitlog/CommitLog.js';

export interface ConsumerOffsetManagerOptions {
  /** how long commits gather before they are written (ms) */
  flushIntervalMs?: number;
  /** dirty queues past which a flush starts at once */
  maxDirtyQueues?: number;
  /** most group/topic pairs kept; commits for new pairs past it are refused */
  maxTopicGroups?: number;
  log?: (line: string) => void;
}

/** Commits per entry, so one entry stays far below the log's entry size limit. */
const MAX_COMMITS_PER_ENTRY = 2000;

function keyOf(topic: string, group: string): string {
  return `${topic}@${group}`;
}

export class ConsumerOffsetManager {
  /** topic@group -> queueId -> offset */
  private readonly table = new Map<string, Map<number, number>>();
  /** topic@group -> queueIds committed since the last flush */
  private dirty = new Map<string, Set<number>>();
  private dirtyCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly flushIntervalMs: number;
  private readonly maxDirtyQueues: number;
  readonly maxTopicGroups: number;
  private stopped = false;

  constructor(
    private readonly log: CommitLog,
    private readonly opts: ConsumerOffsetManagerOptions = {},
  ) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.maxDirtyQueues = opts.maxDirtyQueues ?? 10_000;
    this.maxTopicGroups = opts.maxTopicGroups ?? 200_000;
  }

  async load(): Promise<void> {
    for (const o of await this.log.index.listConsumerOffsets()) {
      this.queuesOf(o.topic, o.group, true)!.set(o.queueId, o.offset);
    }
    this.log.onApplied((batch) => this.onApplied(batch));
  }

  /** Reads the committed offsets again (a segment copy replaced the index); not on a node that takes writes. */
  async reload(): Promise<void> {
    const fresh = await this.log.index.listConsumerOffsets();
    this.table.clear();
    for (const o of fresh) this.queuesOf(o.topic, o.group, true)?.set(o.queueId, o.offset);
  }

  /**
   * Entries written by another node (a Raft follower applying the leader's commits) update
   * the table; on the node that takes writes its own table is newer than what it applies.
   */
  private onApplied(batch: AppliedBatch): void {
    if (this.log.isWritable) return;
    for (const m of batch.metadata) {
      if (m.kind === 'consumerOffsets') {
        const q = this.queuesOf(m.topic, m.group, true);
        if (q) for (const o of m.offsets) q.set(o.queueId, o.offset);
      } else if (m.kind === 'deleteConsumerOffsets') {
        this.forget(m.group, m.topic);
      }
    }
  }

  private queuesOf(topic: string, group: string, create: boolean): Map<number, number> | undefined {
    const k = keyOf(topic, group);
    let q = this.table.get(k);
    if (!q && create && this.table.size < this.maxTopicGroups) {
      q = new Map();
      this.table.set(k, q);
    }
    return q;
  }

  /** Offsets that are in the log already (taken over from a Java store): memory only, nothing to write. */
  adopt(commits: readonly OffsetCommit[]): void {
    for (const c of commits) {
      const q = this.queuesOf(c.topic, c.group, true);
      if (q) for (const [id, off] of c.queues) if ((q.get(id) ?? -1) < off) q.set(id, off);
    }
  }

  query(group: string, topic: string, queueId: number): number | undefined {
    return this.table.get(keyOf(topic, group))?.get(queueId);
  }

  /** false when the table is full (maxTopicGroups) and this pair is new. */
  commit(group: string, topic: string, queueId: number, offset: number): boolean {
    const q = this.queuesOf(topic, group, true);
    if (!q) return false;
    if (q.get(queueId) === offset) return true;
    q.set(queueId, offset);
    const k = keyOf(topic, group);
    let d = this.dirty.get(k);
    if (!d) this.dirty.set(k, (d = new Set()));
    if (!d.has(queueId)) {
      d.add(queueId);
      this.dirtyCount++;
    }
    if (this.dirtyCount >= this.maxDirtyQueues) void this.flush();
    else this.schedule();
    return true;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes what was committed since the last flush; resolves when it is in the log. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.dirtyCount > 0 ? this.flush() : undefined));
    if (this.dirtyCount === 0) return Promise.resolve();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const dirty = this.dirty;
    this.dirty = new Map();
    this.dirtyCount = 0;
    const records: MetadataAppendRecord[] = [];
    let commits: OffsetCommit[] = [];
    for (const [k, ids] of dirty) {
      const at = k.indexOf('@');
      const topic = k.slice(0, at);
      const group = k.slice(at + 1);
      const q = this.table.get(k);
      if (!q) continue;
      const queues: Array<[number, number]> = [];
      for (const id of ids) {
        const off = q.get(id);
        if (off !== undefined) queues.push([id, off]);
      }
      commits.push({ group, topic, queues });
      if (commits.length >= MAX_COMMITS_PER_ENTRY) {
        records.push(consumerOffsetsRecord(commits));
        commits = [];
      }
    }
    if (commits.length > 0) records.push(consumerOffsetsRecord(commits));
    const done = (records.length > 0 && this.log.isWritable ? this.log.append(records) : Promise.resolve()).then(
      () => undefined,
      (e: unknown) => {
        // put them back so the next flush retries; newer commits of the same queue win
        for (const [k, ids] of dirty) {
          let d = this.dirty.get(k);
          if (!d) this.dirty.set(k, (d = new Set()));
          for (const id of ids) if (!d.has(id)) (d.add(id), this.dirtyCount++);
        }
        this.opts.log?.(`consumer offsets not written, retrying: ${(e as Error).message}`);
        this.schedule();
      },
    );
    this.flushing = done.finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Removes a group's offsets (of one topic, or all) through the log. */
  async delete(group: string, topic?: string): Promise<void> {
    await this.log.append([deleteConsumerOffsetsRecord(group, topic)]);
    this.forget(group, topic);
  }

  private forget(group: string, topic?: string): void {
    for (const k of [...this.table.keys()]) {
      const at = k.indexOf('@');
      if (k.slice(at + 1) === group && (topic === undefined || k.slice(0, at) === topic)) {
        this.table.delete(k);
        this.dirtyCount -= this.dirty.get(k)?.size ?? 0;
        this.dirty.delete(k);
      }
    }
  }

  /** group -> topics it has offsets for */
  groupsOfTopic(topic: string): string[] {
    const out: string[] = [];
    for (const k of this.table.keys()) {
      const at = k.indexOf('@');
      if (k.slice(0, at) === topic) out.push(k.slice(at + 1));
    }
    return out;
  }

  topicsOfGroup(group: string): string[] {
    const out: string[] = [];
    for (const k of this.table.keys()) {
      const at = k.indexOf('@');
      if (k.slice(at + 1) === group) out.push(k.slice(0, at));
    }
    return out;
  }

  /** Every (topic, group) with its committed offsets by queue id, read-only (metrics, admin HTTP). */
  *entries(): IterableIterator<{ topic: string; group: string; queues: ReadonlyMap<number, number> }> {
    for (const [k, queues] of this.table) {
      const at = k.indexOf('@');
      yield { topic: k.slice(0, at), group: k.slice(at + 1), queues };
    }
  }

  allGroups(): Set<string> {
    const out = new Set<string>();
    for (const k of this.table.keys()) out.add(k.slice(k.indexOf('@') + 1));
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
