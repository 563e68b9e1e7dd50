// Broker metadata as log entries: topic configs, subscription groups, consumer and delay
// offsets. Each is an entry of its own magic (EntryMagic.METADATA_MIN and up) with a small
// JSON body, so the same bytes replicate through Raft and apply on every replica into the
// IndexStore; nothing but the log writes them.
import type { SubscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import type { TopicConfig } from '../../../protocol/body/TopicConfig.js';
import { topicConfigFromJson } from '../../../protocol/body/TopicConfig.js';
import type { DispatchRequest } from '../../../storage/index/DispatchRequest.js';
import type { LogEntry } from '../../../storage/log/EntryReader.js';
import type { MetadataAppendRecord } from '../commitlog/CommitLog.js';

export const MetadataMagic = {
  TOPIC: 16,
  SUBSCRIPTION_GROUP: 17,
  CONSUMER_OFFSETS: 18,
  DELETE_CONSUMER_OFFSETS: 19,
  DELAY_OFFSETS: 20,
} as const;

/** Offsets committed for one group and topic: [queueId, offset] pairs. */
export interface OffsetCommit {
  group: string;
  topic: string;
  queues: Array<[number, number]>;
}

export class MetadataDecodeError extends Error {
  override readonly name = 'MetadataDecodeError';
}

function record(magic: number, value: unknown): MetadataAppendRecord {
  return { kind: 'metadata', magic, body: Buffer.from(JSON.stringify(value), 'utf8') };
}

export function topicRecord(name: string, config: TopicConfig | null): MetadataAppendRecord {
  return record(MetadataMagic.TOPIC, { name, config });
}

export function subscriptionGroupRecord(name: string, config: SubscriptionGroupConfig | null): MetadataAppendRecord {
  return record(MetadataMagic.SUBSCRIPTION_GROUP, { name, config });
}

export function consumerOffsetsRecord(commits: readonly OffsetCommit[]): MetadataAppendRecord {
  return record(MetadataMagic.CONSUMER_OFFSETS, { commits });
}

export function deleteConsumerOffsetsRecord(group: string, topic?: string): MetadataAppendRecord {
  return record(MetadataMagic.DELETE_CONSUMER_OFFSETS, topic === undefined ? { group } : { group, topic });
}

export function delayOffsetsRecord(offsets: ReadonlyArray<[number, number]>): MetadataAppendRecord {
  return record(MetadataMagic.DELAY_OFFSETS, { offsets });
}

function parse(entry: LogEntry): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(entry.body.toString('utf8'));
  } catch (e) {
    throw new MetadataDecodeError(`metadata entry ${entry.index} (magic ${entry.magic}) is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null) throw new MetadataDecodeError(`metadata entry ${entry.index} is not a JSON object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, entry: LogEntry): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') throw new MetadataDecodeError(`metadata entry ${entry.index}: field ${k} is not a name`);
  return v;
}

function pairs(v: unknown, entry: LogEntry): Array<[number, number]> {
  if (!Array.isArray(v)) throw new MetadataDecodeError(`metadata entry ${entry.index}: expected [id, offset] pairs`);
  return v.map((p) => {
    if (!Array.isArray(p) || !Number.isSafeInteger(p[0]) || !Number.isSafeInteger(p[1]) || (p[0] as number) < 0 || (p[1] as number) < 0) {
      throw new MetadataDecodeError(`metadata entry ${entry.index}: bad pair ${JSON.stringify(p)}`);
    }
    return [p[0] as number, p[1] as number];
  });
}

/** The IndexStore's view of one metadata entry (LogIndexer's MetadataDecoder). Unknown magics apply nothing. */
export function decodeBrokerMetadata(entry: LogEntry): DispatchRequest[] {
  const base = { index: entry.index, pos: entry.pos };
  switch (entry.magic) {
    case MetadataMagic.TOPIC:
    case MetadataMagic.SUBSCRIPTION_GROUP: {
      const o = parse(entry);
      const name = str(o, 'name', entry);
      const config = o.config;
      const kind = entry.magic === MetadataMagic.TOPIC ? 'topic' : 'subscriptionGroup';
      return [{ ...base, kind, name, value: config === null || config === undefined ? null : JSON.stringify(config) }];
    }
    case MetadataMagic.CONSUMER_OFFSETS: {
      const o = parse(entry);
      if (!Array.isArray(o.commits)) throw new MetadataDecodeError(`metadata entry ${entry.index}: commits missing`);
      return o.commits.map((c: unknown) => {
        const co = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
        return {
          ...base,
          kind: 'consumerOffsets' as const,
          group: str(co, 'group', entry),
          topic: str(co, 'topic', entry),
          offsets: pairs(co.queues, entry).map(([queueId, offset]) => ({ queueId, offset })),
        };
      });
    }
    case MetadataMagic.DELETE_CONSUMER_OFFSETS: {
      const o = parse(entry);
      return [{ ...base, kind: 'deleteConsumerOffsets', group: str(o, 'group', entry), topic: typeof o.topic === 'string' ? o.topic : undefined }];
    }
    case MetadataMagic.DELAY_OFFSETS: {
      const o = parse(entry);
      return [{ ...base, kind: 'delayOffsets', offsets: pairs(o.offsets, entry).map(([level, offset]) => ({ level, offset })) }];
    }
    default:
      return [];
  }
}

/** A stored topic value (JSON text of a TopicConfig) back to the config. */
export function topicConfigFromStored(name: string, json: string): TopicConfig {
  return topicConfigFromJson(name, JSON.parse(json));
}
