// Read-only access to what a classic (non-DLedger) Java RocketMQ broker left on disk: the
// `commitlog/` segments and the `config/*.json` files. This is the upgrade path: a raftmq
// broker taking over an old store reads the old messages and imports topics and offsets.
import fs from 'node:fs/promises';
import path from 'node:path';
import { dataVersionFromJson, type DataVersion } from '../../protocol/body/DataVersion.js';
import { topicConfigFromJson, type TopicConfig } from '../../protocol/body/TopicConfig.js';
import { parseLenientJson } from '../../protocol/json/lenientJson.js';
import {
  BLANK_MAGIC,
  MESSAGE_MAGIC_V1,
  MESSAGE_MAGIC_V2,
  MessageFormatError,
  MessageProperty,
  decodeStoredMessage,
  maskedCrc32,
  storedMessageSizeOf,
  tagsCodeOf,
  type StoredMessage,
} from '../../protocol/message/index.js';

/** RocketMQ's default `mappedFileSizeCommitLog`: 1 GiB. */
export const CLASSIC_SEGMENT_SIZE = 1024 * 1024 * 1024;
/** Java's recovery checks the newest 3 files record by record; so does open() by default. */
export const DEFAULT_SCAN_FILES = 3;
/** Bytes read from disk at a time while scanning. */
const READ_CHUNK = 1024 * 1024;
/** Smallest legal record (v1, IPv4 hosts, nothing in body, topic or properties). */
const MIN_RECORD_SIZE = storedMessageSizeOf(0, MESSAGE_MAGIC_V1, 0, 0, 0);
const SEGMENT_NAME = /^\d{20}$/;
const ZEROS = Buffer.alloc(READ_CHUNK);

export type ClassicCommitLogErrorCode =
  | 'BAD_FILE' // a segment file that does not fit the layout (size, name, gap)
  | 'BAD_MAGIC' // neither a message, a BLANK filler nor the zero tail
  | 'BAD_SIZE' // TOTALSIZE below the minimum or past the end of the file
  | 'BAD_RECORD' // the record's fields do not decode (see `cause`)
  | 'OFFSET_MISMATCH' // the record's PHYSICALOFFSET is not where it sits
  | 'CRC_MISMATCH' // BODYCRC does not match the body
  | 'DATA_AFTER_END' // non-zero bytes after the zero tail began
  | 'NOT_A_RECORD' // readAt() at a BLANK filler or the zero tail
  | 'OUT_OF_RANGE'; // an offset outside [minOffset, maxOffset)

/** Damage or a bad request, naming the segment file and where in it. */
export class ClassicCommitLogError extends Error {
  override readonly name = 'ClassicCommitLogError';
  readonly code: ClassicCommitLogErrorCode;
  /** path of the segment file, when the problem is in one */
  readonly file: string | undefined;
  /** byte offset inside `file` */
  readonly fileOffset: number | undefined;
  /** commit-log (physical) offset of the problem */
  readonly physicalOffset: number | undefined;

  constructor(
    code: ClassicCommitLogErrorCode,
    message: string,
    where?: { file: string; fileOffset: number; physicalOffset: number },
    options?: { cause?: unknown },
  ) {
    super(where ? `${where.file} at file offset ${where.fileOffset} (commit-log offset ${where.physicalOffset}): ${message}` : message, options);
    this.code = code;
    this.file = where?.file;
    this.fileOffset = where?.fileOffset;
    this.physicalOffset = where?.physicalOffset;
  }
}

export interface ClassicSegment {
  /** the file name: the 20-digit start offset */
  name: string;
  path: string;
  /** commit-log offset of the file's first byte */
  start: number;
  /** file length (always the segment size: Java preallocates) */
  size: number;
}

export interface ClassicRecord {
  physicalOffset: number;
  /** the record's bytes: readAt() returns its own copy, iterate() a view into a read chunk */
  bytes: Buffer;
  /** decoded fields; `message.body` is a view into `bytes` */
  message: StoredMessage;
}

export interface ClassicCommitLogOptions {
  /** `mappedFileSizeCommitLog` of the broker that wrote the store (default 1 GiB) */
  segmentSize?: number;
  /** how many of the newest files open() checks record by record (default 3, as Java's recovery; Infinity: all) */
  scanFiles?: number;
  /** check BODYCRC on every record read (default true) */
  checkCrc?: boolean;
  /**
   * What open() does with damage in the files it scans: false (default) refuses with an
   * error; true ends the log at the damaged record, as Java's abnormal recovery would, and
   * reports it in `damage`.
   */
  stopAtDamage?: boolean;
}

export interface ReadOptions {
  /** also inflate a compressed body into `message.inflatedBody` */
  inflate?: boolean;
}

/** Where a walk over the files stopped: the end of the log or the end of the requested range. */
interface WalkEnd {
  offset: number;
  /** index of the segment holding `offset` (segments.length when past the last file) */
  segmentIndex: number;
  /** true when the zero tail begins at `offset` */
  zeroTail: boolean;
}

export class ClassicCommitLog {
  readonly dir: string;
  readonly segmentSize: number;
  readonly segments: readonly ClassicSegment[];
  /** offset of the first byte still on disk */
  readonly minOffset: number;
  /** offset just past the last record: where the Java broker would have written next */
  readonly maxOffset: number;
  /** set when `stopAtDamage` ended the log early at a damaged record */
  readonly damage: ClassicCommitLogError | undefined;
  private readonly checkCrc: boolean;

  private constructor(
    dir: string,
    segmentSize: number,
    segments: ClassicSegment[],
    maxOffset: number,
    checkCrc: boolean,
    damage: ClassicCommitLogError | undefined,
  ) {
    this.dir = dir;
    this.segmentSize = segmentSize;
    this.segments = segments;
    this.minOffset = segments[0]?.start ?? 0;
    this.maxOffset = maxOffset;
    this.checkCrc = checkCrc;
    this.damage = damage;
  }

  /**
   * Lists the segment files, checks that they are contiguous and full-length, and scans the
   * newest ones record by record to find the end: the first 8 zero bytes (TOTALSIZE and
   * MAGICCODE both 0), after which every byte must be zero.
   */
  static async open(dir: string, options: ClassicCommitLogOptions = {}): Promise<ClassicCommitLog> {
    const segmentSize = options.segmentSize ?? CLASSIC_SEGMENT_SIZE;
    if (!Number.isSafeInteger(segmentSize) || segmentSize < MIN_RECORD_SIZE + 8) {
      throw new RangeError(`segmentSize must be an integer of at least ${MIN_RECORD_SIZE + 8} bytes, got ${segmentSize}`);
    }
    const scanFiles = options.scanFiles ?? DEFAULT_SCAN_FILES;
    if (!(scanFiles >= 1)) throw new RangeError(`scanFiles must be at least 1, got ${scanFiles}`);
    const checkCrc = options.checkCrc ?? true;

    const segments = await listSegments(dir, segmentSize);
    const empty = new ClassicCommitLog(dir, segmentSize, segments, segments[0]?.start ?? 0, checkCrc, undefined);
    if (segments.length === 0) return empty;

    // Start where Java's recovery starts; step back over files that hold nothing yet (the
    // preallocated next file), so that the scan always begins at a file with records.
    let first = Math.max(0, segments.length - Math.min(scanFiles, segments.length));
    while (first > 0 && (await startsWithZeros(segments[first] as ClassicSegment))) first--;

    const end: WalkEnd = { offset: 0, segmentIndex: 0, zeroTail: false };
    try {
      for await (const record of empty.walk(first, 0, Number.MAX_SAFE_INTEGER, end, {})) void record;
      if (end.zeroTail) await checkZeroFrom(segments, end);
    } catch (err) {
      if (!(options.stopAtDamage && err instanceof ClassicCommitLogError && err.physicalOffset !== undefined)) throw err;
      // Damage ends the log where it starts; bytes after the zero tail leave the end where the zeros begin.
      const endOffset = err.code === 'DATA_AFTER_END' ? end.offset : err.physicalOffset;
      return new ClassicCommitLog(dir, segmentSize, segments, endOffset, checkCrc, err);
    }
    return new ClassicCommitLog(dir, segmentSize, segments, end.offset, checkCrc, undefined);
  }

  /** Reads and checks the record that starts at `physicalOffset`; the bytes are a fresh copy. */
  async readAt(physicalOffset: number, options: ReadOptions = {}): Promise<ClassicRecord> {
    const index = this.segmentIndexOf(physicalOffset);
    const segment = this.segments[index] as ClassicSegment;
    const filePos = physicalOffset - segment.start;
    const handle = await fs.open(segment.path, 'r');
    try {
      const reader = new ChunkReader(handle, segment, 8);
      const step = await inspect(reader, segment, filePos, this.checkCrc, options);
      if (step.kind !== 'record') {
        throw new ClassicCommitLogError(
          'NOT_A_RECORD',
          step.kind === 'blank' ? 'a BLANK end-of-file filler, not a record' : 'the zero tail after the last record, not a record',
          where(segment, filePos),
        );
      }
      return step.record;
    } finally {
      await handle.close();
    }
  }

  /**
   * Every record from `fromOffset` (a record start; default minOffset) up to maxOffset, in
   * order, each checked. Records are views into 1 MiB read chunks: copy one to keep it long.
   */
  async *iterate(fromOffset: number = this.minOffset, options: ReadOptions = {}): AsyncGenerator<ClassicRecord, void, undefined> {
    if (fromOffset === this.maxOffset) return;
    const index = this.segmentIndexOf(fromOffset);
    const end: WalkEnd = { offset: 0, segmentIndex: 0, zeroTail: false };
    yield* this.walk(index, fromOffset - (this.segments[index] as ClassicSegment).start, this.maxOffset, end, options);
  }

  private segmentIndexOf(physicalOffset: number): number {
    if (!Number.isSafeInteger(physicalOffset) || physicalOffset < this.minOffset || physicalOffset >= this.maxOffset) {
      throw new ClassicCommitLogError(
        'OUT_OF_RANGE',
        `commit-log offset ${physicalOffset} is outside [${this.minOffset}, ${this.maxOffset}) of ${this.dir}`,
      );
    }
    return Math.floor((physicalOffset - this.minOffset) / this.segmentSize);
  }

  /** Yields records from segment `index` at `filePos` until `stopAt`, a BLANK-less end, or the zero tail; fills `end`. */
  private async *walk(
    index: number,
    filePos: number,
    stopAt: number,
    end: WalkEnd,
    options: ReadOptions,
  ): AsyncGenerator<ClassicRecord, void, undefined> {
    for (; index < this.segments.length; index++, filePos = 0) {
      const segment = this.segments[index] as ClassicSegment;
      const handle = await fs.open(segment.path, 'r');
      try {
        const reader = new ChunkReader(handle, segment, READ_CHUNK);
        while (filePos < segment.size) {
          if (segment.start + filePos >= stopAt) {
            Object.assign(end, { offset: segment.start + filePos, segmentIndex: index, zeroTail: false });
            return;
          }
          const step = await inspect(reader, segment, filePos, this.checkCrc, options);
          if (step.kind === 'zero') {
            Object.assign(end, { offset: segment.start + filePos, segmentIndex: index, zeroTail: true });
            return;
          }
          if (step.kind === 'blank') break;
          yield step.record;
          filePos += step.record.message.storeSize;
        }
      } finally {
        await handle.close();
      }
    }
    const last = this.segments[this.segments.length - 1] as ClassicSegment;
    Object.assign(end, { offset: last.start + last.size, segmentIndex: this.segments.length, zeroTail: false });
  }
}

type Step = { kind: 'record'; record: ClassicRecord } | { kind: 'blank' } | { kind: 'zero' };

function where(segment: ClassicSegment, filePos: number): { file: string; fileOffset: number; physicalOffset: number } {
  return { file: segment.path, fileOffset: filePos, physicalOffset: segment.start + filePos };
}

const hex8 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Classifies what starts at `filePos` and, for a record, decodes and checks it. */
async function inspect(reader: ChunkReader, segment: ClassicSegment, filePos: number, checkCrc: boolean, options: ReadOptions): Promise<Step> {
  const left = segment.size - filePos;
  if (left < 8) {
    // Java always leaves room for a BLANK (8 bytes), so fewer can only be zero tail.
    const rest = await reader.view(filePos, left);
    if (rest.equals(ZEROS.subarray(0, left))) return { kind: 'zero' };
    throw new ClassicCommitLogError('BAD_SIZE', `${left} non-zero bytes at the end of the file, too few for a record or a BLANK`, where(segment, filePos));
  }
  const head = await reader.view(filePos, 8);
  const totalSize = head.readInt32BE(0);
  const magic = head.readUInt32BE(4);
  if (totalSize === 0 && magic === 0) return { kind: 'zero' };
  if (magic === BLANK_MAGIC) return { kind: 'blank' };
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) {
    throw new ClassicCommitLogError(
      'BAD_MAGIC',
      `MAGICCODE ${hex8(magic)} (TOTALSIZE ${totalSize}) is neither a message (daa320a7/daa320ab), a BLANK filler (cbd43194) nor the zero tail`,
      where(segment, filePos),
    );
  }
  if (totalSize < MIN_RECORD_SIZE || totalSize > left) {
    throw new ClassicCommitLogError(
      'BAD_SIZE',
      totalSize < MIN_RECORD_SIZE
        ? `TOTALSIZE ${totalSize} is below the ${MIN_RECORD_SIZE}-byte minimum record`
        : `TOTALSIZE ${totalSize} runs past the end of the file (${left} bytes left)`,
      where(segment, filePos),
    );
  }
  const bytes = await reader.view(filePos, totalSize);
  let message: StoredMessage;
  try {
    message = decodeStoredMessage(bytes, 0, { inflate: options.inflate === true });
  } catch (err) {
    if (!(err instanceof MessageFormatError)) throw err;
    throw new ClassicCommitLogError('BAD_RECORD', `the record does not decode: ${err.message}`, where(segment, filePos), { cause: err });
  }
  const at = segment.start + filePos;
  if (message.physicalOffset !== at) {
    throw new ClassicCommitLogError(
      'OFFSET_MISMATCH',
      `the record says PHYSICALOFFSET ${message.physicalOffset} but sits at ${at} (wrong segmentSize, or a renamed file?)`,
      where(segment, filePos),
    );
  }
  if (checkCrc && message.body.length > 0) {
    const computed = maskedCrc32(message.body);
    if (computed !== message.bodyCrc) {
      throw new ClassicCommitLogError(
        'CRC_MISMATCH',
        `BODYCRC ${hex8(message.bodyCrc)} does not match the ${message.body.length}-byte body (computed ${hex8(computed)}): the record is damaged`,
        where(segment, filePos),
      );
    }
  }
  return { kind: 'record', record: { physicalOffset: at, bytes, message } };
}

/**
 * Reads a file in chunks. Each refill is a new buffer, so views handed out earlier stay valid
 * (and keep their chunk alive).
 */
class ChunkReader {
  private chunk: Buffer = Buffer.alloc(0);
  private chunkStart = 0;

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly segment: ClassicSegment,
    private readonly chunkSize: number,
  ) {}

  /** `length` bytes at `pos` of the file (the caller keeps within the file). */
  async view(pos: number, length: number): Promise<Buffer> {
    const at = pos - this.chunkStart;
    if (at >= 0 && at + length <= this.chunk.length) return this.chunk.subarray(at, at + length);
    const want = Math.min(Math.max(this.chunkSize, length), this.segment.size - pos);
    const buf = Buffer.allocUnsafe(want);
    const got = await readFully(this.handle, buf, pos);
    if (got < length) {
      throw new ClassicCommitLogError(
        'BAD_FILE',
        `the file ends after ${pos + got} bytes, shorter than its ${this.segment.size} bytes at open (changed underneath?)`,
        where(this.segment, pos + got),
      );
    }
    this.chunk = buf.subarray(0, got);
    this.chunkStart = pos;
    return this.chunk.subarray(0, length);
  }
}

async function readFully(handle: fs.FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

async function listSegments(dir: string, segmentSize: number): Promise<ClassicSegment[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile() && SEGMENT_NAME.test(e.name))
    .map((e) => e.name)
    .sort();
  const segments: ClassicSegment[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const start = Number(name);
    if (!Number.isSafeInteger(start)) throw new ClassicCommitLogError('BAD_FILE', `${file}: start offset ${name} is beyond 2^53`);
    const previous = segments[segments.length - 1];
    if (previous && start !== previous.start + segmentSize) {
      throw new ClassicCommitLogError(
        'BAD_FILE',
        `${file}: expected the file after ${previous.name} to start at ${previous.start + segmentSize} (segmentSize ${segmentSize}); a file is missing or segmentSize is wrong`,
      );
    }
    const { size } = await fs.stat(file);
    if (size !== segmentSize) {
      throw new ClassicCommitLogError(
        'BAD_FILE',
        `${file} is ${size} bytes, not the segmentSize ${segmentSize}: pass the store's mappedFileSizeCommitLog as segmentSize`,
      );
    }
    segments.push({ name, path: file, start, size });
  }
  return segments;
}

async function startsWithZeros(segment: ClassicSegment): Promise<boolean> {
  const handle = await fs.open(segment.path, 'r');
  try {
    const head = Buffer.alloc(8);
    const got = await readFully(handle, head, 0);
    return got === 8 && head.equals(ZEROS.subarray(0, 8));
  } finally {
    await handle.close();
  }
}

/** Everything from the end of the log to the end of the last file must be zero: anything else hides records. */
async function checkZeroFrom(segments: readonly ClassicSegment[], end: WalkEnd): Promise<void> {
  for (let index = end.segmentIndex; index < segments.length; index++) {
    const segment = segments[index] as ClassicSegment;
    const handle = await fs.open(segment.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      let pos = index === end.segmentIndex ? end.offset - segment.start : 0;
      while (pos < segment.size) {
        const got = await readFully(handle, buf.subarray(0, Math.min(READ_CHUNK, segment.size - pos)), pos);
        if (got === 0) break;
        const chunk = buf.subarray(0, got);
        if (!chunk.equals(ZEROS.subarray(0, got))) {
          const at = pos + chunk.findIndex((b) => b !== 0);
          throw new ClassicCommitLogError(
            'DATA_AFTER_END',
            `non-zero bytes after the end of the log at commit-log offset ${end.offset}: records may be hidden behind zeroed bytes (the store was not shut down cleanly?)`,
            where(segment, at),
          );
        }
        pos += got;
      }
    } finally {
      await handle.close();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Consume-queue tag codes as the Java broker computes them from a record

/**
 * The tagsCode a Java broker puts in the consume queue for a record: the hash of TAGS, except
 * for SCHEDULE_TOPIC_XXXX records with a DELAY level, where it is the time the message is due
 * (storeTimestamp + that level's delay; 1 s for a level missing from `delayLevelsMs`).
 */
export function classicTagsCode(message: StoredMessage, delayLevelsMs: readonly number[]): number {
  const level = message.topic === SCHEDULE_TOPIC ? Number.parseInt(message.properties.get(MessageProperty.DELAY) ?? '', 10) : NaN;
  if (level > 0) {
    const capped = Math.min(level, delayLevelsMs.length);
    return message.storeTimestamp + (delayLevelsMs[capped - 1] ?? 1000);
  }
  return tagsCodeOf(message.properties.get(MessageProperty.TAGS));
}

export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';

// ---------------------------------------------------------------------------------------
// config/*.json: fastjson text with unquoted integer map keys

export class ClassicConfigError extends Error {
  override readonly name = 'ClassicConfigError';
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

/** A subscription group as 4.9's SubscriptionGroupConfig keeps it, with Java's defaults. */
export interface ClassicSubscriptionGroup {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  /** fields this type does not name (5.x: groupRetryPolicy, consumeMessageOrderly, attributes ...) */
  extra?: Record<string, unknown>;
}

export interface ClassicTopics {
  topics: Map<string, TopicConfig>;
  dataVersion: DataVersion | undefined;
}

export interface ClassicSubscriptionGroups {
  groups: Map<string, ClassicSubscriptionGroup>;
  dataVersion: DataVersion | undefined;
}

/** "topic@group" -> queueId -> next offset to consume */
export type ClassicConsumerOffsets = Map<string, Map<number, number>>;

export interface ClassicStoreConfig {
  topics: Map<string, TopicConfig>;
  topicsDataVersion: DataVersion | undefined;
  subscriptionGroups: Map<string, ClassicSubscriptionGroup>;
  subscriptionGroupsDataVersion: DataVersion | undefined;
  consumerOffsets: ClassicConsumerOffsets;
  /** delay level -> offset reached in SCHEDULE_TOPIC_XXXX queue (level - 1) */
  delayOffsets: Map<number, number>;
  /** one line per file that was missing or read from its .bak copy */
  notes: string[];
}

function asObject(v: unknown, what: string, file: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ClassicConfigError(`${what} is not an object`, file);
  return v as Record<string, unknown>;
}

function optionalObject(v: unknown, what: string, file: string): Record<string, unknown> {
  return v === undefined || v === null ? {} : asObject(v, what, file);
}

function safeInt(v: unknown, what: string, file: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ClassicConfigError(`${what} is ${JSON.stringify(v)}, not an integer`, file);
  return v;
}

function parseDocument(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseLenientJson(text);
  } catch (err) {
    throw new ClassicConfigError(`not JSON: ${(err as Error).message}`, file, { cause: err });
  }
  return asObject(value, 'the document', file);
}

function dataVersionOf(doc: Record<string, unknown>): DataVersion | undefined {
  return doc.dataVersion === undefined ? undefined : dataVersionFromJson(doc.dataVersion);
}

/** topics.json: `{dataVersion, topicConfigTable:{name:{...}}}`. */
export function parseClassicTopics(text: string, file = 'topics.json'): ClassicTopics {
  const doc = parseDocument(text, file);
  const table = optionalObject(doc.topicConfigTable, 'topicConfigTable', file);
  const topics = new Map<string, TopicConfig>();
  for (const [name, value] of Object.entries(table)) {
    topics.set(name, topicConfigFromJson(name, asObject(value, `topic ${name}`, file)));
  }
  return { topics, dataVersion: dataVersionOf(doc) };
}

function bool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

function int(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : fallback;
}

const GROUP_FIELDS = new Set([
  'groupName',
  'consumeEnable',
  'consumeFromMinEnable',
  'consumeBroadcastEnable',
  'retryQueueNums',
  'retryMaxTimes',
  'brokerId',
  'whichBrokerWhenConsumeSlowly',
  'notifyConsumerIdsChangedEnable',
]);

/** subscriptionGroup.json: `{dataVersion, subscriptionGroupTable:{group:{...}}}`. */
export function parseClassicSubscriptionGroups(text: string, file = 'subscriptionGroup.json'): ClassicSubscriptionGroups {
  const doc = parseDocument(text, file);
  const table = optionalObject(doc.subscriptionGroupTable, 'subscriptionGroupTable', file);
  const groups = new Map<string, ClassicSubscriptionGroup>();
  for (const [name, value] of Object.entries(table)) {
    const o = asObject(value, `group ${name}`, file);
    const group: ClassicSubscriptionGroup = {
      groupName: typeof o.groupName === 'string' ? o.groupName : name,
      consumeEnable: bool(o.consumeEnable, true),
      consumeFromMinEnable: bool(o.consumeFromMinEnable, true),
      consumeBroadcastEnable: bool(o.consumeBroadcastEnable, true),
      retryQueueNums: int(o.retryQueueNums, 1),
      retryMaxTimes: int(o.retryMaxTimes, 16),
      brokerId: int(o.brokerId, 0),
      whichBrokerWhenConsumeSlowly: int(o.whichBrokerWhenConsumeSlowly, 1),
      notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable, true),
    };
    const extra = Object.entries(o).filter(([k]) => !GROUP_FIELDS.has(k));
    if (extra.length > 0) group.extra = Object.fromEntries(extra);
    groups.set(name, group);
  }
  return { groups, dataVersion: dataVersionOf(doc) };
}

function intKeyedTable(v: unknown, what: string, file: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const [key, value] of Object.entries(optionalObject(v, what, file))) {
    const id = Number(key);
    if (!/^-?\d+$/.test(key) || !Number.isSafeInteger(id)) throw new ClassicConfigError(`${what} has key ${JSON.stringify(key)}, not an integer`, file);
    out.set(id, safeInt(value, `${what}[${key}]`, file));
  }
  return out;
}

/** consumerOffset.json: `{offsetTable:{"topic@group":{queueId:offset}}}` (integer keys unquoted). */
export function parseClassicConsumerOffsets(text: string, file = 'consumerOffset.json'): ClassicConsumerOffsets {
  const doc = parseDocument(text, file);
  const offsets: ClassicConsumerOffsets = new Map();
  for (const [key, table] of Object.entries(optionalObject(doc.offsetTable, 'offsetTable', file))) {
    if (!key.includes('@')) throw new ClassicConfigError(`offsetTable key ${JSON.stringify(key)} is not "topic@group"`, file);
    offsets.set(key, intKeyedTable(table, `offsetTable["${key}"]`, file));
  }
  return offsets;
}

/** delayOffset.json: `{offsetTable:{level:offset}}`. */
export function parseClassicDelayOffsets(text: string, file = 'delayOffset.json'): Map<number, number> {
  return intKeyedTable(parseDocument(text, file).offsetTable, 'offsetTable', file);
}

/**
 * Reads one config file as Java's ConfigManager does: a missing or empty file falls back to
 * its `.bak`, so does one that does not parse; when neither has content the table is empty.
 */
async function loadConfigFile<T>(file: string, parse: (text: string, file: string) => T, empty: T, notes: string[]): Promise<T> {
  const main = await readTextIfPresent(file);
  let mainError: Error | undefined;
  if (main !== undefined && main.length > 0) {
    try {
      return parse(main, file);
    } catch (err) {
      if (!(err instanceof ClassicConfigError)) throw err;
      mainError = err;
    }
  }
  const bakFile = `${file}.bak`;
  const bak = await readTextIfPresent(bakFile);
  if (bak !== undefined && bak.length > 0) {
    let value: T;
    try {
      value = parse(bak, bakFile);
    } catch (err) {
      if (mainError) throw new ClassicConfigError(`neither it nor its .bak parses: ${mainError.message}; ${(err as Error).message}`, file, { cause: err });
      throw err;
    }
    notes.push(`${file}: ${mainError ? `does not parse (${mainError.message})` : main === undefined ? 'missing' : 'empty'}, read ${bakFile} instead`);
    return value;
  }
  if (mainError) throw mainError;
  notes.push(`${file}: ${main === undefined ? 'missing' : 'empty'} and no .bak copy, taken as empty`);
  return empty;
}

async function readTextIfPresent(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads topics, subscription groups, consumer offsets and delay offsets from a classic store's `config/` folder. */
export async function readClassicConfig(configDir: string): Promise<ClassicStoreConfig> {
  const notes: string[] = [];
  const file = (name: string): string => path.join(configDir, name);
  const topics = await loadConfigFile(file('topics.json'), parseClassicTopics, { topics: new Map(), dataVersion: undefined }, notes);
  const groups = await loadConfigFile(
    file('subscriptionGroup.json'),
    parseClassicSubscriptionGroups,
    { groups: new Map(), dataVersion: undefined },
    notes,
  );
  const consumerOffsets = await loadConfigFile(file('consumerOffset.json'), parseClassicConsumerOffsets, new Map(), notes);
  const delayOffsets = await loadConfigFile(file('delayOffset.json'), parseClassicDelayOffsets, new Map(), notes);
  return {
    topics: topics.topics,
    topicsDataVersion: topics.dataVersion,
    subscriptionGroups: groups.groups,
    subscriptionGroupsDataVersion: groups.dataVersion,
    consumerOffsets,
    delayOffsets,
    notes,
  };
}
