// The broker's part of a segment copy (raft/node/SegmentCopy.ts): every metadata table the
// IndexStore holds (topics, subscription groups, consumer offsets, delay progress), as JSON.
// A follower that gets the leader's log from its first index gets this with it, because the
// metadata entries before that index are gone with the segments that held them.
//
// The tables are read one after another while applies go on, so the snapshot may mix states
// of a few neighbouring applied indexes. That is harmless: the follower applies every entry
// from the copied log's first index again, and metadata entries are last-writer-wins (topic and
// group values, offsets) or deletions, so it ends in the leader's state.
import type { ConsumerOffsetsDispatch, DelayOffsetsDispatch, DispatchRequest, MessageDispatch, NamedConfigDispatch } from '../../../storage/index/DispatchRequest.js';
import type { IndexStore } from '../../../storage/index/IndexStore.js';

const FORMAT = 1;

interface SnapshotJson {
  format: number;
  appliedIndex: number;
  topics: Record<string, string>;
  groups: Record<string, string>;
  /** [group, topic, queueId, offset] */
  offsets: Array<[string, string, number, number]>;
  /** [level, offset] */
  delay: Array<[number, number]>;
}

export type MetadataDispatch = Exclude<DispatchRequest, MessageDispatch>;

export async function takeMetadataSnapshot(index: IndexStore): Promise<{ appliedIndex: number; data: Buffer }> {
  // the applied index before reading: every table below is at least this new
  const appliedIndex = index.applied.index;
  const [topics, groups, offsets, delay] = await Promise.all([
    index.listMetadata('topic'),
    index.listMetadata('subscriptionGroup'),
    index.listConsumerOffsets(),
    index.getDelayOffsets(),
  ]);
  const json: SnapshotJson = {
    format: FORMAT,
    appliedIndex,
    topics: Object.fromEntries(topics),
    groups: Object.fromEntries(groups),
    offsets: offsets.map((o) => [o.group, o.topic, o.queueId, o.offset]),
    delay: [...delay],
  };
  return { appliedIndex, data: Buffer.from(JSON.stringify(json), 'utf8') };
}

/** The snapshot as the dispatch records that recreate it, each stamped with `at`. */
export function snapshotDispatches(data: Buffer, at: { index: number; pos: number }): MetadataDispatch[] {
  let json: SnapshotJson;
  try {
    json = JSON.parse(data.toString('utf8')) as SnapshotJson;
  } catch (e) {
    throw new Error(`metadata snapshot of ${data.length} bytes is not JSON: ${(e as Error).message}`);
  }
  if (json.format !== FORMAT) throw new Error(`metadata snapshot format ${String(json.format)}, this build reads ${FORMAT}`);
  const out: MetadataDispatch[] = [];
  const { index, pos } = at;
  for (const [name, value] of Object.entries(json.topics ?? {})) out.push({ kind: 'topic', index, pos, name, value } satisfies NamedConfigDispatch);
  for (const [name, value] of Object.entries(json.groups ?? {})) out.push({ kind: 'subscriptionGroup', index, pos, name, value } satisfies NamedConfigDispatch);
  // one record per group and topic
  const byGroupTopic = new Map<string, ConsumerOffsetsDispatch>();
  for (const [group, topic, queueId, offset] of json.offsets ?? []) {
    const k = `${group}\u0000${topic}`;
    let d = byGroupTopic.get(k);
    if (!d) {
      d = { kind: 'consumerOffsets', index, pos, group, topic, offsets: [] };
      byGroupTopic.set(k, d);
    }
    (d.offsets as Array<{ queueId: number; offset: number }>).push({ queueId, offset });
  }
  out.push(...byGroupTopic.values());
  if ((json.delay ?? []).length > 0) {
    out.push({ kind: 'delayOffsets', index, pos, offsets: json.delay.map(([level, offset]) => ({ level, offset })) } satisfies DelayOffsetsDispatch);
  }
  return out;
}
