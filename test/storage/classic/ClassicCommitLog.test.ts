import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import t, { type Test } from 'tap';
import {
  BLANK_MAGIC,
  MessageProperty,
  encodeStoredMessage,
  type StoredMessageInput,
} from '../../../protocol/message/index.js';
import { delayLevelsMs } from '../../../server/config/valueTypes.js';
import {
  ClassicCommitLog,
  ClassicCommitLogError,
  ClassicConfigError,
  classicTagsCode,
  parseClassicConsumerOffsets,
  parseClassicDelayOffsets,
  readClassicConfig,
  type ClassicRecord,
} from '../../../storage/classic/ClassicCommitLog.js';
import { tempDir } from '../../helpers/processes.js';
import { extractStore, manifestStore, type ManifestMessage } from '../../helpers/storeManifest.js';

const classic = manifestStore('classic');
const SEGMENT = classic.broker.mappedFileSizeCommitLog;
const DELAY_LEVELS = delayLevelsMs('1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h') as number[];
const FIRST_FILE = '00000000000000000000';

/** Extracts the classic store into a fresh temp folder; returns its root (…/classic). */
function extractClassic(t: Test): string {
  const dir = tempDir(t, 'raftmq-classic-');
  extractStore(classic, dir);
  return path.join(dir, classic.root);
}

async function readAll(log: ClassicCommitLog, from?: number): Promise<ClassicRecord[]> {
  const out: ClassicRecord[] = [];
  for await (const r of log.iterate(from, { inflate: true })) out.push(r);
  return out;
}

function hostText(h: { address: string; port: number }): string {
  return `${h.address}:${h.port}`;
}

t.test('every manifest message reads back from the Java commit log, in order, and nothing after', async (t) => {
  const root = extractClassic(t);
  const log = await ClassicCommitLog.open(path.join(root, 'commitlog'), { segmentSize: SEGMENT });
  t.equal(log.segments.length, 1);
  t.equal(log.minOffset, 0);
  const last = classic.messages[classic.messages.length - 1] as ManifestMessage;
  t.equal(log.maxOffset, last.physicalOffset + last.storeSize, 'the log ends right after the last record');
  t.equal(log.maxOffset, 3435);
  t.equal(log.damage, undefined);

  const records = await readAll(log);
  t.equal(records.length, classic.messageCount);
  t.equal(records.length, classic.messages.length);
  classic.messages.forEach((want, i) => {
    const r = records[i] as ClassicRecord;
    const m = r.message;
    const label = `#${i} ${want.topic}@${want.physicalOffset}`;
    t.equal(r.physicalOffset, want.physicalOffset, `${label} physicalOffset`);
    t.equal(m.physicalOffset, want.physicalOffset, `${label} PHYSICALOFFSET field`);
    t.equal(m.topic, want.topic, `${label} topic`);
    t.equal(m.queueId, want.queueId, `${label} queueId`);
    t.equal(m.queueOffset, want.queueOffset, `${label} queueOffset`);
    t.equal(m.storeSize, want.storeSize, `${label} storeSize`);
    t.equal(r.bytes.length, want.storeSize, `${label} bytes`);
    t.equal(m.sysFlag, want.sysFlag, `${label} sysFlag`);
    t.equal(m.properties.get(MessageProperty.TAGS), want.tags, `${label} tags`);
    t.equal(m.properties.get(MessageProperty.KEYS), want.keys, `${label} keys`);
    t.same(Object.fromEntries(m.properties), want.properties, `${label} properties`);
    t.equal(m.bodyCrc, want.bodyCRC, `${label} bodyCRC`);
    t.equal(m.bornTimestamp, want.bornTimestamp, `${label} bornTimestamp`);
    t.equal(m.storeTimestamp, want.storeTimestamp, `${label} storeTimestamp`);
    t.equal(hostText(m.bornHost), want.bornHost, `${label} bornHost`);
    t.equal(hostText(m.storeHost), want.storeHost, `${label} storeHost`);
    t.equal(m.reconsumeTimes, want.reconsumeTimes, `${label} reconsumeTimes`);
    t.equal(m.body.length, want.storedBodyLength, `${label} stored body length`);
    t.equal(m.body.toString('hex'), want.storedBodyHex, `${label} stored body`);
    const text = m.inflatedBody?.toString('utf8');
    if (want.uncompressedBodyText !== undefined) {
      t.equal(want.bodyText, undefined, `${label} the manifest has no bodyText for a compressed record`);
      t.equal(m.sysFlag & 1, 1, `${label} compressed`);
      t.equal(zlib.inflateSync(m.body).toString('utf8'), want.uncompressedBodyText, `${label} inflated body`);
      t.equal(text, want.uncompressedBodyText, `${label} inflate option`);
    } else {
      t.equal(text, want.bodyText, `${label} bodyText`);
    }
    t.equal(m.msgId, want.msgId, `${label} msgId (UNIQ_KEY)`);
    t.equal(m.offsetMsgId, want.offsetMsgId, `${label} offsetMsgId`);
  });
});

t.test('readAt returns each record as its own copy, and refuses what is not a record start', async (t) => {
  const root = extractClassic(t);
  const log = await ClassicCommitLog.open(path.join(root, 'commitlog'), { segmentSize: SEGMENT });
  const file = fs.readFileSync(path.join(root, 'commitlog', FIRST_FILE));
  for (const want of classic.messages) {
    const r = await log.readAt(want.physicalOffset);
    t.equal(r.message.msgId, want.msgId);
    t.ok(r.bytes.equals(file.subarray(want.physicalOffset, want.physicalOffset + want.storeSize)), `bytes at ${want.physicalOffset}`);
  }
  const compressed = classic.messages.find((m) => m.uncompressedBodyText !== undefined) as ManifestMessage;
  const inflated = await log.readAt(compressed.physicalOffset, { inflate: true });
  t.equal(inflated.message.inflatedBody?.toString('utf8'), compressed.uncompressedBodyText);

  await t.rejects(log.readAt(234), { name: 'ClassicCommitLogError', code: 'BAD_MAGIC', fileOffset: 234 }, 'the middle of a record');
  await t.rejects(log.readAt(log.maxOffset), { code: 'OUT_OF_RANGE' });
  await t.rejects(log.readAt(-1), { code: 'OUT_OF_RANGE' });
  await t.rejects(log.readAt(1.5), { code: 'OUT_OF_RANGE' });
});

t.test('iterate from a record in the middle gives the rest; from maxOffset gives nothing', async (t) => {
  const root = extractClassic(t);
  const log = await ClassicCommitLog.open(path.join(root, 'commitlog'), { segmentSize: SEGMENT });
  const from = classic.messages[7] as ManifestMessage;
  const rest = await readAll(log, from.physicalOffset);
  t.same(
    rest.map((r) => r.physicalOffset),
    classic.messages.slice(7).map((m) => m.physicalOffset),
  );
  t.same(await readAll(log, log.maxOffset), []);
  // stopping early closes the file handle (the generator's finally runs)
  for await (const r of log.iterate()) {
    t.equal(r.physicalOffset, 0);
    break;
  }
});

interface CqUnit {
  topic: string;
  queueId: number;
  queueOffset: number;
  offset: number;
  size: number;
  tagsCode: number;
}

/** The consume-queue units a Java broker wrote: consumequeue/<topic>/<queueId>/<start offset>. */
function readConsumeQueues(root: string): CqUnit[] {
  const units: CqUnit[] = [];
  const base = path.join(root, 'consumequeue');
  for (const topic of fs.readdirSync(base).sort()) {
    for (const qid of fs.readdirSync(path.join(base, topic)).sort()) {
      const dir = path.join(base, topic, qid);
      for (const name of fs.readdirSync(dir).sort()) {
        const buf = fs.readFileSync(path.join(dir, name));
        const first = Number(name) / 20;
        for (let i = 0; i + 20 <= buf.length; i += 20) {
          const size = buf.readInt32BE(i + 8);
          if (size <= 0) break; // Java: a unit counts when offset >= 0 and size > 0
          units.push({
            topic,
            queueId: Number(qid),
            queueOffset: first + i / 20,
            offset: Number(buf.readBigInt64BE(i)),
            size,
            tagsCode: Number(buf.readBigInt64BE(i + 12)),
          });
        }
      }
    }
  }
  return units;
}

t.test("the Java broker's consume queues agree with the records, tag codes included", async (t) => {
  const root = extractClassic(t);
  const log = await ClassicCommitLog.open(path.join(root, 'commitlog'), { segmentSize: SEGMENT });
  const byOffset = new Map((await readAll(log)).map((r) => [r.physicalOffset, r]));
  const units = readConsumeQueues(root);
  t.equal(units.length, byOffset.size, 'one unit per record');
  for (const u of units) {
    const r = byOffset.get(u.offset);
    if (!r) {
      t.fail(`unit ${u.topic}/${u.queueId}#${u.queueOffset} points at ${u.offset}, not a record start`);
      continue;
    }
    const label = `${u.topic}/${u.queueId}#${u.queueOffset}`;
    t.equal(r.message.topic, u.topic, `${label} topic`);
    t.equal(r.message.queueId, u.queueId, `${label} queueId`);
    t.equal(r.message.queueOffset, u.queueOffset, `${label} queueOffset`);
    t.equal(r.message.storeSize, u.size, `${label} size`);
    t.equal(classicTagsCode(r.message, DELAY_LEVELS), u.tagsCode, `${label} tagsCode`);
    byOffset.delete(u.offset);
  }
  t.equal(byOffset.size, 0, 'every record is in a consume queue');
  const schedule = units.find((u) => u.topic === 'SCHEDULE_TOPIC_XXXX') as CqUnit;
  const scheduled = classic.messages.find((m) => m.topic === 'SCHEDULE_TOPIC_XXXX') as ManifestMessage;
  t.equal(schedule.tagsCode, scheduled.storeTimestamp + 10_000, 'delay level 3 is due 10 s after it was stored');
});

t.test('config files: topics, subscription groups, consumer and delay offsets', async (t) => {
  const root = extractClassic(t);
  const config = await readClassicConfig(path.join(root, 'config'));
  t.same(config.notes, []);
  const fx = config.topics.get('FxTopic');
  t.match(fx, { topicName: 'FxTopic', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicFilterType: 'SINGLE_TAG', order: false });
  t.equal(config.topics.get('SCHEDULE_TOPIC_XXXX')?.readQueueNums, 18);
  t.equal(config.topics.get('BenchmarkTest')?.writeQueueNums, 1024);
  t.equal(config.topics.size, 12);
  t.same(config.topicsDataVersion, { counter: 4, timestamp: 1795745923371 });

  t.equal(config.subscriptionGroups.size, 9);
  t.same(config.subscriptionGroups.get('FxConsumerGroup'), {
    groupName: 'FxConsumerGroup',
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  });
  t.same(config.subscriptionGroupsDataVersion, { counter: 2, timestamp: 1795745923364 });

  const fxOffsets = config.consumerOffsets.get('FxTopic@FxConsumerGroup');
  t.same(
    fxOffsets,
    new Map([
      [0, 1],
      [1, 1],
      [2, 4],
      [3, 1],
      [4, 1],
      [5, 0],
      [6, 0],
      [7, 1],
    ]),
  );
  // The push consumer consumed everything: each committed offset is the queue's message count.
  for (let q = 0; q < 8; q++) {
    const count = classic.messages.filter((m) => m.topic === 'FxTopic' && m.queueId === q).length;
    t.equal(fxOffsets?.get(q), count, `FxTopic queue ${q}`);
  }
  t.same(config.consumerOffsets.get('%RETRY%FxConsumerGroup@FxConsumerGroup'), new Map([[0, 1]]));
  t.ok(config.consumerOffsets.has('FxTopic@FxLitePullGroup'));
  t.equal(config.consumerOffsets.size, 3);
  t.same(config.delayOffsets, new Map([[3, 1]]));
});

t.test('config files: .bak fallback, missing files, damage named', async (t) => {
  const root = extractClassic(t);
  const dir = path.join(root, 'config');
  fs.rmSync(path.join(dir, 'topics.json'));
  fs.writeFileSync(path.join(dir, 'consumerOffset.json'), '{"offsetTable":{');
  fs.writeFileSync(path.join(dir, 'delayOffset.json'), '');
  fs.rmSync(path.join(dir, 'delayOffset.json.bak'));
  const config = await readClassicConfig(dir);
  t.equal(config.topics.get('FxTopic')?.readQueueNums, 8, 'topics from topics.json.bak');
  t.equal(config.consumerOffsets.get('FxTopic@FxConsumerGroup')?.get(2), 4, 'offsets from consumerOffset.json.bak');
  t.same(config.delayOffsets, new Map());
  t.equal(config.notes.length, 3);
  t.match(config.notes[0], /topics\.json: missing, read .*topics\.json\.bak instead/);
  t.match(config.notes[1], /consumerOffset\.json: does not parse .*read .*consumerOffset\.json\.bak instead/);
  t.match(config.notes[2], /delayOffset\.json: empty and no \.bak copy, taken as empty/);

  fs.writeFileSync(path.join(dir, 'consumerOffset.json.bak'), '{"offsetTable":{"a@b":{0:"x"}}}');
  await t.rejects(readClassicConfig(dir), ClassicConfigError);
  await t.rejects(readClassicConfig(dir), /consumerOffset\.json: neither it nor its \.bak parses/);

  const empty = await readClassicConfig(path.join(root, 'no-such-config'));
  t.equal(empty.topics.size, 0);
  t.equal(empty.notes.length, 4);
});

t.test('config parsers take fastjson unquoted integer keys and refuse bad values', async (t) => {
  t.same(parseClassicDelayOffsets('{"offsetTable":{3:1,17:42\n}}'), new Map([[3, 1], [17, 42]]));
  t.same(parseClassicConsumerOffsets('{"offsetTable":{"T@G":{0:5,-1:0}}}').get('T@G'), new Map([[0, 5], [-1, 0]]));
  t.throws(() => parseClassicConsumerOffsets('{"offsetTable":{"T@G":{x:5}}}'), /not an integer/);
  t.throws(() => parseClassicConsumerOffsets('{"offsetTable":{"TG":{0:5}}}'), /not "topic@group"/);
  t.throws(() => parseClassicConsumerOffsets('{"offsetTable":{"T@G":{0:1.5}}}'), /not an integer/);
  t.throws(() => parseClassicDelayOffsets('[1]'), /not an object/);
});

/** Copies the fixture's commit log into a temp folder and returns the segment's path. */
function copyOfCommitLog(t: Test): { dir: string; file: string } {
  const root = extractClassic(t);
  const dir = path.join(root, 'commitlog');
  return { dir, file: path.join(dir, FIRST_FILE) };
}

function patch(file: string, at: number, bytes: number[]): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, at);
  } finally {
    fs.closeSync(fd);
  }
}

t.test('a flipped byte in a record body is a CRC error naming the file and offset', async (t) => {
  const { dir, file } = copyOfCommitLog(t);
  const victim = classic.messages[1] as ManifestMessage; // at 233
  const bodyAt = victim.physicalOffset + victim.storeSize - victim.storedBodyLength - 1 - victim.topic.length - 2 - propsLength(victim);
  const original = fs.readFileSync(file).subarray(bodyAt, bodyAt + victim.storedBodyLength).toString('hex');
  t.equal(original, victim.storedBodyHex, 'found the body');
  const byte = fs.readFileSync(file)[bodyAt + 5] as number;
  patch(file, bodyAt + 5, [byte ^ 0x40]);

  const err = await ClassicCommitLog.open(dir, { segmentSize: SEGMENT }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ClassicCommitLogError, 'open refuses');
  const e = err as ClassicCommitLogError;
  t.equal(e.code, 'CRC_MISMATCH');
  t.equal(e.file, file);
  t.equal(e.fileOffset, 233);
  t.equal(e.physicalOffset, 233);
  t.match(e.message, `${file} at file offset 233 (commit-log offset 233): BODYCRC`);

  // Without the CRC check the record decodes (the damage is invisible to the structure)...
  const unchecked = await ClassicCommitLog.open(dir, { segmentSize: SEGMENT, checkCrc: false });
  t.equal(unchecked.maxOffset, 3435);
  t.equal((await unchecked.readAt(233)).message.msgId, victim.msgId);
  // ...and stopAtDamage ends the log at the damaged record, as Java's recovery would.
  const stopped = await ClassicCommitLog.open(dir, { segmentSize: SEGMENT, stopAtDamage: true });
  t.equal(stopped.maxOffset, 233);
  t.equal(stopped.damage?.code, 'CRC_MISMATCH');
  t.same(
    (await readAll(stopped)).map((r) => r.physicalOffset),
    [0],
  );
});

function propsLength(m: ManifestMessage): number {
  return Buffer.byteLength(
    Object.entries(m.properties)
      .map(([k, v]) => `${k}\u0001${v}`)
      .join('\u0002'),
  );
}

t.test('other damage: bad magic, bad size, zeroed record hiding later ones', async (t) => {
  await t.test('bad magic', async (t) => {
    const { dir, file } = copyOfCommitLog(t);
    patch(file, 522 + 4, [0x12, 0x34, 0x56, 0x78]);
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SEGMENT }), { code: 'BAD_MAGIC', fileOffset: 522, message: /0x12345678/ });
  });
  await t.test('TOTALSIZE past the end of the file', async (t) => {
    const { dir, file } = copyOfCommitLog(t);
    patch(file, 522, [0x7f, 0, 0, 0]);
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SEGMENT }), { code: 'BAD_SIZE', fileOffset: 522 });
  });
  await t.test('TOTALSIZE that disagrees with the fields', async (t) => {
    const { dir, file } = copyOfCommitLog(t);
    patch(file, 522, [0, 0, 0, 241]);
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SEGMENT }), { code: 'BAD_RECORD', fileOffset: 522 });
  });
  await t.test('a zeroed record with records after it', async (t) => {
    const { dir, file } = copyOfCommitLog(t);
    patch(file, 522, [0, 0, 0, 0, 0, 0, 0, 0]);
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SEGMENT }), { code: 'DATA_AFTER_END', fileOffset: 522 + 8 });
    const stopped = await ClassicCommitLog.open(dir, { segmentSize: SEGMENT, stopAtDamage: true });
    t.equal(stopped.maxOffset, 522, 'Java would end the log at the zeros');
    t.equal(stopped.damage?.code, 'DATA_AFTER_END');
    t.equal((await readAll(stopped)).length, 2);
  });
  await t.test('a stray byte far into the zero tail', async (t) => {
    const { dir, file } = copyOfCommitLog(t);
    patch(file, SEGMENT - 1, [1]);
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SEGMENT }), { code: 'DATA_AFTER_END', fileOffset: SEGMENT - 1 });
  });
  await t.test('a segment size that is not the store’s', async (t) => {
    const { dir } = copyOfCommitLog(t);
    await t.rejects(ClassicCommitLog.open(dir), { code: 'BAD_FILE', message: /mappedFileSizeCommitLog/ });
  });
});

// ---------------------------------------------------------------------------------------
// Several segments, built here with small files

const SMALL = 1024;

function record(topic: string, queueId: number, queueOffset: number, physicalOffset: number, body: string): Buffer {
  const input: StoredMessageInput = {
    topic,
    queueId,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { address: '127.0.0.1', port: 40000 },
    storeHost: { address: '127.0.0.1', port: 10911 },
    body: Buffer.from(body),
    properties: { TAGS: 'T', UNIQ_KEY: `K${physicalOffset}` },
    queueOffset,
    physicalOffset,
    storeTimestamp: 1_700_000_000_001,
  };
  return encodeStoredMessage(input);
}

/**
 * Writes files the way the Java broker fills them: records back to back, a BLANK when the
 * next record (plus 8 bytes) does not fit, full-length files with zero tails. Returns the
 * offsets of the records.
 */
function writeStore(dir: string, firstStart: number, count: number, emptyFilesAfter = 0): { offsets: number[]; end: number } {
  fs.mkdirSync(dir, { recursive: true });
  const files = new Map<number, Buffer>();
  const fileAt = (start: number): Buffer => {
    let f = files.get(start);
    if (!f) files.set(start, (f = Buffer.alloc(SMALL)));
    return f;
  };
  const offsets: number[] = [];
  let pos = firstStart;
  for (let i = 0; i < count; i++) {
    const body = `message ${i} `.repeat(1 + (i % 5));
    let rec = record('SmallTopic', i % 2, Math.floor(i / 2), pos, body);
    const start = pos - ((pos - firstStart) % SMALL);
    const left = start + SMALL - pos;
    if (rec.length + 8 > left) {
      const f = fileAt(start);
      f.writeInt32BE(left, pos - start);
      f.writeUInt32BE(BLANK_MAGIC, pos - start + 4);
      pos = start + SMALL;
      rec = record('SmallTopic', i % 2, Math.floor(i / 2), pos, body);
    }
    const fileStart = pos - ((pos - firstStart) % SMALL);
    rec.copy(fileAt(fileStart), pos - fileStart);
    offsets.push(pos);
    pos += rec.length;
  }
  const lastStart = pos - ((pos - firstStart) % SMALL);
  fileAt(lastStart);
  for (let k = 1; k <= emptyFilesAfter; k++) fileAt(lastStart + k * SMALL);
  for (const [start, buf] of files) fs.writeFileSync(path.join(dir, String(start).padStart(20, '0')), buf);
  return { offsets, end: pos };
}

t.test('several segments: BLANK fillers, a preallocated empty file, reading across files', async (t) => {
  const dir = path.join(tempDir(t), 'commitlog');
  const { offsets, end } = writeStore(dir, 0, 20, 1);
  const names = fs.readdirSync(dir).sort();
  t.ok(names.length >= 4, `${names.length} files`);

  for (const scanFiles of [1, 3, Infinity]) {
    const log = await ClassicCommitLog.open(dir, { segmentSize: SMALL, scanFiles });
    t.equal(log.maxOffset, end, `scanFiles ${scanFiles}: end found behind the empty file`);
    t.equal(log.segments.length, names.length);
  }
  const log = await ClassicCommitLog.open(dir, { segmentSize: SMALL });
  const all = await readAll(log);
  t.same(
    all.map((r) => r.physicalOffset),
    offsets,
  );
  t.same(
    all.map((r) => r.message.properties.get('UNIQ_KEY')),
    offsets.map((o) => `K${o}`),
  );
  const inSecondFile = offsets.find((o) => o >= SMALL && o < 2 * SMALL) as number;
  t.equal((await log.readAt(inSecondFile)).message.properties.get('UNIQ_KEY'), `K${inSecondFile}`);
  t.same(
    (await readAll(log, inSecondFile)).map((r) => r.physicalOffset),
    offsets.filter((o) => o >= inSecondFile),
  );
  const blankAt = (offsets[offsets.indexOf(inSecondFile) - 1] as number) + (all[offsets.indexOf(inSecondFile) - 1] as ClassicRecord).bytes.length;
  t.ok(blankAt < SMALL);
  await t.rejects(log.readAt(blankAt), { code: 'NOT_A_RECORD', message: /BLANK/ });
});

t.test('several segments: the oldest deleted, so the log starts past 0', async (t) => {
  const dir = path.join(tempDir(t), 'commitlog');
  const { offsets, end } = writeStore(dir, 3 * SMALL, 12);
  const log = await ClassicCommitLog.open(dir, { segmentSize: SMALL, scanFiles: Infinity });
  t.equal(log.minOffset, 3 * SMALL);
  t.equal(log.maxOffset, end);
  t.same(
    (await readAll(log)).map((r) => r.physicalOffset),
    offsets,
  );
  await t.rejects(log.readAt(0), { code: 'OUT_OF_RANGE' });
});

t.test('several segments: a missing file in the middle, a short file, a wrongly named file', async (t) => {
  await t.test('gap', async (t) => {
    const dir = path.join(tempDir(t), 'commitlog');
    writeStore(dir, 0, 20);
    fs.rmSync(path.join(dir, String(SMALL).padStart(20, '0')));
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SMALL }), { code: 'BAD_FILE', message: /a file is missing/ });
  });
  await t.test('short', async (t) => {
    const dir = path.join(tempDir(t), 'commitlog');
    writeStore(dir, 0, 20);
    fs.truncateSync(path.join(dir, String(SMALL).padStart(20, '0')), SMALL - 1);
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SMALL }), { code: 'BAD_FILE', message: /1023 bytes/ });
  });
  await t.test('renamed: records say they sit elsewhere', async (t) => {
    const dir = path.join(tempDir(t), 'commitlog');
    writeStore(dir, 0, 3);
    fs.renameSync(path.join(dir, FIRST_FILE), path.join(dir, String(SMALL).padStart(20, '0')));
    await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SMALL }), { code: 'OFFSET_MISMATCH', physicalOffset: SMALL });
  });
  await t.test('an empty folder is an empty log; other files are ignored', async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(path.join(dir, 'README'), 'x');
    const log = await ClassicCommitLog.open(dir, { segmentSize: SMALL });
    t.equal(log.minOffset, 0);
    t.equal(log.maxOffset, 0);
    t.same(await readAll(log), []);
  });
});

t.test('damage before the scanned files is found when read', async (t) => {
  const dir = path.join(tempDir(t), 'commitlog');
  const { offsets } = writeStore(dir, 0, 30);
  const first = fs.readdirSync(dir).sort()[0] as string;
  t.ok(fs.readdirSync(dir).length > 3);
  const victim = offsets[1] as number;
  const file = path.join(dir, first);
  const buf = fs.readFileSync(file);
  patch(file, victim + 100, [(buf[victim + 100] as number) ^ 1]);
  const log = await ClassicCommitLog.open(dir, { segmentSize: SMALL }); // scans the newest 3 only
  await t.rejects(log.readAt(victim), { code: 'CRC_MISMATCH', file, fileOffset: victim });
  await t.rejects(readAll(log), { code: 'CRC_MISMATCH', physicalOffset: victim });
  await t.rejects(ClassicCommitLog.open(dir, { segmentSize: SMALL, scanFiles: Infinity }), { code: 'CRC_MISMATCH' });
});
