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
  /** where the import of a classic commit log stands (ClassicImport) */
  CLASSIC_IMPORT: 21,
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

/**
 * Where the import of a classic (pre-DLedger) commit log into the group's log stands. Proposed
 * in the same append as each batch of imported records, and once more with `done` at the end.
 */
export interface ClassicImportProgress {
  /** dLegerSelfId of the node whose classic files are imported ('' for a single-node broker) */
  importer: string;
  /** classic commit-log offsets: where the import began, the next record to import, the log's end */
  start: number;
  next: number;
  end: number;
  /** records imported so far, and records left out (transaction half or rolled-back records) */
  records: number;
  skipped: number;
  /** the records and the Java config are in: the group takes writes */
  done: boolean;
}

export function classicImportRecord(p: ClassicImportProgress): MetadataAppendRecord {
  const { importer, start, next, end, records, skipped, done } = p;
  return record(MetadataMagic.CLASSIC_IMPORT, { importer, start, next, end, records, skipped, done });
}

/**
 * The index has no table of its own for the import's progress; it keeps it in the delay-offset
 * table under these levels, which no delay level reaches (Java ships 18; the table takes
 * 0..0xffff). classicImportProgressFromSlots reads it back.
 */
export const CLASSIC_IMPORT_SLOT = {
  STATE: 0xff00,
  IMPORTER: 0xff01,
  START: 0xff02,
  NEXT: 0xff03,
  END: 0xff04,
  RECORDS: 0xff05,
  SKIPPED: 0xff06,
} as const;
const STATE_IMPORTING = 1;
const STATE_DONE = 2;
const IMPORTER_ID = /^n(\d{1,9})$/;

/** A delay level of the import's slots: not a delay level at all. */
export function isClassicImportSlot(level: number): boolean {
  return level >= CLASSIC_IMPORT_SLOT.STATE && level <= CLASSIC_IMPORT_SLOT.SKIPPED;
}

function classicImportSlots(p: ClassicImportProgress): Array<{ level: number; offset: number }> {
  const m = IMPORTER_ID.exec(p.importer);
  return [
    { level: CLASSIC_IMPORT_SLOT.STATE, offset: p.done ? STATE_DONE : STATE_IMPORTING },
    { level: CLASSIC_IMPORT_SLOT.IMPORTER, offset: m ? Number(m[1]) + 1 : 0 },
    { level: CLASSIC_IMPORT_SLOT.START, offset: p.start },
    { level: CLASSIC_IMPORT_SLOT.NEXT, offset: p.next },
    { level: CLASSIC_IMPORT_SLOT.END, offset: p.end },
    { level: CLASSIC_IMPORT_SLOT.RECORDS, offset: p.records },
    { level: CLASSIC_IMPORT_SLOT.SKIPPED, offset: p.skipped },
  ];
}

/** The progress kept in the delay-offset table (index.getDelayOffsets(), or an applied delayOffsets record); undefined when there is none. */
export function classicImportProgressFromSlots(offsets: ReadonlyMap<number, number>): ClassicImportProgress | undefined {
  const state = offsets.get(CLASSIC_IMPORT_SLOT.STATE);
  if (state !== STATE_IMPORTING && state !== STATE_DONE) return undefined;
  const at = (level: number): number => offsets.get(level) ?? 0;
  const importer = at(CLASSIC_IMPORT_SLOT.IMPORTER);
  return {
    importer: importer > 0 ? `n${importer - 1}` : '',
    start: at(CLASSIC_IMPORT_SLOT.START),
    next: at(CLASSIC_IMPORT_SLOT.NEXT),
    end: at(CLASSIC_IMPORT_SLOT.END),
    records: at(CLASSIC_IMPORT_SLOT.RECORDS),
    skipped: at(CLASSIC_IMPORT_SLOT.SKIPPED),
    done: state === STATE_DONE,
  };
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

function offsetField(o: Record<string, unknown>, k: string, entry: LogEntry): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new MetadataDecodeError(`metadata entry ${entry.index}: field ${k} is not an offset`);
  return v;
}

function classicImportProgress(o: Record<string, unknown>, entry: LogEntry): ClassicImportProgress {
  const importer = o.importer;
  if (typeof importer !== 'string' || (importer !== '' && !IMPORTER_ID.test(importer))) {
    throw new MetadataDecodeError(`metadata entry ${entry.index}: importer ${JSON.stringify(importer)} is not a DLedger id n<digits>`);
  }
  if (typeof o.done !== 'boolean') throw new MetadataDecodeError(`metadata entry ${entry.index}: field done is not a boolean`);
  const p: ClassicImportProgress = {
    importer,
    start: offsetField(o, 'start', entry),
    next: offsetField(o, 'next', entry),
    end: offsetField(o, 'end', entry),
    records: offsetField(o, 'records', entry),
    skipped: offsetField(o, 'skipped', entry),
    done: o.done,
  };
  if (p.start > p.next || p.next > p.end) throw new MetadataDecodeError(`metadata entry ${entry.index}: classic offsets ${p.start} <= ${p.next} <= ${p.end} do not hold`);
  return p;
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
    case MetadataMagic.CLASSIC_IMPORT:
      return [{ ...base, kind: 'delayOffsets', offsets: classicImportSlots(classicImportProgress(parse(entry), entry)) }];
    default:
      return [];
  }
}

/** A stored topic value (JSON text of a TopicConfig) back to the config. */
export function topicConfigFromStored(name: string, json: string): TopicConfig {
  return topicConfigFromJson(name, JSON.parse(json));
}
