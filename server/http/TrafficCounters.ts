// Per-topic and per-group message counters that the send and pull paths bump with plain
// number additions; /metrics reads them at scrape time. The number of label values is
// bounded: past maxKeys distinct keys, everything new is counted under OTHER_LABEL.

import { PlainHistogram, type LabelSet } from './MetricRegistry.js';

export const OTHER_LABEL = '_other';
/** buckets (ms) of the commit log's append latency: accepted by the log -> committed (dledger_append_entry_latency) */
export const APPEND_LATENCY_BUCKETS_MS: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 3000];
/** buckets (ms) of a pull's reads of the consume queue and the log (dledger_read_latency) */
export const READ_LATENCY_BUCKETS_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];
export const DEFAULT_MAX_LABEL_VALUES = 1000;

/** RocketMQ's rocketmq_message_size buckets (bytes): 1 KB, 4 KB, 512 KB, 1 MB, 2 MB, 4 MB. */
export const MESSAGE_SIZE_BUCKETS: readonly number[] = [1024, 4096, 512 * 1024, 1024 * 1024, 2 * 1024 * 1024, 4 * 1024 * 1024];

function sizeBucket(size: number): number {
  const b = MESSAGE_SIZE_BUCKETS;
  for (let i = 0; i < b.length; i++) if (size <= b[i]!) return i;
  return b.length;
}

/** What came in for one topic: messages, bytes and a message size histogram (non-cumulative counts, the last one is +Inf). */
export class TopicIn {
  messages = 0;
  bytes = 0;
  readonly sizeCounts: number[] = new Array<number>(MESSAGE_SIZE_BUCKETS.length + 1).fill(0);
  /** /metrics labels, rendered at the first scrape that sees this topic */
  labels: LabelSet | undefined;
  constructor(readonly topic: string) {}
}

/** What went out for one topic and consumer group. */
export class GroupOut {
  messages = 0;
  bytes = 0;
  /** messages of this group moved to its DLQ, counted under the original topic */
  dlq = 0;
  /** queue id -> the next offset after the last pulled message (inflight = pulled - committed) */
  readonly pulled = new Map<number, number>();
  /** /metrics labels, rendered at the first scrape that sees this pair */
  labels: LabelSet | undefined;
  constructor(
    readonly topic: string,
    readonly group: string,
  ) {}
}

/** A Map with a bound on its keys; keys past the bound share one entry. */
class BoundedTable<V> {
  readonly entries = new Map<string, V>();
  private other: V | undefined;
  constructor(
    private readonly maxKeys: number,
    private readonly make: (key: string) => V,
    private readonly makeOther: () => V,
  ) {}

  get(key: string): V {
    let v = this.entries.get(key);
    if (v !== undefined) return v;
    if (this.entries.size < this.maxKeys) {
      v = this.make(key);
      this.entries.set(key, v);
      return v;
    }
    return (this.other ??= this.makeOther());
  }

  /** every entry, the overflow one last */
  all(): V[] {
    const out = [...this.entries.values()];
    if (this.other) out.push(this.other);
    return out;
  }
}

export class TrafficCounters {
  private readonly topicsIn: BoundedTable<TopicIn>;
  private readonly groupsOut: BoundedTable<GroupOut>;
  /** the last entry looked up: a batch of one topic costs one Map lookup */
  private lastIn: TopicIn | undefined;
  private lastOut: GroupOut | undefined;
  /** message appends, from the call to the commit log until committed (ms) */
  readonly appendLatencyMs = new PlainHistogram(APPEND_LATENCY_BUCKETS_MS);
  /** pulls that reached the store: their consume-queue and log reads (ms) */
  readonly readLatencyMs = new PlainHistogram(READ_LATENCY_BUCKETS_MS);

  constructor(maxLabelValues = DEFAULT_MAX_LABEL_VALUES) {
    this.topicsIn = new BoundedTable(maxLabelValues, (t) => new TopicIn(t), () => new TopicIn(OTHER_LABEL));
    this.groupsOut = new BoundedTable(
      maxLabelValues,
      (k) => {
        const i = k.indexOf('\u0001');
        return new GroupOut(k.slice(0, i), k.slice(i + 1));
      },
      () => new GroupOut(OTHER_LABEL, OTHER_LABEL),
    );
  }

  /** One stored message of `size` record bytes. */
  countIn(topic: string, size: number): void {
    let e = this.lastIn;
    if (e === undefined || e.topic !== topic) this.lastIn = e = this.topicsIn.get(topic);
    e.messages++;
    e.bytes += size;
    e.sizeCounts[sizeBucket(size)]!++;
  }

  private out(topic: string, group: string): GroupOut {
    let e = this.lastOut;
    if (e === undefined || e.topic !== topic || e.group !== group) this.lastOut = e = this.groupsOut.get(`${topic}\u0001${group}`);
    return e;
  }

  /** `messages` messages of `bytes` bytes pulled by `group` from a queue, up to `nextOffset`. */
  countOut(topic: string, group: string, queueId: number, nextOffset: number, messages: number, bytes: number): void {
    const e = this.out(topic, group);
    e.messages += messages;
    e.bytes += bytes;
    if (e.topic !== OTHER_LABEL) e.pulled.set(queueId, nextOffset);
  }

  /** A message of `group` (consumed from `topic`) moved to the group's DLQ. */
  countDlq(topic: string, group: string): void {
    this.out(topic, group).dlq++;
  }

  inByTopic(): TopicIn[] {
    return this.topicsIn.all();
  }

  outByGroup(): GroupOut[] {
    return this.groupsOut.all();
  }
}
