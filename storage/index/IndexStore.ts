// The RocksDB side of storage: consume queues, the message key and id indexes, broker
// metadata, consumer and delay offsets, and the applied-index checkpoint, all in one database
// (key layout in keyLayout.ts). Everything in it is derived from committed log entries, so it
// is written without fsync and rebuilt by replaying the log when it is missing or damaged.
import fs from 'node:fs';
import path from 'node:path';
import RocksDB from 'rocksdb-native';
import type { DispatchRequest, MessageDispatch } from './DispatchRequest.js';
import { ConsumeQueueReadAhead, consumeQueueEntry, READ_AHEAD_CAPACITY, READ_AHEAD_ENTRIES, READ_AHEAD_RUNS, ReadAheadWindow } from './ConsumeQueueReadAhead.js';
import { IndexStoreError } from './IndexStoreError.js';
import {
  ByteReader,
  ByteSlab,
  CQ_ENTRY_BYTES,
  FORMAT_VERSION,
  JOURNAL_FOOTER_BYTES,
  KIND_APPLIED,
  KIND_CLEAN,
  KIND_CONSUMER_OFFSET,
  KIND_DELAY,
  KIND_JOURNAL,
  KIND_KEY,
  KIND_QUEUE,
  KIND_RUN,
  KIND_SUBSCRIPTION_GROUP,
  KIND_TOPIC,
  KIND_UNIQ,
  KIND_UNIQ_GROUP,
  KIND_VERSION,
  MAX_STR_BYTES,
  NO_QUEUE_REF,
  key,
  maxUtf8,
  prefixEnd,
  queuePrefix,
  readI64,
  readU16,
  readU32,
  UNIQ_GROUP_PREFIX,
  uniqGroupKey,
  uniqGroupPrefix,
  withI64,
  writeI64,
} from './keyLayout.js';

export interface AppliedCheckpoint {
  /** last Raft index whose effects are in the database (-1: none) */
  index: number;
  /** that entry's log position (-1: none) */
  pos: number;
}

export interface ConsumeQueueEntry {
  queueOffset: number;
  physicalOffset: number;
  size: number;
  tagsCode: number;
  storeTimestamp: number;
}

export interface QueueBounds {
  topic: string;
  queueId: number;
  /** smallest offset still held */
  min: number;
  /** next offset to write */
  max: number;
}

export interface ConsumerOffset {
  group: string;
  topic: string;
  queueId: number;
  offset: number;
}

export type MetadataKind = 'topic' | 'subscriptionGroup';
export type TimestampBoundary = 'lower' | 'upper';

export interface IndexStoreOptions {
  /** what to do when the folder holds no usable database: move it aside and start empty (default), or throw */
  onDamaged?: 'rebuild' | 'fail';
  /** consume-queue entries kept in memory per written queue, so tail pulls skip RocksDB (default 256, 0 = none) */
  tailEntries?: number;
}

export interface OpenReport {
  /** the database was created empty: the caller replays the whole log */
  created: boolean;
  /** why the old folder was not usable, and where it went */
  damaged?: { reason: string; movedTo: string };
  /** queues loaded */
  queues: number;
}

export interface IndexStoreStats {
  applies: number;
  dispatches: number;
  /** RocksDB operations written by apply steps */
  writes: number;
  /** consume-queue entries that did not follow their queue's previous one (a gap, left as is) */
  queueOffsetGaps: number;
}

export interface RemovalReport {
  messages: number;
  queues: number;
}

/** The folder under storePathRootDir that the broker gives IndexStore.open. */
export const INDEX_DB_FOLDER = 'index-db';
/** The most dispatch records one apply step takes; callers split longer replays. */
export const MAX_DISPATCHES_PER_APPLY = 8192;
/** Journal records (apply steps) handled per write step by truncation and retention. */
const JOURNALS_PER_STEP = 64;
/** Concurrent seeks when finding each queue's max at open. */
const OPEN_SEEKS = 32;
const DEFAULT_TAIL_ENTRIES = 256;
/** Most 'U' entries one key search reads (a producer that repeats its UNIQ_KEY must not blow it up). */
const MAX_UNIQ_HITS = 1024;
/**
 * 'G' group members one UNIQ_KEY search looks at before it stops, at the end of a group (tens of
 * milliseconds). A Java producer sending 25k messages/s puts some 6,400 keys in a prefix's 256 ms;
 * keys of a custom format that share their first 26 bytes far longer are searched this far back,
 * newest first.
 */
const MAX_UNIQ_MEMBERS_SCANNED = 1 << 16;
/** A group member's bytes besides its UNIQ_KEY and topic: 'G', two str lengths, two i64. */
const UNIQ_MEMBER_OVERHEAD = 1 + 2 + 8 + 8 + 2;
const MAX_TAIL_ENTRIES = 65536;
const MAX_QUEUE_ID = 0x7fffffff;
const EMPTY = Buffer.alloc(0);
const MAX_I64_BYTES = Buffer.alloc(8, 0xff);

class TopicState {
  readonly bytes: Buffer;
  strBytes: Buffer | undefined;
  readonly queues: (QueueState | undefined)[] = [];

  constructor(readonly name: string) {
    this.bytes = Buffer.from(name, 'utf8');
  }
}

/** One consume queue's bounds, its in-memory tail, and the scratch fields of the apply step in progress. */
class QueueState {
  /** 'C' str topic, u32 queueId */
  readonly runPrefix: Buffer;
  min = 0;
  /** next offset to write, as readers see it (moves after the write lands) */
  max = 0;
  /** next offset to write including the write in flight */
  pendingMax = 0;
  /** the 'Q' record exists */
  recorded = false;
  /** tail ring: 4 numbers per entry (physicalOffset, size, tagsCode, storeTimestamp) at slot offset % capacity */
  tail: Float64Array | null = null;
  /** the ring holds every offset from here (or from pendingMax - capacity) to max */
  tailFrom = 0;

  // Scratch of the apply step in progress.
  batchCount = 0;
  batchRef = -1;
  batchFirst = 0;
  batchNext = 0;
  regionOff = 0;
  runStart = 0;
  runFirst = -1;
  runNext = 0;
  batchRuns = 0;

  constructor(
    readonly topic: TopicState,
    readonly queueId: number,
  ) {
    this.runPrefix = queuePrefix(KIND_RUN, topic.bytes, queueId);
  }
}

function isSafeNonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function badDispatch(d: { index: number; pos: number; kind: string }, what: string): IndexStoreError {
  return new IndexStoreError('BAD_DISPATCH', `${d.kind} dispatch of entry ${d.index} at pos ${d.pos}: ${what}`);
}

function checkName(d: DispatchRequest, what: string, v: unknown): void {
  if (!fitsStr(v)) {
    throw badDispatch(d, `${what} must be a non-empty string of at most ${MAX_STR_BYTES} bytes`);
  }
}

function checkQueueId(d: DispatchRequest, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_QUEUE_ID) throw badDispatch(d, `queueId ${String(v)} is not a queue id`);
}

/** RocksDB's refusals to take the folder's LOCK file (this process: "lock hold by current process"; another: "While lock file"). */
function isLockError(err: unknown): boolean {
  return /[/\\]LOCK: |lock hold by current process|While lock file/.test(String((err as Error)?.message ?? err));
}

/** A string a `str` field can hold (the byte count is only computed for long strings). */
function fitsStr(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && (v.length * 3 <= MAX_STR_BYTES || Buffer.byteLength(v) <= MAX_STR_BYTES);
}

/**
 * The UNIQ_KEY groups of one apply step. Members are records in the journal slab ('G', then
 * str uniqKey, i64 physicalOffset, i64 storeTimestamp, str topic); a group is the members whose
 * keys share their first UNIQ_GROUP_PREFIX bytes, and becomes one 'G' put.
 */
class UniqGroups {
  /** per group: [start, end) of each member in the journal slab */
  private readonly byPrefix = new Map<string, number[]>();
  /** the group of the last member added: a producer's keys come in runs */
  private last: number[] | null = null;

  clear(): void {
    this.byPrefix.clear();
    this.last = null;
  }

  add(buf: Buffer, start: number, end: number): void {
    const last = this.last;
    if (last !== null && samePrefix(buf, last[0] as number, start)) {
      last.push(start, end);
      return;
    }
    // the prefix with its length: prefixes of different lengths never meet
    const k = buf.toString('latin1', start + 1, start + 3 + memberPrefixLength(buf, start));
    let g = this.byPrefix.get(k);
    if (g === undefined) {
      g = [];
      this.byPrefix.set(k, g);
    }
    g.push(start, end);
    this.last = g;
  }

  /** Queues one put per group, values in `scratch`; returns how many. */
  emit(w: RocksDB.WriteBatch, scratch: ByteSlab, buf: Buffer, pos: number): number {
    for (const g of this.byPrefix.values()) {
      const first = g[0] as number;
      const key = uniqGroupKey(buf, first + 3, first + 3 + readU16(buf, first + 1), pos);
      const valueAt = scratch.off;
      for (let m = 0; m < g.length; m += 2) {
        const from = (g[m] as number) + 1;
        const to = g[m + 1] as number;
        buf.copy(scratch.buf, scratch.off, from, to);
        scratch.off += to - from;
      }
      w.tryPut(key, scratch.view(valueAt));
    }
    const puts = this.byPrefix.size;
    this.clear();
    return puts;
  }
}

/** How many leading bytes of the member record's UNIQ_KEY at `start` ('G', u16 length, bytes) name its group. */
function memberPrefixLength(buf: Buffer, start: number): number {
  return Math.min(UNIQ_GROUP_PREFIX, readU16(buf, start + 1));
}

function samePrefix(buf: Buffer, a: number, b: number): boolean {
  const n = memberPrefixLength(buf, a);
  if (memberPrefixLength(buf, b) !== n) return false;
  for (let i = 3; i < 3 + n; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

export class IndexStore {
  readonly stats: IndexStoreStats = { applies: 0, dispatches: 0, writes: 0, queueOffsetGaps: 0 };
  private readonly topics = new Map<string, TopicState>();
  private readonly writer: RocksDB.WriteBatch;
  private readonly journal = new ByteSlab(1 << 16);
  private readonly scratch = new ByteSlab(1 << 16);
  /** the apply step's UNIQ_KEY groups */
  private readonly groups = new UniqGroups();
  private readonly touched: QueueState[] = [];
  private readonly queueOf: (QueueState | null)[] = [];
  private appliedIndex = -1;
  private appliedPos = -1;
  private lastStoreTimestamp = -1;
  private lastPhysicalOffset = -1;
  private chain: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  private closing = false;
  private closed: Promise<void> | null = null;
  private lastTopic: TopicState | null = null;
  /** consume-queue windows read ahead from RocksDB, valid while cutEpoch stays */
  private readonly readAhead = new ConsumeQueueReadAhead<QueueState>();
  /** raised whenever truncateFrom cut queues: windows read before then may hold removed entries */
  private cutEpoch = 0;

  private constructor(
    private readonly db: RocksDB,
    readonly dir: string,
    readonly openReport: OpenReport,
    private readonly tailEntries: number,
  ) {
    this.writer = db.write({ capacity: 1024 });
  }

  /**
   * Opens (or creates) the database in `dir`. A folder that RocksDB refuses, that holds files
   * but no database, or a database of another format counts as damaged: with the default
   * onDamaged 'rebuild' it is moved to `<dir>.damaged` (replacing an older one) and the store
   * starts empty with applied index -1, so the caller replays the whole log.
   */
  static async open(dir: string, options: IndexStoreOptions = {}): Promise<IndexStore> {
    const tailEntries = options.tailEntries ?? DEFAULT_TAIL_ENTRIES;
    if (!Number.isInteger(tailEntries) || tailEntries < 0 || tailEntries > MAX_TAIL_ENTRIES) {
      throw new RangeError(`tailEntries must be an integer in 0..${MAX_TAIL_ENTRIES}, got ${tailEntries}`);
    }
    const absolute = path.resolve(dir);
    const entries = fs.existsSync(absolute) ? fs.readdirSync(absolute) : [];
    if (entries.length === 0) return IndexStore.load(absolute, true, tailEntries, { created: true, queues: 0 });
    let reason: string;
    if (!entries.includes('CURRENT')) reason = `holds ${entries.length} files but no RocksDB CURRENT file`;
    else {
      try {
        return await IndexStore.load(absolute, false, tailEntries, { created: false, queues: 0 });
      } catch (err) {
        if (err instanceof IndexStoreError && err.code === 'LOCKED') throw err;
        reason = (err as Error).message;
      }
    }
    if (options.onDamaged === 'fail') throw new IndexStoreError('DAMAGED', `index database ${absolute} is not usable: ${reason}`);
    const movedTo = `${absolute}.damaged`;
    fs.rmSync(movedTo, { recursive: true, force: true });
    fs.renameSync(absolute, movedTo);
    return IndexStore.load(absolute, true, tailEntries, { created: true, damaged: { reason, movedTo }, queues: 0 });
  }

  private static async load(dir: string, fresh: boolean, tailEntries: number, report: OpenReport): Promise<IndexStore> {
    if (fresh) fs.mkdirSync(dir, { recursive: true });
    const db = new RocksDB(dir, { createIfMissing: fresh });
    try {
      await db.ready();
    } catch (err) {
      await db.close().catch(() => undefined);
      if (isLockError(err)) throw new IndexStoreError('LOCKED', `index database ${dir} is in use: ${(err as Error).message}`, { cause: err });
      throw new Error(`RocksDB refused to open it: ${(err as Error).message}`, { cause: err });
    }
    const store = new IndexStore(db, dir, report, tailEntries);
    try {
      if (fresh) await store.initialize();
      else await store.loadState();
    } catch (err) {
      store.failure = err as Error; // close without writing into it
      await store.close().catch(() => undefined);
      throw err;
    }
    report.queues = store.queueCount();
    return store;
  }

  private async initialize(): Promise<void> {
    const version = Buffer.alloc(4);
    version.writeUInt32BE(FORMAT_VERSION);
    this.writer.tryPut(Buffer.from([KIND_VERSION]), version);
    this.writer.tryPut(Buffer.from([KIND_APPLIED]), this.appliedValue());
    await this.writer.flush();
  }

  private async loadState(): Promise<void> {
    const version = await this.db.get(Buffer.from([KIND_VERSION]));
    if (version === null || version.length !== 4) throw new Error('no format version record: not an index database of ours');
    if (version.readUInt32BE(0) !== FORMAT_VERSION) throw new Error(`format version ${version.readUInt32BE(0)}, this build reads ${FORMAT_VERSION}`);
    const applied = await this.db.get(Buffer.from([KIND_APPLIED]));
    if (applied === null || applied.length !== 32) throw new Error('applied checkpoint record missing or malformed');
    this.appliedIndex = readI64(applied, 0);
    this.appliedPos = readI64(applied, 8);
    this.lastStoreTimestamp = readI64(applied, 16);
    this.lastPhysicalOffset = readI64(applied, 24);

    // After a clean close every queue record holds its exact max; otherwise seek each queue's last run.
    const clean = await this.db.get(Buffer.from([KIND_CLEAN]));
    const exact = clean !== null && clean.length === 8 && readI64(clean, 0) === this.appliedIndex;
    const queues: QueueState[] = [];
    for await (const { key: k, value } of this.db.iterator({ gte: Buffer.from([KIND_QUEUE]), lt: Buffer.from([KIND_QUEUE + 1]) }, { capacity: 256 })) {
      const r = new ByteReader(k, 1);
      const topic = r.str();
      const queueId = r.u32();
      if (!r.done || value.length !== 16) throw new Error(`malformed queue record ${k.toString('hex')}`);
      const q = this.queueFor(topic, queueId);
      q.min = readI64(value, 0);
      q.recorded = true;
      if (!exact) queues.push(q);
      else {
        q.max = q.pendingMax = q.tailFrom = readI64(value, 8);
        if (q.max < q.min) throw new Error(`queue ${topic}:${queueId} record has max ${q.max} below min ${q.min}`);
      }
    }
    if (clean !== null) {
      // From the first write on the maxes go stale.
      this.writer.tryDelete(Buffer.from([KIND_CLEAN]));
      await this.writer.flush();
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queues.length) {
        const q = queues[next++] as QueueState;
        let max = q.min;
        for await (const { key: k, value } of this.db.iterator({ gte: q.runPrefix, lt: prefixEnd(q.runPrefix) }, { reverse: true, limit: 1, capacity: 1 })) {
          if (value.length === 0 || value.length % CQ_ENTRY_BYTES !== 0) throw new Error(`malformed consume-queue run ${k.toString('hex')}`);
          max = readI64(k, k.length - 8) + 1;
        }
        if (max < q.min) throw new Error(`queue ${q.topic.name}:${q.queueId} ends at ${max} below its min ${q.min}`);
        q.max = q.pendingMax = q.tailFrom = max;
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_SEEKS, queues.length) }, worker));
  }

  // ---- state read from memory ----

  /** The last Raft entry whose effects are in the database. */
  get applied(): AppliedCheckpoint {
    return { index: this.appliedIndex, pos: this.appliedPos };
  }

  /** Store time and physical offset of the last indexed message (QUERY_MESSAGE's indexLastUpdate*), -1 when none. */
  get lastIndexed(): { storeTimestamp: number; physicalOffset: number } {
    return { storeTimestamp: this.lastStoreTimestamp, physicalOffset: this.lastPhysicalOffset };
  }

  minOffset(topic: string, queueId: number): number {
    return this.findQueue(topic, queueId)?.min ?? 0;
  }

  /** The next offset to write (the number of entries ever written); 0 for an unknown queue. */
  maxOffset(topic: string, queueId: number): number {
    return this.findQueue(topic, queueId)?.max ?? 0;
  }

  queueCount(): number {
    let n = 0;
    for (const t of this.topics.values()) for (const q of t.queues) if (q !== undefined) n++;
    return n;
  }

  /** Every known queue with its bounds; `topic` narrows it to one topic. */
  queues(topic?: string): QueueBounds[] {
    const out: QueueBounds[] = [];
    const one = topic === undefined ? undefined : this.topics.get(topic);
    const topics = topic === undefined ? [...this.topics.values()] : one === undefined ? [] : [one];
    for (const t of topics) {
      for (const q of t.queues) if (q !== undefined) out.push({ topic: t.name, queueId: q.queueId, min: q.min, max: q.max });
    }
    return out;
  }

  // ---- consume-queue reads ----

  async getConsumeQueueEntry(topic: string, queueId: number, offset: number): Promise<ConsumeQueueEntry | undefined> {
    const [entry] = await this.readConsumeQueue(topic, queueId, offset, 1);
    return entry !== undefined && entry.queueOffset === offset ? entry : undefined;
  }

  /**
   * Up to `maxCount` entries at offsets from `fromOffset` (or min, when higher) on, in offset
   * order. Offsets are consecutive unless the log left a gap, which is skipped: check each
   * entry's queueOffset. Recent entries come from memory, older ones from one RocksDB seek.
   */
  async readConsumeQueue(topic: string, queueId: number, fromOffset: number, maxCount: number): Promise<ConsumeQueueEntry[]> {
    this.checkOpen();
    const q = this.findQueue(topic, queueId);
    const out: ConsumeQueueEntry[] = [];
    if (q === undefined || maxCount <= 0) return out;
    const from = Math.max(fromOffset, q.min);
    const end = q.max;
    if (from >= end) return out;
    const tailLow = q.tail === null ? end : Math.max(q.tailFrom, q.pendingMax - this.tailEntries, q.min);
    if (from >= tailLow && q.tail !== null) {
      // The ring has no gaps: every offset from tailLow to max is in it.
      const tail = q.tail;
      const cap = this.tailEntries;
      const stop = Math.min(end, from + maxCount);
      for (let o = from; o < stop; o++) {
        const s = (o % cap) * 4;
        out.push(consumeQueueEntry(o, tail[s]!, tail[s + 1]!, tail[s + 2]!, tail[s + 3]!));
      }
      return out;
    }
    let at = from;
    const ahead = this.readAhead.find(q, from, this.cutEpoch);
    if (ahead !== undefined) {
      ahead.read(from, end, maxCount, out);
      if (out.length >= maxCount || ahead.to >= end) return out;
      at = ahead.to; // the queue grew past the window
    }
    // One iterator reads this and the next READ_AHEAD_ENTRIES entries; the window keeps them
    // for the pulls that follow. Lookups of one entry (ids, binary searches) read only it. The
    // run holding `from` is the first whose last offset is >= from; each run holds at least one entry.
    const epoch = this.cutEpoch;
    const left = maxCount - out.length;
    const single = left === 1;
    const want = single ? 1 : Math.max(left, READ_AHEAD_ENTRIES);
    const firsts: number[] = [];
    const runs: Buffer[] = [];
    let got = 0;
    let to = at;
    for await (const { key: k, value } of this.db.iterator(
      { gte: withI64(q.runPrefix, at), lt: prefixEnd(q.runPrefix) },
      { limit: single ? 1 : READ_AHEAD_RUNS, capacity: single ? 1 : READ_AHEAD_CAPACITY },
    )) {
      const last = readI64(k, k.length - 8);
      const first = last - value.length / CQ_ENTRY_BYTES + 1;
      firsts.push(first);
      runs.push(value);
      got += last + 1 - Math.max(first, at);
      to = last + 1;
      if (got >= want || to >= end) break;
    }
    if (runs.length === 0) return out;
    // Entries at or past max belong to a write still in flight.
    const window = new ReadAheadWindow(epoch, at, Math.min(to, end), firsts, runs);
    if (!single && epoch === this.cutEpoch && !this.closing) this.readAhead.keep(q, window);
    window.read(at, end, maxCount, out);
    return out;
  }

  /**
   * SEARCH_OFFSET_BY_TIMESTAMP: 'lower' gives the first offset stored at or after `timestamp`
   * (max when none is), 'upper' the last stored at or before it (min when none is). Binary
   * search over store times, which the log keeps in order.
   */
  async offsetByTimestamp(topic: string, queueId: number, timestamp: number, boundary: TimestampBoundary = 'lower'): Promise<number> {
    const q = this.findQueue(topic, queueId);
    if (q === undefined) return 0;
    let lo = q.min;
    let hi = q.max - 1;
    let found = boundary === 'lower' ? q.max : q.min;
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const [entry] = await this.readConsumeQueue(topic, queueId, mid, 1);
      if (entry === undefined) break;
      // A gap makes `entry` the next one present; search on its real offset.
      const at = entry.queueOffset;
      if (boundary === 'lower') {
        if (entry.storeTimestamp >= timestamp) {
          found = at;
          hi = mid - 1;
        } else lo = at + 1;
      } else if (entry.storeTimestamp <= timestamp) {
        found = at;
        lo = at + 1;
      } else hi = mid - 1;
    }
    return Math.min(Math.max(found, q.min), q.max);
  }

  /** Store time of the message at the queue's min offset; -1 when the queue is empty. */
  async earliestStoreTime(topic: string, queueId: number): Promise<number> {
    const q = this.findQueue(topic, queueId);
    if (q === undefined) return -1;
    const [entry] = await this.readConsumeQueue(topic, queueId, q.min, 1);
    return entry?.storeTimestamp ?? -1;
  }

  // ---- key and id indexes ----

  /**
   * QUERY_MESSAGE: physical offsets of messages of `topic` whose KEYS hold `key` or whose
   * UNIQ_KEY is `key`, stored within [beginTimestamp, endTimestamp], newest first, at most maxNum.
   */
  async queryByKey(topic: string, keyText: string, maxNum: number, beginTimestamp: number, endTimestamp: number): Promise<number[]> {
    this.checkOpen();
    if (maxNum <= 0 || endTimestamp < beginTimestamp || endTimestamp < 0 || !fitsStr(topic) || !fitsStr(keyText)) return [];
    const begin = Math.max(0, beginTimestamp);
    const end = Math.min(endTimestamp, Number.MAX_SAFE_INTEGER);
    const prefix = key((s) => {
      s.u8(KIND_KEY);
      s.str(topic);
      s.str(keyText);
    }, 16 + maxUtf8(topic) + maxUtf8(keyText));
    const found: { ts: number; phys: number }[] = [];
    const lte = Buffer.concat([withI64(prefix, end), MAX_I64_BYTES]);
    for await (const { key: k } of this.db.iterator({ gte: withI64(prefix, begin), lte }, { reverse: true, limit: maxNum, capacity: Math.min(maxNum, 64), values: false })) {
      found.push({ ts: readI64(k, k.length - 16), phys: readI64(k, k.length - 8) });
    }
    for (const hit of await this.uniqHits(keyText, MAX_UNIQ_HITS)) {
      if (hit.topic === topic && hit.ts >= begin && hit.ts <= end) found.push(hit);
    }
    found.sort((a, b) => b.ts - a.ts || b.phys - a.phys);
    const out: number[] = [];
    for (const hit of found) {
      if (out.length >= maxNum) break;
      if (out[out.length - 1] !== hit.phys && !out.includes(hit.phys)) out.push(hit.phys);
    }
    return out;
  }

  /**
   * Physical offsets of the messages whose UNIQ_KEY is `uniqKey`, newest first. Usually one;
   * a retried or dead-lettered message keeps its UNIQ_KEY in %RETRY% and %DLQ% topics.
   */
  async getByUniqKey(uniqKey: string, maxNum = 32): Promise<number[]> {
    this.checkOpen();
    if (!fitsStr(uniqKey) || maxNum <= 0) return [];
    return (await this.uniqHits(uniqKey, maxNum)).map((h) => h.phys);
  }

  private async uniqHits(uniqKey: string, maxNum: number): Promise<{ ts: number; phys: number; topic: string }[]> {
    const out: { ts: number; phys: number; topic: string }[] = [];
    // 'G' groups of the key's prefix, newest step first, then members newest first
    const uniq = Buffer.from(uniqKey, 'utf8');
    const groupPrefix = uniqGroupPrefix(uniq, 0, uniq.length);
    let scanned = 0;
    for await (const { value } of this.db.iterator({ gte: groupPrefix, lt: prefixEnd(groupPrefix) }, { reverse: true, capacity: 16 })) {
      const hits: { ts: number; phys: number; topic: string }[] = [];
      const r = new ByteReader(value, 0);
      while (!r.done) {
        const n = r.u16();
        const at = r.off;
        r.skip(n);
        const phys = r.i64();
        const ts = r.i64();
        const topicBytes = r.u16();
        const topicAt = r.off;
        r.skip(topicBytes);
        // the topic is decoded for hits only: a lookup passes thousands of other members
        if (n === uniq.length && uniq.equals(value.subarray(at, at + n))) hits.push({ phys, ts, topic: value.toString('utf8', topicAt, topicAt + topicBytes) });
        scanned++;
      }
      for (let i = hits.length - 1; i >= 0 && out.length < maxNum; i--) out.push(hits[i] as { ts: number; phys: number; topic: string });
      if (out.length >= maxNum || scanned >= MAX_UNIQ_MEMBERS_SCANNED) break;
    }
    if (out.length >= maxNum) return out;
    // 'U' entries written before groups
    const prefix = key((s) => {
      s.u8(KIND_UNIQ);
      s.str(uniqKey);
    }, 8 + maxUtf8(uniqKey));
    for await (const { key: k, value } of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) }, { reverse: true, limit: maxNum - out.length, capacity: 8 })) {
      out.push({ phys: readI64(k, k.length - 8), ts: readI64(value, 0), topic: value.toString('utf8', 8) });
    }
    return out;
  }

  // ---- metadata ----

  async getMetadata(kind: MetadataKind, name: string): Promise<string | undefined> {
    this.checkOpen();
    if (!fitsStr(name)) return undefined;
    const value = await this.db.get(this.metadataKey(kind, name));
    return value === null ? undefined : value.toString('utf8');
  }

  /** Every stored value of one kind, by name. */
  async listMetadata(kind: MetadataKind): Promise<Map<string, string>> {
    this.checkOpen();
    const kindByte = kind === 'topic' ? KIND_TOPIC : KIND_SUBSCRIPTION_GROUP;
    const out = new Map<string, string>();
    for await (const { key: k, value } of this.db.iterator({ gte: Buffer.from([kindByte]), lt: Buffer.from([kindByte + 1]) }, { capacity: 256 })) {
      out.set(new ByteReader(k, 1).str(), value.toString('utf8'));
    }
    return out;
  }

  async getConsumerOffset(group: string, topic: string, queueId: number): Promise<number | undefined> {
    this.checkOpen();
    if (!fitsStr(group) || !fitsStr(topic) || !Number.isInteger(queueId) || queueId < 0 || queueId > MAX_QUEUE_ID) return undefined;
    const value = await this.db.get(
      key((s) => {
        s.u8(KIND_CONSUMER_OFFSET);
        s.str(group);
        s.str(topic);
        s.u32(queueId);
      }, 16 + maxUtf8(group) + maxUtf8(topic)),
    );
    return value === null ? undefined : readI64(value, 0);
  }

  /** Stored consumer offsets, all or those of one group (and topic). */
  async listConsumerOffsets(group?: string, topic?: string): Promise<ConsumerOffset[]> {
    this.checkOpen();
    if ((group !== undefined && !fitsStr(group)) || (topic !== undefined && !fitsStr(topic))) return [];
    const prefix = key((s) => {
      s.u8(KIND_CONSUMER_OFFSET);
      if (group !== undefined) s.str(group);
      if (group !== undefined && topic !== undefined) s.str(topic);
    }, 8 + maxUtf8(group ?? '') + maxUtf8(topic ?? ''));
    const out: ConsumerOffset[] = [];
    for await (const { key: k, value } of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) }, { capacity: 256 })) {
      const r = new ByteReader(k, 1);
      const g = r.str();
      const t = r.str();
      out.push({ group: g, topic: t, queueId: r.u32(), offset: readI64(value, 0) });
    }
    return out;
  }

  /** Delay level -> offset in its SCHEDULE_TOPIC_XXXX queue. */
  async getDelayOffsets(): Promise<Map<number, number>> {
    this.checkOpen();
    const out = new Map<number, number>();
    for await (const { key: k, value } of this.db.iterator({ gte: Buffer.from([KIND_DELAY]), lt: Buffer.from([KIND_DELAY + 1]) })) {
      out.set(k.readUInt32BE(1), readI64(value, 0));
    }
    return out;
  }

  private metadataKey(kind: MetadataKind, name: string): Buffer {
    return key((s) => {
      s.u8(kind === 'topic' ? KIND_TOPIC : KIND_SUBSCRIPTION_GROUP);
      s.str(name);
    }, 8 + maxUtf8(name));
  }

  // ---- writes ----

  /**
   * Applies dispatch records of committed entries, in log order, as ONE RocksDB write batch
   * that also moves the applied checkpoint: to `upTo` when given (entries without records,
   * such as no-ops, move it too), else to the last record. Records of entries at or below
   * the applied index are skipped, so replaying from an older point is harmless; all records
   * of one entry belong in the same call. Calls run one after another.
   */
  apply(batch: readonly DispatchRequest[], upTo?: AppliedCheckpoint): Promise<void> {
    return this.serial(() => this.applyNow(batch, upTo));
  }

  /** Runs write steps one after another; refuses new ones once close() was called. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new IndexStoreError('CLOSED', `index store ${this.dir} is closed`));
    const run = this.chain.then(step, step);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private checkOpen(): void {
    if (this.closing) throw new IndexStoreError('CLOSED', `index store ${this.dir} is closed`);
  }

  private checkWritable(): void {
    if (this.failure !== null) {
      throw new IndexStoreError('FAILED', `index store ${this.dir} stopped after a failed write: ${this.failure.message}`, { cause: this.failure });
    }
  }

  private findQueue(topic: string, queueId: number): QueueState | undefined {
    return this.topics.get(topic)?.queues[queueId];
  }

  private queueFor(topic: string, queueId: number): QueueState {
    let t = this.lastTopic;
    if (t === null || t.name !== topic) {
      t = this.topics.get(topic) ?? null;
      if (t === null) {
        t = new TopicState(topic);
        this.topics.set(topic, t);
      }
      this.lastTopic = t;
    }
    let q = t.queues[queueId];
    if (q === undefined) {
      q = new QueueState(t, queueId);
      t.queues[queueId] = q;
    }
    return q;
  }

  /** Pass 1: validate every record and size the step; nothing is changed if it throws. */
  private plan(batch: readonly DispatchRequest[], first: number): { journalBytes: number; scratchBytes: number } {
    let journalBytes = 64;
    let scratchBytes = 128;
    let prevIndex = this.appliedIndex;
    const touched = this.touched;
    const queueOf = this.queueOf;
    queueOf.length = batch.length;
    for (let i = first; i < batch.length; i++) {
      const d = batch[i] as DispatchRequest;
      if (!isSafeNonNegative(d.index) || d.index < prevIndex) throw badDispatch(d, `index ${d.index} goes back from ${prevIndex}`);
      if (!isSafeNonNegative(d.pos)) throw badDispatch(d, `pos ${d.pos} is not a log position`);
      prevIndex = d.index;
      queueOf[i] = null;
      switch (d.kind) {
        case 'message': {
          if (!fitsStr(d.topic)) throw badDispatch(d, `topic must be a non-empty string of at most ${MAX_STR_BYTES} bytes`);
          if (!isSafeNonNegative(d.physicalOffset) || !isSafeNonNegative(d.storeTimestamp) || !isSafeNonNegative(d.queueOffset)) {
            throw badDispatch(d, 'physicalOffset, storeTimestamp and queueOffset must be non-negative safe integers');
          }
          if (!Number.isInteger(d.size) || d.size <= 0 || d.size > 0x7fffffff || !Number.isSafeInteger(d.tagsCode)) throw badDispatch(d, 'size or tagsCode out of range');
          const topicMax = maxUtf8(d.topic);
          let bytes = 64 + topicMax;
          const uniq = d.uniqKey;
          if (uniq !== undefined) {
            if (!fitsStr(uniq)) throw badDispatch(d, `uniqKey must be a non-empty string of at most ${MAX_STR_BYTES} bytes`);
            // its group member, in the journal and once more in the group's value
            const member = UNIQ_MEMBER_OVERHEAD + maxUtf8(uniq) + topicMax;
            if (member > MAX_STR_BYTES && UNIQ_MEMBER_OVERHEAD + Buffer.byteLength(uniq) + Buffer.byteLength(d.topic) > MAX_STR_BYTES) {
              throw badDispatch(d, `uniqKey and topic take more than ${MAX_STR_BYTES - UNIQ_MEMBER_OVERHEAD} bytes together`);
            }
            bytes += 2 + member;
            scratchBytes += member;
          }
          const keys = d.keys;
          if (!Array.isArray(keys)) throw badDispatch(d, 'keys must be an array');
          for (let k = 0; k < keys.length; k++) {
            const word = keys[k];
            if (!fitsStr(word)) throw badDispatch(d, `keys must be non-empty strings of at most ${MAX_STR_BYTES} bytes`);
            bytes += 40 + topicMax + maxUtf8(word);
          }
          journalBytes += bytes + 8 + topicMax;
          scratchBytes += 64 + topicMax * 2 + CQ_ENTRY_BYTES;
          if (d.skipConsumeQueue === true) break;
          checkQueueId(d, d.queueId);
          const q = this.queueFor(d.topic, d.queueId);
          if (q.batchCount === 0) {
            q.batchRef = touched.length;
            touched.push(q);
            q.batchNext = q.pendingMax;
            q.batchFirst = d.queueOffset;
          }
          if (d.queueOffset < q.batchNext) {
            throw badDispatch(d, `queue ${d.topic}:${d.queueId} offset ${d.queueOffset} is below its next offset ${q.batchNext}`);
          }
          q.batchNext = d.queueOffset + 1;
          q.batchCount++;
          queueOf[i] = q;
          break;
        }
        case 'topic':
        case 'subscriptionGroup':
          checkName(d, 'name', d.name);
          if (d.value !== null && typeof d.value !== 'string') throw badDispatch(d, 'value must be a string or null');
          scratchBytes += 16 + maxUtf8(d.name);
          break;
        case 'consumerOffsets':
          checkName(d, 'group', d.group);
          checkName(d, 'topic', d.topic);
          for (const o of d.offsets) {
            checkQueueId(d, o.queueId);
            if (!Number.isSafeInteger(o.offset)) throw badDispatch(d, `offset ${o.offset} is not a safe integer`);
          }
          scratchBytes += d.offsets.length * (32 + maxUtf8(d.group) + maxUtf8(d.topic));
          break;
        case 'deleteConsumerOffsets':
          checkName(d, 'group', d.group);
          if (d.topic !== undefined) checkName(d, 'topic', d.topic);
          scratchBytes += 2 * (16 + maxUtf8(d.group) + maxUtf8(d.topic ?? ''));
          break;
        case 'delayOffsets':
          for (const o of d.offsets) {
            if (!Number.isInteger(o.level) || o.level < 0 || o.level > 0xffff || !Number.isSafeInteger(o.offset)) throw badDispatch(d, `delay level ${o.level} or offset ${o.offset} out of range`);
          }
          scratchBytes += d.offsets.length * 24;
          break;
        default:
          throw badDispatch(d, `unknown kind ${String((d as { kind: unknown }).kind)}`);
      }
    }
    for (const q of touched) {
      scratchBytes += 32 + q.topic.bytes.length * 2 + q.batchCount * CQ_ENTRY_BYTES;
      journalBytes += 8 + q.topic.bytes.length;
    }
    return { journalBytes: journalBytes + JOURNAL_FOOTER_BYTES, scratchBytes };
  }

  private abandonPlan(): void {
    for (const q of this.touched) {
      q.batchCount = 0;
      if (q.max === 0 && q.min === 0 && !q.recorded && q.tail === null) this.forgetQueue(q);
    }
    this.touched.length = 0;
  }

  private forgetQueue(q: QueueState): void {
    const t = q.topic;
    if (t.queues[q.queueId] === q) t.queues[q.queueId] = undefined;
    if (t.queues.every((x) => x === undefined)) {
      this.topics.delete(t.name);
      if (this.lastTopic === t) this.lastTopic = null;
    }
  }

  private async applyNow(batch: readonly DispatchRequest[], upTo: AppliedCheckpoint | undefined): Promise<void> {
    this.checkWritable();
    if (batch.length > MAX_DISPATCHES_PER_APPLY) {
      throw new IndexStoreError('BAD_DISPATCH', `${batch.length} dispatch records in one apply step; the limit is ${MAX_DISPATCHES_PER_APPLY}`);
    }
    if (upTo !== undefined && (!Number.isSafeInteger(upTo.index) || !Number.isSafeInteger(upTo.pos))) {
      throw new IndexStoreError('BAD_DISPATCH', `upTo ${JSON.stringify(upTo)} is not a checkpoint`);
    }
    let first = 0;
    while (first < batch.length && (batch[first] as DispatchRequest).index <= this.appliedIndex) first++;
    const last = first < batch.length ? (batch[batch.length - 1] as DispatchRequest) : undefined;
    const target = upTo ?? (last !== undefined ? { index: last.index, pos: last.pos } : undefined);
    if (target === undefined || (last === undefined && target.index <= this.appliedIndex)) return;
    if (last !== undefined && target.index < last.index) {
      throw new IndexStoreError('BAD_DISPATCH', `upTo index ${target.index} is below the last record's index ${last.index}`);
    }

    let plan: { journalBytes: number; scratchBytes: number };
    try {
      plan = this.plan(batch, first);
    } catch (err) {
      this.abandonPlan();
      throw err;
    }
    let writes: number;
    let lastTs: number;
    let lastPhys: number;
    try {
      [writes, lastTs, lastPhys] = this.build(batch, first, target, plan);
    } catch (err) {
      // Validated records cannot fail here; if one does, the queued writes and the tail
      // rings are half done, so the store stops rather than guess.
      this.failure = err as Error;
      this.touched.length = 0;
      throw new IndexStoreError('FAILED', `building the index write of entries up to ${target.index} failed: ${(err as Error).message}`, { cause: err });
    }
    const touched = this.touched;
    try {
      await this.writer.flush();
    } catch (err) {
      this.failure = err as Error;
      touched.length = 0;
      throw new IndexStoreError('FAILED', `index write of entries up to ${target.index} failed: ${(err as Error).message}`, { cause: err });
    }
    this.lastStoreTimestamp = lastTs;
    this.lastPhysicalOffset = lastPhys;
    this.appliedIndex = target.index;
    this.appliedPos = target.pos;
    for (let r = 0; r < touched.length; r++) {
      const q = touched[r] as QueueState;
      q.min = q.batchFirst;
      q.max = q.batchNext;
      q.recorded = true;
      q.batchCount = 0;
    }
    touched.length = 0;
    this.stats.applies++;
    this.stats.dispatches += batch.length - first;
    this.stats.writes += writes;
  }

  /**
   * Pass 2: queue the step's writes. Keys and values are views into the two slabs; run
   * entries also go to each queue's tail ring. Returns [writes, last store time, last physical offset].
   */
  private build(batch: readonly DispatchRequest[], first: number, target: AppliedCheckpoint, plan: { journalBytes: number; scratchBytes: number }): [number, number, number] {
    const w = this.writer;
    const journal = this.journal;
    const scratch = this.scratch;
    journal.reset(plan.journalBytes);
    scratch.reset(plan.scratchBytes);
    this.groups.clear();
    const touched = this.touched;
    const queueOf = this.queueOf;
    const cap = this.tailEntries;
    for (const q of touched) {
      q.regionOff = scratch.alloc(q.batchCount * CQ_ENTRY_BYTES);
      q.runFirst = -1;
      q.batchRuns = 0;
      if (cap > 0 && q.tail === null) q.tail = new Float64Array(cap * 4);
    }

    let writes = 0;
    let messages = 0;
    let firstPos = -1;
    let lastTs = this.lastStoreTimestamp;
    let lastPhys = this.lastPhysicalOffset;
    for (let i = first; i < batch.length; i++) {
      const d = batch[i] as DispatchRequest;
      if (d.kind !== 'message') {
        writes += this.writeMetadata(d);
        continue;
      }
      if (messages++ === 0) firstPos = d.pos;
      if (d.physicalOffset >= lastPhys) {
        lastPhys = d.physicalOffset;
        lastTs = d.storeTimestamp;
      }
      const q = queueOf[i];
      // Journal entry: the UNIQ_KEY's group member, then the K keys, put straight from the journal bytes.
      journal.i64(d.pos);
      journal.u16(q === null || q === undefined ? NO_QUEUE_REF : q.batchRef);
      journal.i64(d.queueOffset);
      const countAt = journal.alloc(2);
      let count = 0;
      const uniq = d.uniqKey;
      if (uniq !== undefined) {
        // its group member; the group's put comes after the loop
        const lenAt = journal.alloc(2);
        const start = journal.off;
        journal.u8(KIND_UNIQ_GROUP);
        journal.str(uniq);
        journal.i64(d.physicalOffset);
        journal.i64(d.storeTimestamp);
        if (d.topic === q?.topic.name) journal.bytes(this.strBytes(q.topic));
        else journal.str(d.topic);
        journal.buf.writeUInt16BE(journal.off - start, lenAt);
        this.groups.add(journal.buf, start, journal.off);
        count++;
      }
      const keys = d.keys;
      for (let k = 0; k < keys.length; k++) {
        const lenAt = journal.alloc(2);
        const start = journal.off;
        journal.u8(KIND_KEY);
        journal.str(d.topic);
        journal.str(keys[k] as string);
        journal.i64(d.storeTimestamp);
        journal.i64(d.physicalOffset);
        journal.buf.writeUInt16BE(journal.off - start, lenAt);
        w.tryPut(journal.view(start), EMPTY);
        count++;
      }
      journal.buf.writeUInt16BE(count, countAt);
      writes += keys.length;
      if (q === null || q === undefined) continue;

      // Consume-queue entry into the queue's run; a gap closes the run and starts another.
      const offset = d.queueOffset;
      if (q.runFirst >= 0 && offset !== q.runNext) {
        this.emitRun(q);
        writes++;
      }
      if (q.runFirst < 0) {
        // The ring holds no entries below a gap (or below the first entry of an empty queue).
        const empty = q.max === q.min;
        if (q.batchRuns > 0 || (!empty && offset !== q.pendingMax)) this.stats.queueOffsetGaps++;
        if (q.batchRuns > 0 || empty || offset !== q.pendingMax) q.tailFrom = offset;
        q.batchRuns++;
        q.runFirst = offset;
        q.runStart = q.regionOff;
      }
      const b = scratch.buf;
      const at = q.regionOff;
      writeI64(b, at, d.physicalOffset);
      b.writeInt32BE(d.size, at + 8);
      writeI64(b, at + 12, d.tagsCode);
      writeI64(b, at + 20, d.storeTimestamp);
      q.regionOff = at + CQ_ENTRY_BYTES;
      q.runNext = offset + 1;
      if (cap > 0) {
        const tail = q.tail as Float64Array;
        const s = (offset % cap) * 4;
        tail[s] = d.physicalOffset;
        tail[s + 1] = d.size;
        tail[s + 2] = d.tagsCode;
        tail[s + 3] = d.storeTimestamp;
      }
    }

    // One put per UNIQ_KEY group, keyed by the step's first pos (the journal's key).
    writes += this.groups.emit(w, scratch, journal.buf, firstPos);

    // Runs, queue records and the journal's queue table.
    const tableStart = journal.off;
    for (let r = 0; r < touched.length; r++) {
      const q = touched[r] as QueueState;
      this.emitRun(q);
      writes++;
      // From here batchFirst is the queue's min after this step (its first entry if it was empty).
      if (q.max !== q.min) q.batchFirst = q.min;
      if (!q.recorded || q.batchFirst !== q.min) {
        this.putQueueRecord(q, q.batchFirst);
        writes++;
      }
      q.pendingMax = q.batchNext;
      journal.bytes(this.strBytes(q.topic));
      journal.u32(q.queueId);
    }
    if (messages > 0) {
      journal.u32(tableStart);
      journal.u16(touched.length);
      w.tryPut(withI64(Buffer.from([KIND_JOURNAL]), firstPos), journal.view(0));
      writes++;
    }
    w.tryPut(Buffer.from([KIND_APPLIED]), this.appliedValue(target.index, target.pos, lastTs, lastPhys));
    writes++;
    return [writes, lastTs, lastPhys];
  }

  private emitRun(q: QueueState): void {
    if (q.runFirst < 0) return;
    const s = this.scratch;
    const keyAt = s.off;
    s.bytes(q.runPrefix);
    s.i64(q.runNext - 1);
    this.writer.tryPut(s.view(keyAt), s.buf.subarray(q.runStart, q.regionOff));
    q.runFirst = -1;
    q.runStart = q.regionOff;
  }

  private putQueueRecord(q: QueueState, min: number, max = min): void {
    const k = Buffer.from(q.runPrefix);
    k[0] = KIND_QUEUE;
    const v = Buffer.allocUnsafe(16);
    writeI64(v, 0, min);
    writeI64(v, 8, max);
    this.writer.tryPut(k, v);
  }

  private appliedValue(index = this.appliedIndex, pos = this.appliedPos, ts = this.lastStoreTimestamp, phys = this.lastPhysicalOffset): Buffer {
    const v = Buffer.allocUnsafe(32);
    writeI64(v, 0, index);
    writeI64(v, 8, pos);
    writeI64(v, 16, ts);
    writeI64(v, 24, phys);
    return v;
  }

  /** The topic as a `str` field (u16 length + bytes), kept on the topic. */
  private strBytes(t: TopicState): Buffer {
    return (t.strBytes ??= Buffer.concat([Buffer.from([t.bytes.length >>> 8, t.bytes.length & 0xff]), t.bytes]));
  }

  /** Queues a metadata record's writes; returns how many. */
  private writeMetadata(d: Exclude<DispatchRequest, MessageDispatch>): number {
    const w = this.writer;
    const s = this.scratch;
    switch (d.kind) {
      case 'topic':
      case 'subscriptionGroup': {
        const at = s.off;
        s.u8(d.kind === 'topic' ? KIND_TOPIC : KIND_SUBSCRIPTION_GROUP);
        s.str(d.name);
        if (d.value === null) w.tryDelete(s.view(at));
        else w.tryPut(s.view(at), Buffer.from(d.value, 'utf8'));
        return 1;
      }
      case 'consumerOffsets': {
        for (const o of d.offsets) {
          const at = s.off;
          s.u8(KIND_CONSUMER_OFFSET);
          s.str(d.group);
          s.str(d.topic);
          s.u32(o.queueId);
          const keyEnd = s.off;
          s.i64(o.offset);
          w.tryPut(s.view(at, keyEnd), s.view(keyEnd));
        }
        return d.offsets.length;
      }
      case 'deleteConsumerOffsets': {
        const at = s.off;
        s.u8(KIND_CONSUMER_OFFSET);
        s.str(d.group);
        if (d.topic !== undefined) s.str(d.topic);
        const prefix = s.view(at);
        w.tryDeleteRange(prefix, prefixEnd(prefix));
        return 1;
      }
      case 'delayOffsets': {
        for (const o of d.offsets) {
          const at = s.off;
          s.u8(KIND_DELAY);
          s.u32(o.level);
          const keyEnd = s.off;
          s.i64(o.offset);
          w.tryPut(s.view(at, keyEnd), s.view(keyEnd));
        }
        return d.offsets.length;
      }
    }
  }

  // ---- segment copy ----

  /**
   * A segment copy replaced the log, which now starts after `applied`: everything this
   * database holds (messages, queues, keys, metadata) is dropped, the metadata is set to
   * `metadata` (the leader's snapshot), and the applied checkpoint becomes `applied`.
   * Interrupted half way, the database has no applied checkpoint and open() rebuilds it empty,
   * so the caller installs the snapshot again.
   */
  resetTo(applied: AppliedCheckpoint, metadata: ReadonlyArray<Exclude<DispatchRequest, MessageDispatch>>): Promise<void> {
    return this.serial(async () => {
      this.checkWritable();
      if (!Number.isSafeInteger(applied.index) || applied.index < -1 || !Number.isSafeInteger(applied.pos)) {
        throw new RangeError(`applied ${JSON.stringify(applied)} is not a checkpoint`);
      }
      // everything but the format version; the applied record goes first, with the rest
      this.writer.tryDeleteRange(Buffer.from([0]), Buffer.from([KIND_VERSION]));
      this.writer.tryDeleteRange(Buffer.from([KIND_VERSION + 1]), Buffer.from([0xff, 0xff]));
      await this.flushStep();
      this.topics.clear();
      this.cutEpoch++; // read-ahead windows describe the old queues
      this.lastTopic = null;
      this.queueOf.length = 0;
      this.touched.length = 0;
      let pending = 0;
      for (let i = 0; i < metadata.length; i++) {
        const d = metadata[i]!;
        // generous: every string at 3 bytes per UTF-16 unit plus field overheads
        const need = 64 + JSON.stringify(d).length * 3;
        if (pending > 0 && this.scratch.off + need > this.scratch.buf.length) {
          await this.flushStep();
          pending = 0;
        }
        if (pending === 0) this.scratch.reset(Math.max(need, 1 << 16));
        this.writeMetadata(d);
        pending++;
      }
      if (pending > 0) await this.flushStep();
      this.appliedIndex = applied.index;
      this.appliedPos = applied.pos;
      this.lastStoreTimestamp = -1;
      this.lastPhysicalOffset = -1;
      this.writer.tryPut(Buffer.from([KIND_APPLIED]), this.appliedValue());
      await this.flushStep();
    });
  }

  // ---- truncation and retention ----

  /**
   * Removes the consume-queue and key-index entries of messages at log positions >= `pos`
   * (recovery with a log tail shorter than the database, or a follower's cut tail), and
   * moves the applied checkpoint back to `keep` (the last entry still in the log) when it is
   * beyond it. Metadata records cannot be undone; they are Raft entries and come back when
   * the log is refilled. Done in steps of JOURNALS_PER_STEP journal records, newest first, so
   * an interrupted run leaves a consistent prefix and can simply be repeated.
   */
  truncateFrom(pos: number, keep: AppliedCheckpoint): Promise<RemovalReport> {
    return this.serial(async () => {
      this.checkWritable();
      if (!isSafeNonNegative(pos)) throw new RangeError(`pos ${pos} is not a log position`);
      if (!Number.isSafeInteger(keep.index) || keep.index < -1 || !Number.isSafeInteger(keep.pos) || keep.pos >= pos) {
        throw new RangeError(`keep ${JSON.stringify(keep)} must be the last entry before pos ${pos}`);
      }
      const report: RemovalReport = { messages: 0, queues: 0 };
      const queues = new Set<QueueState>();
      // The journal record just below `pos` may hold messages at or above it.
      let start = withI64(Buffer.from([KIND_JOURNAL]), pos);
      for await (const { key: k } of this.db.iterator({ gte: Buffer.from([KIND_JOURNAL]), lt: start }, { reverse: true, limit: 1, values: false })) start = k;
      for (;;) {
        const records = await this.collect(this.db.iterator({ gte: start, lt: Buffer.from([KIND_JOURNAL + 1]) }, { reverse: true, limit: JOURNALS_PER_STEP, capacity: 64 }));
        const cuts = new Map<QueueState, number>();
        let removed = 0;
        for (const { key: k, value } of records) {
          removed += this.rewriteJournal(k, value, (msgPos) => msgPos >= pos, (q, offset) => {
            const cut = cuts.get(q);
            if (cut === undefined || offset < cut) cuts.set(q, offset);
          });
        }
        for (const [q, cut] of cuts) {
          await this.cutQueueAbove(q, cut);
          queues.add(q);
        }
        await this.flushStep();
        for (const [q, cut] of cuts) {
          q.max = q.pendingMax = Math.min(q.max, cut);
          if (q.min > q.max) q.min = q.max;
          q.tailFrom = q.max;
        }
        this.cutEpoch++;
        report.messages += removed;
        if (records.length < JOURNALS_PER_STEP || removed === 0) break;
      }
      if (keep.index < this.appliedIndex) {
        this.appliedIndex = keep.index;
        this.appliedPos = keep.pos;
        if (this.lastPhysicalOffset >= pos) {
          this.lastPhysicalOffset = -1;
          this.lastStoreTimestamp = -1;
        }
        this.writer.tryPut(Buffer.from([KIND_APPLIED]), this.appliedValue());
        await this.flushStep();
      }
      report.queues = queues.size;
      return report;
    });
  }

  /**
   * Retention: removes the consume-queue and key-index entries of messages at log positions
   * below `pos` (the log's new start) and raises each queue's min offset past them.
   */
  dropBefore(pos: number): Promise<RemovalReport> {
    return this.serial(async () => {
      this.checkWritable();
      if (!isSafeNonNegative(pos)) throw new RangeError(`pos ${pos} is not a log position`);
      const report: RemovalReport = { messages: 0, queues: 0 };
      const queues = new Set<QueueState>();
      const end = withI64(Buffer.from([KIND_JOURNAL]), pos);
      for (;;) {
        const records = await this.collect(this.db.iterator({ gte: Buffer.from([KIND_JOURNAL]), lt: end }, { limit: JOURNALS_PER_STEP, capacity: 64 }));
        if (records.length === 0) break;
        const cuts = new Map<QueueState, number>();
        for (const { key: k, value } of records) {
          report.messages += this.rewriteJournal(k, value, (msgPos) => msgPos < pos, (q, offset) => {
            if (offset + 1 > (cuts.get(q) ?? -1)) cuts.set(q, offset + 1);
          });
        }
        const mins = new Map<QueueState, number>();
        for (const [q, cut] of cuts) {
          const min = Math.min(Math.max(q.min, cut), q.max);
          if (min > q.min) {
            await this.cutQueueBelow(q, min);
            this.putQueueRecord(q, min);
            mins.set(q, min);
          }
          queues.add(q);
        }
        await this.flushStep();
        for (const [q, min] of mins) q.min = min;
        if (records.length < JOURNALS_PER_STEP) break;
      }
      report.queues = queues.size;
      return report;
    });
  }

  private async collect(it: AsyncIterable<{ key: Buffer; value: Buffer }>): Promise<{ key: Buffer; value: Buffer }[]> {
    const out: { key: Buffer; value: Buffer }[] = [];
    for await (const e of it) out.push(e);
    return out;
  }

  private async flushStep(): Promise<void> {
    try {
      await this.writer.flush();
    } catch (err) {
      this.failure = err as Error;
      throw new IndexStoreError('FAILED', `index write failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Queues deletes for the key-index entries of the journal's messages that `remove` picks,
   * reports their consume-queue entries through `onQueueEntry`, and rewrites the journal
   * record with the messages left (keyed by the first one's pos). Returns how many it removed.
   */
  private rewriteJournal(k: Buffer, value: Buffer, remove: (pos: number) => boolean, onQueueEntry: (q: QueueState, offset: number) => void): number {
    const w = this.writer;
    const footer = value.length - JOURNAL_FOOTER_BYTES;
    const tableStart = footer >= 0 ? readU32(value, footer) : -1;
    if (footer < 0 || tableStart > footer) throw new IndexStoreError('DAMAGED', `journal record ${k.toString('hex')} has no valid footer`);
    const queueCount = readU16(value, footer + 4);
    const table = new ByteReader(value, tableStart, footer);
    const refs: (QueueState | undefined)[] = [];
    for (let i = 0; i < queueCount; i++) {
      const topic = table.str();
      refs.push(this.findQueue(topic, table.u32()));
    }
    let removed = 0;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let keptFirstPos = -1;
    // UNIQ_KEY group members ([start, end) of each 'G' record), of every message and of the kept ones
    const members: number[] = [];
    const keptMembers: number[] = [];
    const r = new ByteReader(value, 0, tableStart);
    while (!r.done) {
      const start = r.off;
      const msgPos = r.i64();
      const queueRef = r.u16();
      const offset = r.i64();
      const count = r.u16();
      const keep = !remove(msgPos);
      for (let i = 0; i < count; i++) {
        const n = r.u16();
        if (value[r.off] === KIND_UNIQ_GROUP) {
          members.push(r.off, r.off + n);
          if (keep) keptMembers.push(r.off, r.off + n);
        } else if (!keep) w.tryDelete(value.subarray(r.off, r.off + n));
        r.skip(n);
      }
      if (keep) {
        if (keptFirstPos < 0) keptFirstPos = msgPos;
        kept.push(value.subarray(start, r.off));
        keptBytes += r.off - start;
        continue;
      }
      removed++;
      if (queueRef !== NO_QUEUE_REF) {
        const q = refs[queueRef];
        if (q !== undefined) onQueueEntry(q, offset);
      }
    }
    if (removed === 0) return 0;
    w.tryDelete(k);
    // The step's groups are keyed by its first pos, which may change: each is deleted, and put
    // again with its kept members under the rewritten journal's key.
    const oldPos = readI64(k, 1);
    const deleted = new Set<string>();
    for (let m = 0; m < members.length; m += 2) {
      const s = members[m] as number;
      const groupKey = uniqGroupKey(value, s + 3, s + 3 + readU16(value, s + 1), oldPos);
      const id = groupKey.toString('latin1');
      if (deleted.has(id)) continue;
      deleted.add(id);
      w.tryDelete(groupKey);
    }
    if (keptMembers.length > 0) {
      const groups = new Map<string, { key: Buffer; parts: Buffer[] }>();
      for (let m = 0; m < keptMembers.length; m += 2) {
        const s = keptMembers[m] as number;
        const groupKey = uniqGroupKey(value, s + 3, s + 3 + readU16(value, s + 1), keptFirstPos);
        const id = groupKey.toString('latin1');
        let g = groups.get(id);
        if (g === undefined) {
          g = { key: groupKey, parts: [] };
          groups.set(id, g);
        }
        g.parts.push(value.subarray(s + 1, keptMembers[m + 1] as number));
      }
      for (const g of groups.values()) w.tryPut(g.key, Buffer.concat(g.parts));
    }
    if (kept.length > 0) {
      const tail = Buffer.from(value.subarray(tableStart));
      tail.writeUInt32BE(keptBytes, tail.length - JOURNAL_FOOTER_BYTES);
      kept.push(tail);
      w.tryPut(withI64(Buffer.from([KIND_JOURNAL]), keptFirstPos), Buffer.concat(kept));
    }
    return removed;
  }

  /** Queues the writes that remove offsets >= cut from a queue's runs. */
  private async cutQueueAbove(q: QueueState, cut: number): Promise<void> {
    for await (const { key: k, value } of this.db.iterator({ gte: withI64(q.runPrefix, cut), lt: prefixEnd(q.runPrefix) }, { capacity: 64 })) {
      const last = readI64(k, k.length - 8);
      const first = last - value.length / CQ_ENTRY_BYTES + 1;
      this.writer.tryDelete(k);
      if (first < cut) this.writer.tryPut(withI64(q.runPrefix, cut - 1), Buffer.from(value.subarray(0, (cut - first) * CQ_ENTRY_BYTES)));
    }
    if (cut < q.min) this.putQueueRecord(q, cut);
  }

  /** Queues the writes that remove offsets < cut from a queue's runs. */
  private async cutQueueBelow(q: QueueState, cut: number): Promise<void> {
    for await (const { key: k, value } of this.db.iterator({ gte: withI64(q.runPrefix, q.min), lt: prefixEnd(q.runPrefix) }, { capacity: 64 })) {
      const last = readI64(k, k.length - 8);
      const first = last - value.length / CQ_ENTRY_BYTES + 1;
      if (first >= cut) break;
      if (last < cut) this.writer.tryDelete(k);
      else {
        this.writer.tryPut(Buffer.from(k), Buffer.from(value.subarray((cut - first) * CQ_ENTRY_BYTES)));
        break;
      }
    }
  }

  /** Waits for writes in progress, records every queue's bounds (so the next open needs no seeks), closes. */
  close(): Promise<void> {
    if (this.closed === null) {
      this.closing = true;
      this.closed = this.chain.then(async () => {
        try {
          if (this.failure === null) {
            for (const t of this.topics.values()) for (const q of t.queues) if (q !== undefined && q.recorded) this.putQueueRecord(q, q.min, q.max);
            const v = Buffer.allocUnsafe(8);
            writeI64(v, 0, this.appliedIndex);
            this.writer.tryPut(Buffer.from([KIND_CLEAN]), v);
            await this.writer.flush();
          }
        } finally {
          this.writer.destroy();
          await this.db.close();
        }
      });
    }
    return this.closed;
  }
}
