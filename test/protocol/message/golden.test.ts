// Golden bytes from the real RocketMQ 4.9.8 broker and Java client (test/fixtures/remoting):
// decode what the broker sent and what the producer sent, compare with what the Java
// programs printed, and re-encode to the identical bytes.
import t from 'tap';
import { maskedCrc32 } from '../../../protocol/crc32.js';
import {
  MessageSysFlag,
  decodeBatchBody,
  decodeOffsetMsgId,
  encodeBatchBody,
  encodeStoredMessage,
  inflateBody,
  iterateStoredMessages,
  parseProperties,
  setPhysicalOffset,
  setQueueOffset,
  setStoreTimestamp,
  type StoredMessage,
} from '../../../protocol/message/index.js';
import { readJsonLines } from '../../helpers/fixtures.js';
import { requests, successfulResponses } from './captured.js';

const PULL_MESSAGE = 11;
const SEND_MESSAGE_V2 = 310;
const SEND_BATCH_MESSAGE = 320;

interface Consumed {
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  storeSize: number;
  sysFlag: number;
  bodyCRC: number;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  msgId: string;
  offsetMsgId: string;
  reconsumeTimes: number;
  tags: string;
  keys: string;
  properties: Record<string, string>;
  bodyText: string;
  bodyLen: number;
}

interface Produced {
  kind: string;
  msgId?: string;
  offsetMsgId?: string;
  queueId?: number;
  queueOffset?: number;
}

/** Properties the Java consumer adds after decoding; they are not in the stored record. */
const CLIENT_SIDE = new Set(['CONSUME_START_TIME', 'MIN_OFFSET', 'MAX_OFFSET']);

interface Pulled {
  message: StoredMessage;
  raw: Buffer;
}

/** Every record of every successful pull in a capture, with its exact bytes. */
function pulledRecords(capture: string): Pulled[] {
  const out: Pulled[] = [];
  for (const pull of successfulResponses(capture, PULL_MESSAGE)) {
    let pos = 0;
    for (const message of iterateStoredMessages(pull.body, { inflate: true })) {
      out.push({ message, raw: pull.body.subarray(pos, pos + message.storeSize) });
      pos += message.storeSize;
    }
    if (pos !== pull.body.length) throw new Error(`pull body in frame ${pull.frame.i} has ${pull.body.length - pos} trailing bytes`);
  }
  return out;
}

const scenarios = [
  { capture: 'd-pushconsumer', results: 'consume-classic.jsonl', producer: 'c-producer', produced: 'produce-classic.jsonl', storePort: 10911 },
  { capture: 'e-pushconsumer', results: 'consume-dledger.jsonl', producer: 'e-producer', produced: 'produce-dledger.jsonl', storePort: 30911 },
  { capture: 'd-litepull', results: 'litepull-classic.jsonl', producer: undefined, produced: undefined, storePort: 10911 },
];

for (const s of scenarios) {
  t.test(`${s.capture}: pulled records decode to what the Java consumer printed`, async (t) => {
    const expected = readJsonLines<Consumed>('remoting', 'client-results', s.results);
    const byOffsetId = new Map(expected.map((e) => [e.offsetMsgId, e]));
    const pulled = pulledRecords(s.capture);
    t.ok(pulled.length >= expected.length, `${pulled.length} records pulled`);
    const matched = new Set<string>();
    for (const { message: m, raw } of pulled) {
      const e = byOffsetId.get(m.offsetMsgId);
      if (!e) {
        t.fail(`pulled record ${m.offsetMsgId} is not in ${s.results}`);
        continue;
      }
      matched.add(m.offsetMsgId);
      const what = `${s.capture} ${e.keys} (${m.offsetMsgId})`;
      // The Java client shows a retry message under its original topic (RETRY_TOPIC).
      t.equal(m.properties.get('RETRY_TOPIC') ?? m.topic, e.topic, `${what}: topic`);
      t.equal(m.queueId, e.queueId, `${what}: queueId`);
      t.equal(m.queueOffset, e.queueOffset, `${what}: queueOffset`);
      t.equal(m.physicalOffset, e.commitLogOffset, `${what}: commitLogOffset`);
      t.equal(m.storeSize, e.storeSize, `${what}: storeSize`);
      t.equal(m.sysFlag, e.sysFlag, `${what}: sysFlag`);
      t.equal(m.bodyCrc, e.bodyCRC, `${what}: BODYCRC`);
      t.equal(m.bodyCrc, maskedCrc32(m.body), `${what}: our CRC of the stored body agrees`);
      t.equal(m.bornTimestamp, e.bornTimestamp, `${what}: bornTimestamp`);
      t.equal(m.storeTimestamp, e.storeTimestamp, `${what}: storeTimestamp`);
      t.equal(`/${m.bornHost.address}:${m.bornHost.port}`, e.bornHost, `${what}: bornHost`);
      t.equal(`/${m.storeHost.address}:${m.storeHost.port}`, e.storeHost, `${what}: storeHost`);
      t.equal(m.storeHost.port, s.storePort);
      t.equal(m.msgId, e.msgId, `${what}: msgId (UNIQ_KEY)`);
      t.equal(m.reconsumeTimes, e.reconsumeTimes, `${what}: reconsumeTimes`);
      const stored = Object.fromEntries([...Object.entries(e.properties)].filter(([k]) => !CLIENT_SIDE.has(k)));
      t.strictSame(Object.fromEntries(m.properties), stored, `${what}: properties`);
      t.equal(m.properties.get('TAGS'), e.tags);
      t.equal(m.inflatedBody?.toString('utf8'), e.bodyText, `${what}: body text`);
      t.equal(m.inflatedBody?.length, e.bodyLen, `${what}: body length`);

      t.ok(encodeStoredMessage(m).equals(raw), `${what}: re-encodes to the identical bytes`);
      // The broker's path: encode with placeholders, then patch offsets and store time.
      const patched = encodeStoredMessage({ ...m, queueOffset: undefined, physicalOffset: undefined, storeTimestamp: undefined, bodyCrc: undefined });
      t.notOk(patched.equals(raw), 'placeholders differ before patching');
      setQueueOffset(patched, 0, e.queueOffset);
      setPhysicalOffset(patched, 0, e.commitLogOffset);
      setStoreTimestamp(patched, 0, e.storeTimestamp);
      t.ok(patched.equals(raw), `${what}: placeholder encode + patch gives the identical bytes`);
    }
    t.equal(matched.size, expected.length, `all ${expected.length} consumed messages found in the pull bodies`);
  });
}

t.test('the DLedger commit log starts at pos + 48', async (t) => {
  const offsets = pulledRecords('e-pushconsumer').map((p) => p.message.physicalOffset);
  t.equal(Math.min(...offsets), 48);
});

for (const s of scenarios.filter((x) => x.producer !== undefined)) {
  const producer = s.producer as string;
  t.test(`${producer}: SEND_MESSAGE_V2 bodies are stored as sent`, async (t) => {
    // the retry copy of KEY-SYNC-1 shares its UNIQ_KEY; compare with the original
    const originals = pulledRecords(s.capture).filter((p) => p.message.topic === 'FxTopic');
    const byUniqKey = new Map(originals.map((p) => [p.message.properties.get('UNIQ_KEY'), p.message]));
    const sends = requests(producer, SEND_MESSAGE_V2);
    t.equal(sends.length, 6);
    for (const send of sends) {
      const h = send.header.extFields as Record<string, string>;
      const sent = parseProperties(h.i as string);
      const m = byUniqKey.get(sent.get('UNIQ_KEY'));
      if (!m) {
        t.fail(`no stored record for ${sent.get('UNIQ_KEY')}`);
        continue;
      }
      const what = `${producer} ${sent.get('KEYS')}`;
      t.ok(m.body.equals(send.body), `${what}: stored body is the sent body`);
      t.equal(m.sysFlag, Number(h.f), `${what}: sysFlag`);
      t.equal(m.bornTimestamp, Number(h.g), `${what}: bornTimestamp`);
      t.equal(m.flag, Number(h.h), `${what}: flag`);
      t.equal(m.queueId, Number(h.e), `${what}: queueId`);
      t.equal(m.bodyCrc, maskedCrc32(send.body), `${what}: BODYCRC is the CRC of the sent bytes`);
      for (const [k, v] of sent) if (k !== 'WAIT') t.equal(m.properties.get(k), v, `${what}: property ${k} kept`);
      t.equal(m.properties.get('CLUSTER'), s.capture.startsWith('d-') ? 'DefaultCluster' : 'RaftCluster');
    }
  });

  t.test(`${producer}: the compressed 8250-byte message`, async (t) => {
    const large = requests(producer, SEND_MESSAGE_V2).find((f) => f.header.extFields?.f !== '0');
    if (!large) throw new Error('no compressed send in the capture');
    const sysFlag = Number(large.header.extFields?.f);
    t.equal(sysFlag, 769, 'compressed, type ZLIB');
    t.equal(sysFlag & MessageSysFlag.COMPRESSED, 1);
    t.equal(large.body.length, 377);
    t.equal(large.body[0], 0x78, 'zlib header');
    const text = inflateBody(large.body, sysFlag).toString('utf8');
    t.equal(text.length, 8250);
    t.ok(text.startsWith('RocketMQ large body line 0000: the quick brown fox'));
    const consumed = readJsonLines<Consumed>('remoting', 'client-results', s.results).find((e) => e.keys === 'KEY-LARGE-1');
    t.equal(text, consumed?.bodyText, 'inflates to the text the consumer printed');
    t.equal(maskedCrc32(large.body), consumed?.bodyCRC, 'stored BODYCRC covers the compressed bytes');
  });

  t.test(`${producer}: SEND_BATCH_MESSAGE body`, async (t) => {
    const batches = requests(producer, SEND_BATCH_MESSAGE);
    t.equal(batches.length, 1);
    const batch = batches[0]!;
    t.equal(batch.header.extFields?.m, 'true');
    const entries = decodeBatchBody(batch.body);
    t.equal(entries.length, 3);
    t.strictSame(entries.map((e) => e.body.toString()), ['Batch message 0', 'Batch message 1', 'Batch message 2']);
    t.strictSame(entries.map((e) => e.flag), [0, 0, 0]);
    const props = entries.map((e) => parseProperties(e.propertiesText));
    t.strictSame(props.map((p) => p.get('KEYS')), ['KEY-BATCH-0', 'KEY-BATCH-1', 'KEY-BATCH-2']);
    t.strictSame(props.map((p) => p.get('TAGS')), ['TagBatch', 'TagBatch', 'TagBatch']);
    t.strictSame(props.map((p) => p.get('WAIT')), ['true', 'true', 'true']);
    const produced = readJsonLines<Produced>('remoting', 'client-results', s.produced as string).find((p) => p.kind === 'batch');
    t.strictSame(props.map((p) => p.get('UNIQ_KEY')), produced?.msgId?.split(','), 'UNIQ_KEYs are the msgIds the producer printed');
    t.ok(encodeBatchBody(entries).equals(batch.body), 're-encodes to the identical bytes');

    // The broker stored one record per entry at the offsets the producer was told.
    const offsetIds = produced?.offsetMsgId?.split(',') ?? [];
    const pulled = new Map(pulledRecords(s.capture).map((p) => [p.message.offsetMsgId, p.message]));
    t.equal(offsetIds.length, 3);
    offsetIds.forEach((id, n) => {
      const where = decodeOffsetMsgId(id);
      t.strictSame({ address: where.address, port: where.port }, { address: '127.0.0.1', port: s.storePort });
      const m = pulled.get(id);
      t.equal(m?.physicalOffset, where.offset, `entry ${n}: offset id names the record's offset`);
      t.equal(m?.queueOffset, (produced?.queueOffset ?? -1) + n, `entry ${n}: consecutive queue offsets`);
      t.ok(m?.body.equals(entries[n]!.body), `entry ${n}: body`);
      t.equal(m?.bodyCrc, maskedCrc32(entries[n]!.body), `entry ${n}: broker computed BODYCRC`);
      // 4.9 classic appends the batch-level properties (CLUSTER, WAIT); DLedger stores the entry's only
      t.ok(m?.propertiesText.startsWith(entries[n]!.propertiesText), `entry ${n}: entry properties stored first`);
    });
  });
}
