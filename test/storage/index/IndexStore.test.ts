import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import RocksDB from 'rocksdb-native';
import {
  MessageSysFlag,
  TransactionType,
  decodeStoredMessage,
  encodeStoredMessage,
  javaStringHash,
} from '../../../protocol/message/index.js';
import {
  DEFAULT_DELAY_LEVEL_MILLIS,
  dispatchFromMessageRecord,
  type DispatchRequest,
  type MessageDispatch,
} from '../../../storage/index/DispatchRequest.js';
import { READ_AHEAD_ENTRIES } from '../../../storage/index/ConsumeQueueReadAhead.js';
import { IndexStore, MAX_DISPATCHES_PER_APPLY, type ConsumeQueueEntry } from '../../../storage/index/IndexStore.js';
import { projectRoot } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/processes.js';

const T0 = 1_700_000_000_000;
const HEADER = 48;

/** A log of message dispatches: entry i sits at pos i * 200, stored at T0 + i * 10. */
function messages(count: number, spec: { topics?: string[]; queues?: number; firstIndex?: number; keys?: (i: number) => string[] } = {}): MessageDispatch[] {
  const topics = spec.topics ?? ['TopicA'];
  const queues = spec.queues ?? 2;
  const next = new Map<string, number>();
  const out: MessageDispatch[] = [];
  const firstIndex = spec.firstIndex ?? 1;
  for (let i = 0; i < count; i++) {
    const topic = topics[i % topics.length] as string;
    const queueId = Math.floor(i / topics.length) % queues;
    const q = `${topic}:${queueId}`;
    const queueOffset = next.get(q) ?? 0;
    next.set(q, queueOffset + 1);
    const index = firstIndex + i;
    const pos = index * 200;
    out.push({
      kind: 'message',
      index,
      pos,
      topic,
      queueId,
      queueOffset,
      physicalOffset: pos + HEADER,
      size: 150,
      tagsCode: javaStringHash(`tag${i % 3}`),
      storeTimestamp: T0 + index * 10,
      keys: spec.keys ? spec.keys(i) : [`key-${i}`],
      uniqKey: `UNIQ${String(i).padStart(8, '0')}`,
    });
  }
  return out;
}

async function applyInBatches(store: IndexStore, records: readonly DispatchRequest[], size: number): Promise<void> {
  for (let i = 0; i < records.length; i += size) await store.apply(records.slice(i, i + size));
}

function entryOf(d: MessageDispatch): ConsumeQueueEntry {
  return { queueOffset: d.queueOffset, physicalOffset: d.physicalOffset, size: d.size, tagsCode: d.tagsCode, storeTimestamp: d.storeTimestamp };
}

/** Every queue's entries, read back in pages of `page`. */
async function dumpQueues(store: IndexStore, page = 7): Promise<Record<string, { min: number; max: number; entries: ConsumeQueueEntry[] }>> {
  const out: Record<string, { min: number; max: number; entries: ConsumeQueueEntry[] }> = {};
  for (const q of store.queues().sort((a, b) => a.topic.localeCompare(b.topic) || a.queueId - b.queueId)) {
    const entries: ConsumeQueueEntry[] = [];
    for (let o = q.min; o < q.max; ) {
      const got = await store.readConsumeQueue(q.topic, q.queueId, o, page);
      if (got.length === 0) break;
      entries.push(...got);
      o = (got[got.length - 1] as ConsumeQueueEntry).queueOffset + 1;
    }
    out[`${q.topic}:${q.queueId}`] = { min: q.min, max: q.max, entries };
  }
  return out;
}

async function open(t: Test, dir: string, options?: Parameters<typeof IndexStore.open>[1]): Promise<IndexStore> {
  const store = await IndexStore.open(dir, options);
  t.teardown(() => store.close());
  return store;
}

t.test('dispatchFromMessageRecord reads what the index needs from a stored record', async (t) => {
  const base = {
    topic: 'OrderTopic',
    queueId: 3,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: T0 - 5,
    bornHost: { address: '10.0.0.9', port: 50000 },
    storeHost: { address: '10.0.0.1', port: 10911 },
    body: Buffer.from('hello'),
    queueOffset: 41,
    physicalOffset: 1_000_048,
    storeTimestamp: T0,
  };
  const record = encodeStoredMessage({ ...base, propertiesText: 'TAGS\u0001TagA\u0002KEYS\u0001k1  k2 k3\u0002UNIQ_KEY\u0001ABCDEF\u0002WAIT\u0001true\u0002' });
  const d = dispatchFromMessageRecord(7, 1_000_000, record);
  t.strictSame(d, {
    kind: 'message',
    index: 7,
    pos: 1_000_000,
    topic: 'OrderTopic',
    queueId: 3,
    queueOffset: 41,
    physicalOffset: 1_000_048,
    size: record.length,
    tagsCode: 2598919,
    storeTimestamp: T0,
    keys: ['k1', 'k2', 'k3'],
    uniqKey: 'ABCDEF',
  });

  // Agrees with the full decoder, IPv6 hosts and v2 magic included.
  const v6 = encodeStoredMessage({ ...base, bornHost: { address: '::1', port: 1 }, storeHost: { address: 'fe80::2', port: 2 }, magic: 0xdaa320ab, properties: { TAGS: '日本', KEYS: 'only' } });
  const full = decodeStoredMessage(v6);
  const d6 = dispatchFromMessageRecord(1, 0, v6);
  t.equal(d6.topic, full.topic);
  t.equal(d6.storeTimestamp, full.storeTimestamp);
  t.equal(d6.tagsCode, javaStringHash('日本'));
  t.strictSame(d6.keys, ['only']);
  t.equal(d6.uniqKey, undefined);

  const none = dispatchFromMessageRecord(1, 0, encodeStoredMessage({ ...base, propertiesText: 'TAGS\u0001\u0002KEYS\u0001 \u0002' }));
  t.equal(none.tagsCode, 0, 'an empty TAGS value is no tag');
  t.strictSame(none.keys, [], 'blank KEYS give no key');

  const half = dispatchFromMessageRecord(1, 0, encodeStoredMessage({ ...base, sysFlag: TransactionType.PREPARED, properties: { KEYS: 'k', UNIQ_KEY: 'U1' } }));
  t.equal(half.skipConsumeQueue, true, 'a half message gets no consume-queue entry');
  t.strictSame(half.keys, ['k'], 'but is indexed by key');
  const rolledBack = dispatchFromMessageRecord(1, 0, encodeStoredMessage({ ...base, sysFlag: TransactionType.ROLLBACK, properties: { KEYS: 'k', UNIQ_KEY: 'U1' } }));
  t.equal(rolledBack.skipConsumeQueue, true);
  t.strictSame([rolledBack.keys, rolledBack.uniqKey], [[], undefined], 'a rolled-back record is not indexed at all');
  t.equal(dispatchFromMessageRecord(1, 0, encodeStoredMessage({ ...base, sysFlag: TransactionType.COMMIT | MessageSysFlag.MULTI_TAGS })).skipConsumeQueue, undefined);

  const delayed = dispatchFromMessageRecord(1, 0, encodeStoredMessage({ ...base, topic: 'SCHEDULE_TOPIC_XXXX', properties: { TAGS: 'x', DELAY: '3' } }));
  t.equal(delayed.tagsCode, T0 + (DEFAULT_DELAY_LEVEL_MILLIS[2] as number), 'SCHEDULE_TOPIC_XXXX: tagsCode is the delivery time');
  const capped = dispatchFromMessageRecord(1, 0, encodeStoredMessage({ ...base, topic: 'SCHEDULE_TOPIC_XXXX', properties: { DELAY: '99' } }), { delayLevelMillis: [1000, 2000] });
  t.equal(capped.tagsCode, T0 + 2000, 'levels above the table use the last one');

  t.throws(() => dispatchFromMessageRecord(5, 960, record.subarray(0, record.length - 1)), { code: 'BAD_RECORD', message: /entry 5 at log position 960/ });
  const badMagic = Buffer.from(record);
  badMagic.writeInt32BE(1, 4);
  t.throws(() => dispatchFromMessageRecord(5, 960, badMagic), { code: 'BAD_RECORD', message: /MAGICCODE/ });
  const badProps = Buffer.from(record);
  badProps.writeInt16BE(3, record.length - Buffer.byteLength('TAGS\u0001TagA\u0002KEYS\u0001k1  k2 k3\u0002UNIQ_KEY\u0001ABCDEF\u0002WAIT\u0001true\u0002') - 2);
  t.throws(() => dispatchFromMessageRecord(5, 960, badProps), { code: 'BAD_RECORD', message: /PROPLEN/ });
});

t.test('consume queues: bounds, point reads, pages, memory tail and RocksDB', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const records = messages(300, { topics: ['TopicA', 'TopicB'], queues: 3 });
  for (const tailEntries of [0, 16, 256]) {
    const sub = `${dir}-${tailEntries}`;
    const store = await open(t, sub, { tailEntries });
    t.equal(store.openReport.created, true);
    t.strictSame(store.applied, { index: -1, pos: -1 });
    await applyInBatches(store, records, 32);
    t.strictSame(store.applied, { index: 300, pos: 300 * 200 });
    for (const q of ['TopicA', 'TopicB']) {
      for (let id = 0; id < 3; id++) {
        t.equal(store.minOffset(q, id), 0);
        t.equal(store.maxOffset(q, id), 50, `${q}:${id} has 50 entries`);
      }
    }
    t.equal(store.maxOffset('TopicA', 7), 0, 'unknown queue: 0');
    t.equal(store.maxOffset('Nope', 0), 0);
    const byQueue = records.filter((r) => r.topic === 'TopicB' && r.queueId === 2);
    t.strictSame(await store.getConsumeQueueEntry('TopicB', 2, 17), entryOf(byQueue[17] as MessageDispatch), `tail ${tailEntries}: point read`);
    t.equal(await store.getConsumeQueueEntry('TopicB', 2, 50), undefined, 'at max: nothing');
    t.equal(await store.getConsumeQueueEntry('TopicB', 9, 0), undefined);
    t.strictSame(await store.readConsumeQueue('TopicB', 2, 10, 32), byQueue.slice(10, 42).map(entryOf), 'a page across runs');
    t.strictSame(await store.readConsumeQueue('TopicB', 2, 45, 32), byQueue.slice(45).map(entryOf), 'a page cut at max');
    t.strictSame(await store.readConsumeQueue('TopicB', 2, 49, 1), byQueue.slice(49).map(entryOf), 'the newest entry');
    t.strictSame(await store.readConsumeQueue('TopicB', 2, 50, 32), []);
    t.strictSame(await store.readConsumeQueue('TopicB', 2, 0, 0), []);
    const dump = await dumpQueues(store, 5);
    t.strictSame(dump['TopicA:1']?.entries, records.filter((r) => r.topic === 'TopicA' && r.queueId === 1).map(entryOf));
  }
});

t.test('readers see a write only once it has landed', async (t) => {
  const store = await open(t, path.join(tempDir(t), 'index-db'));
  const records = messages(20, { queues: 1 });
  await store.apply(records.slice(0, 10));
  const pending = store.apply(records.slice(10));
  t.equal(store.maxOffset('TopicA', 0), 10, 'max waits for the write');
  const during = await store.readConsumeQueue('TopicA', 0, 5, 100);
  t.ok(during.length === 5 || during.length === 15, 'a read during the write sees all of it or none of it');
  await pending;
  t.equal(store.maxOffset('TopicA', 0), 20);
  t.strictSame(await store.readConsumeQueue('TopicA', 0, 5, 100), records.slice(5).map(entryOf));
  t.strictSame(store.applied, { index: 20, pos: 4000 });
});

t.test('bounds, entries and the checkpoint survive close and reopen', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const records = messages(100, { queues: 4 });
  let store = await IndexStore.open(dir);
  await applyInBatches(store, records, 9);
  await store.apply([], { index: 120, pos: 120 * 200 });
  t.strictSame(store.applied, { index: 120, pos: 24000 }, 'upTo moves the checkpoint past entries without records');
  const before = await dumpQueues(store);
  await store.close();
  await t.rejects(store.apply(records.slice(0, 1)), { code: 'CLOSED' });

  store = await open(t, dir);
  t.equal(store.openReport.created, false);
  t.equal(store.openReport.queues, 4);
  t.strictSame(store.applied, { index: 120, pos: 24000 });
  t.strictSame(store.lastIndexed, { storeTimestamp: T0 + 1000, physicalOffset: 100 * 200 + HEADER });
  t.equal(store.maxOffset('TopicA', 3), 25);
  t.strictSame(await dumpQueues(store), before, 'same queues after reopen (read from RocksDB)');
  // Without the clean-close marker (as after a crash) each queue's max is found by a seek.
  await store.close();
  const raw = new RocksDB(dir);
  await raw.ready();
  const w = raw.write();
  w.tryDelete(Buffer.from('B'));
  await w.flush();
  w.destroy();
  await raw.close();
  store = await open(t, dir);
  t.strictSame(store.queues().map((q) => q.max), [25, 25, 25, 25], 'maxes found from the runs');
  t.strictSame(await dumpQueues(store), before);
  // Replaying from an older point is harmless: records at or below the checkpoint are skipped.
  await store.apply(records.slice(50, 60));
  t.equal(store.maxOffset('TopicA', 3), 25);
  t.strictSame(await dumpQueues(store), before);
  const more = messages(8, { queues: 4, firstIndex: 121 }).map((d) => ({ ...d, queueOffset: d.queueOffset + 25 }));
  await store.apply(more);
  t.equal(store.maxOffset('TopicA', 0), 27);
  t.strictSame(await store.readConsumeQueue('TopicA', 0, 24, 10), [
    ...(before['TopicA:0']?.entries.slice(24) ?? []),
    entryOf(more[0] as MessageDispatch),
    entryOf(more[4] as MessageDispatch),
  ], 'new entries continue the old runs');
});

t.test('offset by timestamp and earliest store time', async (t) => {
  const store = await open(t, path.join(tempDir(t), 'index-db'));
  // One queue, store times 100, 110, 110, 110, 130, 140 (+T0).
  const times = [100, 110, 110, 110, 130, 140];
  const records: MessageDispatch[] = times.map((ts, i) => ({
    kind: 'message', index: i + 1, pos: (i + 1) * 200, topic: 'T', queueId: 0, queueOffset: i,
    physicalOffset: (i + 1) * 200 + HEADER, size: 100, tagsCode: 0, storeTimestamp: T0 + ts, keys: [],
  }));
  await store.apply(records);
  const lower = (ts: number): Promise<number> => store.offsetByTimestamp('T', 0, T0 + ts, 'lower');
  const upper = (ts: number): Promise<number> => store.offsetByTimestamp('T', 0, T0 + ts, 'upper');
  t.equal(await lower(50), 0, 'before everything: min');
  t.equal(await lower(100), 0);
  t.equal(await lower(105), 1, 'first stored at or after');
  t.equal(await lower(110), 1, 'first of equal times');
  t.equal(await lower(111), 4);
  t.equal(await lower(140), 5);
  t.equal(await lower(141), 6, 'after everything: max');
  t.equal(await upper(50), 0, 'before everything: min');
  t.equal(await upper(110), 3, 'last of equal times');
  t.equal(await upper(129), 3);
  t.equal(await upper(130), 4);
  t.equal(await upper(1000), 5, 'after everything: the last entry');
  t.equal(await store.offsetByTimestamp('T', 0, T0 + 110), 1, 'lower is the default');
  t.equal(await store.offsetByTimestamp('T', 5, T0), 0, 'unknown queue');
  t.equal(await store.earliestStoreTime('T', 0), T0 + 100);
  t.equal(await store.earliestStoreTime('T', 5), -1);
});

t.test('key and id indexes: newest first, limits, time ranges, no prefix bleed', async (t) => {
  const store = await open(t, path.join(tempDir(t), 'index-db'));
  const records = messages(40, {
    topics: ['Orders', 'Other'],
    keys: (i) => (i % 2 === 0 ? ['order-1', `n${i}`] : i % 4 === 1 ? ['order-1'] : ['order-10']),
  });
  await applyInBatches(store, records, 16);
  const ordersOrder1 = records.filter((r) => r.topic === 'Orders' && r.keys.includes('order-1'));
  t.equal(ordersOrder1.length, 20);
  const all = await store.queryByKey('Orders', 'order-1', 100, 0, Number.MAX_SAFE_INTEGER);
  t.strictSame(all, ordersOrder1.map((r) => r.physicalOffset).reverse(), 'newest first');
  t.strictSame(await store.queryByKey('Orders', 'order-1', 3, 0, Number.MAX_SAFE_INTEGER), all.slice(0, 3), 'maxNum');
  const [a, b] = [ordersOrder1[5] as MessageDispatch, ordersOrder1[9] as MessageDispatch];
  t.strictSame(
    await store.queryByKey('Orders', 'order-1', 100, a.storeTimestamp, b.storeTimestamp),
    ordersOrder1.slice(5, 10).map((r) => r.physicalOffset).reverse(),
    'time range, both ends included',
  );
  t.strictSame(await store.queryByKey('Orders', 'order-1', 100, 0, T0), [], 'before the first message');
  t.strictSame(await store.queryByKey('Orders', 'order-', 100, 0, Number.MAX_SAFE_INTEGER), [], 'a key prefix matches nothing');
  t.strictSame(await store.queryByKey('Order', 'order-1', 100, 0, Number.MAX_SAFE_INTEGER), [], 'a topic prefix matches nothing');
  const other1 = await store.queryByKey('Other', 'order-1', 100, 0, Number.MAX_SAFE_INTEGER);
  const other10 = await store.queryByKey('Other', 'order-10', 100, 0, Number.MAX_SAFE_INTEGER);
  t.strictSame([other1.length, other10.length], [10, 10]);
  t.notOk(other1.some((p) => other10.includes(p)), 'order-1 and order-10 do not mix');

  // The UNIQ_KEY: by id, and through QUERY_MESSAGE's key search; a retry keeps its UNIQ_KEY.
  const m = records[6] as MessageDispatch;
  t.strictSame(await store.getByUniqKey(m.uniqKey as string), [m.physicalOffset]);
  t.strictSame(await store.queryByKey(m.topic, m.uniqKey as string, 10, 0, Number.MAX_SAFE_INTEGER), [m.physicalOffset]);
  t.strictSame(await store.queryByKey('Other', m.uniqKey as string, 10, 0, Number.MAX_SAFE_INTEGER), [], 'uniq key of another topic');
  const retry: MessageDispatch = { ...m, index: 41, pos: 41 * 200, physicalOffset: 41 * 200 + HEADER, topic: '%RETRY%G', queueId: 0, queueOffset: 0, storeTimestamp: T0 + 9999, keys: [] };
  await store.apply([retry]);
  t.strictSame(await store.getByUniqKey(m.uniqKey as string), [retry.physicalOffset, m.physicalOffset], 'newest first');
  t.strictSame(await store.getByUniqKey(m.uniqKey as string, 1), [retry.physicalOffset]);
  t.strictSame(await store.getByUniqKey('UNIQ0000000'), [], 'a uniq key prefix matches nothing');
  t.strictSame(store.lastIndexed, { storeTimestamp: retry.storeTimestamp, physicalOffset: retry.physicalOffset });

  // A half message is found by key but is in no consume queue.
  const half: MessageDispatch = { ...m, index: 42, pos: 42 * 200, physicalOffset: 42 * 200 + HEADER, topic: 'RMQ_SYS_TRANS_HALF_TOPIC', queueOffset: 0, keys: ['half-key'], uniqKey: 'HALF1', skipConsumeQueue: true };
  await store.apply([half]);
  t.strictSame(await store.queryByKey('RMQ_SYS_TRANS_HALF_TOPIC', 'half-key', 10, 0, Number.MAX_SAFE_INTEGER), [half.physicalOffset]);
  t.equal(store.maxOffset('RMQ_SYS_TRANS_HALF_TOPIC', m.queueId), 0);
});

t.test('metadata: topics, subscription groups, consumer and delay offsets', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  let store = await IndexStore.open(dir);
  let index = 0;
  const meta = (d: Record<string, unknown>): DispatchRequest => ({ index: ++index, pos: index * 100, ...d }) as DispatchRequest;
  await store.apply([
    meta({ kind: 'topic', name: 'TopicA', value: '{"readQueueNums":8}' }),
    meta({ kind: 'topic', name: 'TopicB', value: '{"readQueueNums":4}' }),
    meta({ kind: 'subscriptionGroup', name: 'G1', value: '{"consumeEnable":true}' }),
    meta({ kind: 'consumerOffsets', group: 'G1', topic: 'TopicA', offsets: [{ queueId: 0, offset: 10 }, { queueId: 1, offset: 11 }] }),
    meta({ kind: 'consumerOffsets', group: 'G1', topic: 'TopicB', offsets: [{ queueId: 0, offset: 5 }] }),
    meta({ kind: 'consumerOffsets', group: 'G10', topic: 'TopicA', offsets: [{ queueId: 0, offset: 99 }] }),
    meta({ kind: 'delayOffsets', offsets: [{ level: 1, offset: 3 }, { level: 18, offset: 7 }] }),
  ]);
  await store.apply([
    meta({ kind: 'topic', name: 'TopicB', value: null }),
    meta({ kind: 'consumerOffsets', group: 'G1', topic: 'TopicA', offsets: [{ queueId: 0, offset: 12 }] }),
  ]);
  t.equal(await store.getMetadata('topic', 'TopicA'), '{"readQueueNums":8}');
  t.equal(await store.getMetadata('topic', 'TopicB'), undefined, 'deleted');
  t.strictSame([...(await store.listMetadata('topic'))], [['TopicA', '{"readQueueNums":8}']]);
  t.strictSame([...(await store.listMetadata('subscriptionGroup'))], [['G1', '{"consumeEnable":true}']]);
  t.equal(await store.getConsumerOffset('G1', 'TopicA', 0), 12, 'the last update wins');
  t.equal(await store.getConsumerOffset('G1', 'TopicA', 2), undefined);
  t.strictSame(await store.listConsumerOffsets('G1'), [
    { group: 'G1', topic: 'TopicA', queueId: 0, offset: 12 },
    { group: 'G1', topic: 'TopicA', queueId: 1, offset: 11 },
    { group: 'G1', topic: 'TopicB', queueId: 0, offset: 5 },
  ], 'a group does not include G10');
  t.equal((await store.listConsumerOffsets()).length, 4);
  t.strictSame([...(await store.getDelayOffsets())], [[1, 3], [18, 7]]);

  await store.apply([meta({ kind: 'deleteConsumerOffsets', group: 'G1', topic: 'TopicA' })]);
  t.strictSame(await store.listConsumerOffsets('G1'), [{ group: 'G1', topic: 'TopicB', queueId: 0, offset: 5 }]);
  await store.close();
  store = await open(t, dir);
  await store.apply([meta({ kind: 'deleteConsumerOffsets', group: 'G1' })]);
  t.strictSame(await store.listConsumerOffsets(), [{ group: 'G10', topic: 'TopicA', queueId: 0, offset: 99 }]);
  t.equal(await store.getMetadata('topic', 'TopicA'), '{"readQueueNums":8}', 'survives reopen');
  t.strictSame(store.applied, { index, pos: index * 100 });
});

t.test('the checkpoint moves with the batch, and a bad batch changes nothing', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  let store = await IndexStore.open(dir);
  const records = messages(20);
  await store.apply(records.slice(0, 10));
  const before = await dumpQueues(store);
  const bad = records.slice(10, 20).map((r, i) => (i === 6 ? { ...r, queueOffset: -1 } : r));
  await t.rejects(store.apply(bad), { code: 'BAD_DISPATCH', message: /entry 17/ });
  const backwards = [records[10] as MessageDispatch, { ...(records[11] as MessageDispatch), queueOffset: 0, queueId: 0 }];
  await t.rejects(store.apply(backwards), { code: 'BAD_DISPATCH', message: /below its next offset/ });
  await t.rejects(store.apply([{ ...(records[10] as MessageDispatch), topic: 'NewTopic' }, { ...(records[11] as MessageDispatch), index: 3 }]), { code: 'BAD_DISPATCH', message: /goes back/ });
  await t.rejects(store.apply(records.slice(10, 11), { index: 5, pos: 0 }), { code: 'BAD_DISPATCH', message: /upTo/ });
  await t.rejects(store.apply(new Array(MAX_DISPATCHES_PER_APPLY + 1).fill(records[10])), { code: 'BAD_DISPATCH' });
  await t.rejects(store.apply([{ ...(records[10] as MessageDispatch), keys: ['日'.repeat(30000)] }]), { code: 'BAD_DISPATCH', message: /65535 bytes/ });
  t.strictSame(store.applied, { index: 10, pos: 2000 });
  t.strictSame(await dumpQueues(store), before);
  t.equal(store.queues('NewTopic').length, 0, 'no queue left behind by a refused batch');

  await store.apply(records.slice(10, 15));
  await store.close();
  // Only what the database holds counts: reopen and compare.
  store = await open(t, dir);
  t.strictSame(store.applied, { index: 15, pos: 3000 });
  t.equal(store.maxOffset('TopicA', 0) + store.maxOffset('TopicA', 1), 15);
  t.equal((await store.queryByKey('TopicA', 'key-14', 10, 0, Number.MAX_SAFE_INTEGER)).length, 1, 'key entries landed with it');
  t.equal((await store.queryByKey('TopicA', 'key-15', 10, 0, Number.MAX_SAFE_INTEGER)).length, 0);
});

t.test('a gap in queue offsets starts a new run and is counted', async (t) => {
  const store = await open(t, path.join(tempDir(t), 'index-db'), { tailEntries: 8 });
  const at = (i: number, queueOffset: number): MessageDispatch => ({
    kind: 'message', index: i, pos: i * 200, topic: 'G', queueId: 0, queueOffset, physicalOffset: i * 200 + HEADER, size: 1, tagsCode: 0, storeTimestamp: T0 + i, keys: [],
  });
  await store.apply([at(1, 100), at(2, 101), at(3, 105), at(4, 106)]);
  t.equal(store.minOffset('G', 0), 100, 'a new queue starts at its first offset (a rebuilt store whose log lost its start)');
  t.equal(store.maxOffset('G', 0), 107);
  t.equal(store.stats.queueOffsetGaps, 1);
  t.strictSame((await store.readConsumeQueue('G', 0, 0, 10)).map((e) => e.queueOffset), [100, 101, 105, 106]);
  t.strictSame((await store.readConsumeQueue('G', 0, 102, 10)).map((e) => e.queueOffset), [105, 106]);
  t.strictSame((await store.readConsumeQueue('G', 0, 100, 3)).map((e) => e.queueOffset), [100, 101, 105], 'maxCount counts entries, not offsets');
  t.strictSame((await store.readConsumeQueue('G', 0, 105, 10)).map((e) => e.queueOffset), [105, 106], 'from the memory tail');
  t.equal(await store.getConsumeQueueEntry('G', 0, 103), undefined);
  t.equal(await store.offsetByTimestamp('G', 0, T0 + 3), 105);
});

t.test('truncateFrom removes everything at or past a log position', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  let store = await IndexStore.open(dir, { tailEntries: 4 });
  const records = messages(60, { topics: ['A', 'B'], queues: 2 });
  await applyInBatches(store, records, 16);
  const cutAt = records[37] as MessageDispatch; // inside the third batch
  const kept = records.slice(0, 37);
  const report = await store.truncateFrom(cutAt.pos, { index: cutAt.index - 1, pos: cutAt.pos - 200 });
  t.strictSame(report, { messages: 23, queues: 4 });
  t.strictSame(store.applied, { index: 37, pos: 37 * 200 });
  const expected = (recs: MessageDispatch[]): Record<string, ConsumeQueueEntry[]> => {
    const out: Record<string, ConsumeQueueEntry[]> = {};
    for (const r of recs) (out[`${r.topic}:${r.queueId}`] ??= []).push(entryOf(r));
    return out;
  };
  const check = async (label: string): Promise<void> => {
    const dump = await dumpQueues(store);
    const want = expected(kept);
    for (const [q, entries] of Object.entries(want)) {
      t.strictSame(dump[q]?.entries, entries, `${label}: ${q} entries`);
      t.equal(dump[q]?.max, entries.length, `${label}: ${q} max`);
    }
    t.strictSame(await store.queryByKey(cutAt.topic, cutAt.keys[0] as string, 10, 0, Number.MAX_SAFE_INTEGER), [], `${label}: key gone`);
    t.strictSame(await store.getByUniqKey(cutAt.uniqKey as string), [], `${label}: id gone`);
    const last = kept[kept.length - 1] as MessageDispatch;
    t.strictSame(await store.getByUniqKey(last.uniqKey as string), [last.physicalOffset], `${label}: the entry before stays`);
  };
  await check('after truncation');
  await store.close();
  store = await open(t, dir, { tailEntries: 4 });
  await check('after reopen');
  t.strictSame(await store.truncateFrom(cutAt.pos, { index: 37, pos: 37 * 200 }), { messages: 0, queues: 0 }, 'repeating it removes nothing more');
  t.strictSame(store.applied, { index: 37, pos: 7400 });
  // A new leader's entries take the cut offsets again.
  const replacement = records.slice(37).map((r) => ({ ...r, storeTimestamp: r.storeTimestamp + 1 }));
  await applyInBatches(store, replacement, 7);
  t.strictSame((await dumpQueues(store))['B:1']?.entries, records.filter((r) => r.topic === 'B' && r.queueId === 1).map((r) => entryOf(r.index > 37 ? { ...r, storeTimestamp: r.storeTimestamp + 1 } : r)));
});

t.test('read-ahead: a backlog read page by page, windows past the page, and cuts that invalidate them', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const store = await open(t, dir, { tailEntries: 0 });
  // two queues interleaved, runs of 37 per queue: windows start and end inside runs
  const records = messages(2 * (READ_AHEAD_ENTRIES + 500), { queues: 2 });
  await applyInBatches(store, records, 74);
  const q0 = records.filter((r) => r.queueId === 0);
  const got: ConsumeQueueEntry[] = [];
  for (let o = 0; o < q0.length; ) {
    const page = await store.readConsumeQueue('TopicA', 0, o, 32);
    if (page.length === 0) break;
    got.push(...page);
    o = page[page.length - 1]!.queueOffset + 1;
  }
  t.strictSame(got, q0.map(entryOf), 'pages of 32 across two windows give every entry once, in order');
  t.strictSame(await store.readConsumeQueue('TopicA', 0, 100, 40), q0.slice(100, 140).map(entryOf), 'a read back inside a window');
  t.strictSame(await store.readConsumeQueue('TopicA', 0, 1000, 100), q0.slice(1000, 1100).map(entryOf), 'a read across the end of a window');
  t.strictSame(await store.getConsumeQueueEntry('TopicA', 0, 7), entryOf(q0[7]!), 'a point read');

  // The queue grows: a read that starts in a window continues past it.
  const more = messages(2 * (READ_AHEAD_ENTRIES + 600), { queues: 2 }).slice(records.length);
  await applyInBatches(store, more, 50);
  const q0all = [...q0, ...more.filter((r) => r.queueId === 0)];
  t.strictSame(await store.readConsumeQueue('TopicA', 0, q0.length - 10, 32), q0all.slice(q0.length - 10, q0.length + 22).map(entryOf), 'past the window into what was applied after it');

  // Cut the tail and apply other entries at the same offsets: no window may serve the old ones.
  const cutFrom = q0all[q0.length - 300]!;
  await store.readConsumeQueue('TopicA', 0, cutFrom.queueOffset - 5, 32); // a window over the cut
  await store.truncateFrom(cutFrom.pos, { index: cutFrom.index - 1, pos: cutFrom.pos - 200 });
  const all = [...records, ...more];
  const replaced = all.filter((r) => r.index >= cutFrom.index).map((r) => ({ ...r, size: 151, physicalOffset: r.physicalOffset + 1 }));
  await applyInBatches(store, replaced, 64);
  const want = all.filter((r) => r.queueId === 0).map((r) => (r.index >= cutFrom.index ? { ...r, size: 151, physicalOffset: r.physicalOffset + 1 } : r));
  t.strictSame(await store.readConsumeQueue('TopicA', 0, cutFrom.queueOffset - 5, 32), want.slice(cutFrom.queueOffset - 5, cutFrom.queueOffset + 27).map(entryOf), 'the entries applied after the cut');
});

t.test('dropBefore (retention) raises min offsets and removes old index entries', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  let store = await IndexStore.open(dir);
  const records = messages(60, { topics: ['A', 'B'], queues: 2 });
  await applyInBatches(store, records, 16);
  const from = records[21] as MessageDispatch; // inside the second batch
  const report = await store.dropBefore(from.pos);
  t.strictSame(report, { messages: 21, queues: 4 });
  const check = async (label: string): Promise<void> => {
    const dump = await dumpQueues(store);
    for (const [q, { min, max, entries }] of Object.entries(dump)) {
      const [topic, id] = q.split(':');
      const want = records.filter((r) => r.topic === topic && r.queueId === Number(id) && r.index >= from.index);
      t.equal(min, (want[0] as MessageDispatch).queueOffset, `${label}: ${q} min`);
      t.equal(max, 15, `${label}: ${q} max unchanged`);
      t.strictSame(entries, want.map(entryOf), `${label}: ${q} entries`);
    }
    t.strictSame(await store.getByUniqKey((records[20] as MessageDispatch).uniqKey as string), [], `${label}: old id gone`);
    t.strictSame(await store.getByUniqKey(from.uniqKey as string), [from.physicalOffset], `${label}: kept id stays`);
    t.equal(await store.earliestStoreTime(from.topic, from.queueId), from.storeTimestamp);
  };
  await check('after retention');
  await store.close();
  store = await open(t, dir);
  await check('after reopen');
  t.strictSame(await store.dropBefore(from.pos), { messages: 0, queues: 0 });
  await store.dropBefore(100_000);
  t.strictSame(store.queues().map((q) => q.max - q.min), [0, 0, 0, 0], 'everything dropped: empty queues keep their max');
  t.equal(store.maxOffset('A', 0), 15);
  await store.close();
  store = await open(t, dir);
  t.strictSame(store.queues().map((q) => [q.min, q.max]), [[15, 15], [15, 15], [15, 15], [15, 15]], 'and after reopen');
});

t.test('truncation and retention over many apply steps work in several write steps', async (t) => {
  const store = await open(t, path.join(tempDir(t), 'index-db'), { tailEntries: 0 });
  const records = messages(300, { queues: 3 });
  await applyInBatches(store, records, 1);
  t.strictSame(await store.truncateFrom((records[250] as MessageDispatch).pos, { index: 250, pos: 250 * 200 }), { messages: 50, queues: 3 });
  t.strictSame(await store.dropBefore((records[100] as MessageDispatch).pos), { messages: 100, queues: 3 });
  const left = records.slice(100, 250);
  const dump = await dumpQueues(store);
  for (let id = 0; id < 3; id++) {
    const want = left.filter((r) => r.queueId === id).map(entryOf);
    t.strictSame(dump[`TopicA:${id}`]?.entries, want, `queue ${id}`);
    t.strictSame([dump[`TopicA:${id}`]?.min, dump[`TopicA:${id}`]?.max], [want[0]?.queueOffset, (want[want.length - 1]?.queueOffset ?? 0) + 1]);
  }
  t.equal((await store.queryByKey('TopicA', 'key-99', 5, 0, Number.MAX_SAFE_INTEGER)).length, 0);
  t.equal((await store.queryByKey('TopicA', 'key-100', 5, 0, Number.MAX_SAFE_INTEGER)).length, 1);
  t.equal((await store.queryByKey('TopicA', 'key-250', 5, 0, Number.MAX_SAFE_INTEGER)).length, 0);
});

// The child applies 40-message steps of a fixed log from its checkpoint on and prints each
// applied index; it is killed with SIGKILL after a few steps. Whatever the moment, the reopened
// store must hold exactly the messages up to its checkpoint: data and checkpoint move together.
const CRASH_CHILD = `
const { IndexStore } = await import(process.argv[1]);
const store = await IndexStore.open(process.argv[2]);
const msg = (i) => ({ kind: 'message', index: i, pos: i * 200, topic: 'Crash', queueId: i % 4, queueOffset: Math.floor((i - 1) / 4),
  physicalOffset: i * 200 + 48, size: 100, tagsCode: i, storeTimestamp: 1700000000000 + i, keys: ['k' + i], uniqKey: 'U' + i });
for (let next = Math.max(1, store.applied.index + 1); ; next += 40) {
  await store.apply(Array.from({ length: 40 }, (_, j) => msg(next + j)));
  process.stdout.write('applied ' + store.applied.index + '\\n');
}`;

t.test('SIGKILL while applying: the checkpoint and the entries agree after reopen', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const module = path.join(projectRoot, 'dist', 'storage', 'index', 'IndexStore.js');
  let applied = 0;
  for (let round = 0; round < 2; round++) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CRASH_CHILD, module, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let lines = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        lines += d.toString().split('\n').length - 1;
        if (lines >= 3 + round) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => resolve());
    });
    await exited;
    const store = await IndexStore.open(dir);
    const at = store.applied.index;
    t.ok(at >= applied + 40 * (3 + round), `round ${round}: at least the reported steps (${at})`);
    t.equal(at % 40, 0, 'a whole step or none');
    applied = at;
    let entries = 0;
    for (let id = 0; id < 4; id++) entries += store.maxOffset('Crash', id);
    t.equal(entries, at, 'one consume-queue entry per applied message');
    const last = await store.getConsumeQueueEntry('Crash', at % 4, Math.floor((at - 1) / 4));
    t.equal(last?.physicalOffset, at * 200 + 48);
    t.strictSame(await store.getByUniqKey(`U${at}`), [at * 200 + 48], 'the last message is indexed');
    t.strictSame(await store.getByUniqKey(`U${at + 1}`), [], 'nothing after the checkpoint');
    await store.close();
  }
});

t.test('a missing, foreign or damaged folder gives an empty store ready for replay', async (t) => {
  const root = tempDir(t);
  const missing = path.join(root, 'a', 'index-db');
  const store = await open(t, missing);
  t.strictSame([store.openReport.created, store.openReport.damaged, store.applied.index], [true, undefined, -1]);

  const junk = path.join(root, 'junk');
  fs.mkdirSync(junk);
  fs.writeFileSync(path.join(junk, '000001.sst'), 'not a table');
  fs.writeFileSync(path.join(junk, 'notes.txt'), 'hello');
  const fromJunk = await open(t, junk);
  t.equal(fromJunk.openReport.created, true);
  t.match(fromJunk.openReport.damaged, { reason: /no RocksDB CURRENT/, movedTo: `${junk}.damaged` });
  t.strictSame(fromJunk.applied, { index: -1, pos: -1 });
  t.ok(fs.existsSync(path.join(junk, 'CURRENT')), 'a new database in its place');
  t.ok(fs.existsSync(path.join(`${junk}.damaged`, 'notes.txt')), 'the old files are kept aside');

  const garbage = path.join(root, 'garbage');
  let good = await IndexStore.open(garbage);
  await good.apply(messages(5));
  await good.close();
  for (const f of fs.readdirSync(garbage)) if (f.startsWith('MANIFEST') || f === 'CURRENT') fs.writeFileSync(path.join(garbage, f), 'garbage garbage garbage');
  await t.rejects(IndexStore.open(garbage, { onDamaged: 'fail' }), { code: 'DAMAGED', message: /RocksDB refused/ });
  good = await open(t, garbage);
  t.match(good.openReport, { created: true, damaged: { reason: /RocksDB refused/ } });
  t.equal(good.maxOffset('TopicA', 0), 0);
  await good.apply(messages(5));
  t.equal(good.maxOffset('TopicA', 0) + good.maxOffset('TopicA', 1), 5, 'replay fills it again');

  const foreign = path.join(root, 'foreign');
  const other = new RocksDB(foreign);
  await other.ready();
  await other.close();
  const fromForeign = await open(t, foreign);
  t.match(fromForeign.openReport.damaged, { reason: /no format version/ });
});

t.test('a folder in use is not mistaken for a damaged one', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const store = await open(t, dir);
  await store.apply(messages(3));
  await t.rejects(IndexStore.open(dir), { code: 'LOCKED' });
  t.equal(fs.existsSync(`${dir}.damaged`), false);
  await store.apply(messages(2, { firstIndex: 4 }).map((d, i) => ({ ...d, queueOffset: 2 + i, queueId: 0 })));
  t.equal(store.maxOffset('TopicA', 0), 4, 'the first store still works');
});

t.test('rebuild: deleting the folder and replaying gives identical consume queues', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const records: DispatchRequest[] = messages(3000, { topics: ['A', 'B', 'C', 'D', 'E'], queues: 4, keys: (i) => (i % 5 === 0 ? [] : [`k${i % 17}`]) });
  // Metadata entries in between take indexes of their own.
  let index = 3000;
  records.push({ kind: 'topic', index: ++index, pos: index * 200, name: 'A', value: '{}' });
  records.push({ kind: 'consumerOffsets', index: ++index, pos: index * 200, group: 'G', topic: 'A', offsets: [{ queueId: 1, offset: 77 }] });
  let store = await IndexStore.open(dir);
  await applyInBatches(store, records, 61);
  await store.close();
  // Read everything back from RocksDB (no memory tail), before and after the rebuild.
  store = await IndexStore.open(dir, { tailEntries: 0 });
  const before = await dumpQueues(store, 50);
  const keysBefore = await store.queryByKey('C', 'k3', 1000, 0, Number.MAX_SAFE_INTEGER);
  await store.close();
  const expected = new Map<string, ConsumeQueueEntry[]>();
  for (const r of records) if (r.kind === 'message') (expected.get(`${r.topic}:${r.queueId}`) ?? expected.set(`${r.topic}:${r.queueId}`, []).get(`${r.topic}:${r.queueId}`))?.push(entryOf(r));
  t.strictSame(Object.fromEntries(Object.entries(before).map(([q, v]) => [q, v.entries])), Object.fromEntries(expected), 'the queues hold exactly the log');
  fs.rmSync(dir, { recursive: true });
  store = await open(t, dir, { tailEntries: 0 });
  t.equal(store.applied.index, -1, 'an empty store asks for the whole log');
  await applyInBatches(store, records, 500);
  t.strictSame(await dumpQueues(store, 50), before, 'every consume queue is identical');
  t.strictSame(await store.queryByKey('C', 'k3', 1000, 0, Number.MAX_SAFE_INTEGER), keysBefore);
  t.equal(await store.getConsumerOffset('G', 'A', 1), 77);
  t.equal(Object.keys(before).length, 20);
  t.equal(Object.values(before).reduce((n, q) => n + q.entries.length, 0), 3000);
});

/** UNIQ_KEYs as Java and ali-ons producers make them: 20 hex of address, pid and class-loader hash, 8 of time, 4 of counter. */
function javaKey(producer: string, ms: number, counter: number): string {
  return producer + ms.toString(16).toUpperCase().padStart(8, '0') + counter.toString(16).toUpperCase().padStart(4, '0');
}

/** 'G' entries in the database of a closed store. */
async function groupEntries(dir: string): Promise<number> {
  const raw = new RocksDB(dir);
  await raw.ready();
  let n = 0;
  for await (const _ of raw.iterator({ gte: Buffer.from('G'), lt: Buffer.from('H') })) n++;
  await raw.close();
  return n;
}

t.test('UNIQ_KEYs sharing their first 26 bytes take one put per apply step, and are found, cut and dropped like the others', async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  let store = await IndexStore.open(dir);
  const producers = ['0A0000010F2C18B4AAC2', '0A0000020F2C18B4AAC2'];
  // three steps of 20 messages, two producers taking turns (keys of one producer and 256 ms share a prefix)
  const records = messages(60, { queues: 1, keys: () => [] }).map((r, i) => ({ ...r, uniqKey: javaKey(producers[i % 2] as string, 0x1234500 + i, i) }));
  const short = { ...(records[59] as MessageDispatch), index: 61, pos: 61 * 200, physicalOffset: 61 * 200 + HEADER, queueOffset: 60, uniqKey: 'SHORT-1' };
  const noUniq = messages(20, { queues: 1, keys: () => [], firstIndex: 1000 }).map((r, i) => ({ ...r, queueOffset: 1000 + i, uniqKey: undefined }));
  const writes: number[] = [];
  for (let s = 0; s < 3; s++) {
    const before = store.stats.writes;
    await store.apply(records.slice(s * 20, s * 20 + 20));
    writes.push(store.stats.writes - before);
  }
  await store.apply([short]);
  const plainBefore = store.stats.writes;
  await store.apply(noUniq);
  const plain = store.stats.writes - plainBefore;
  t.strictSame(writes.slice(1), [plain + 2, plain + 2], 'a step of 20 messages from two producers: two group puts more than a step without UNIQ_KEYs');

  const found = async (rs: MessageDispatch[]): Promise<number[][]> => Promise.all(rs.map((r) => store.getByUniqKey(r.uniqKey as string)));
  t.strictSame(await found(records), records.map((r) => [r.physicalOffset]), 'every key finds its message');
  t.strictSame(await store.getByUniqKey('SHORT-1'), [short.physicalOffset], 'a key shorter than the prefix');
  const m = records[33] as MessageDispatch;
  t.strictSame(await store.queryByKey(m.topic, m.uniqKey as string, 10, 0, Number.MAX_SAFE_INTEGER), [m.physicalOffset], 'QUERY_MESSAGE by key looks in the groups');
  t.strictSame(await store.queryByKey('OtherTopic', m.uniqKey as string, 10, 0, Number.MAX_SAFE_INTEGER), [], 'and keeps the topic');
  t.strictSame(await store.getByUniqKey(javaKey(producers[1] as string, 0x1234500 + 33, 34)), [], 'a key of the same group that was never sent');
  t.strictSame(await store.getByUniqKey((m.uniqKey as string).slice(0, 26)), [], 'the prefix alone matches nothing');
  const retry: MessageDispatch = { ...m, index: 2000, pos: 2000 * 200, physicalOffset: 2000 * 200 + HEADER, topic: '%RETRY%G', queueId: 0, queueOffset: 0, storeTimestamp: T0 + 99_999 };
  await store.apply([retry]);
  t.strictSame(await store.getByUniqKey(m.uniqKey as string), [retry.physicalOffset, m.physicalOffset], 'a retry keeps its key: newest first');
  t.strictSame(await store.getByUniqKey(m.uniqKey as string, 1), [retry.physicalOffset]);

  // Truncation inside the third step, retention inside the second: the steps' groups are rewritten.
  t.strictSame(await store.truncateFrom((records[47] as MessageDispatch).pos, { index: 47, pos: 47 * 200 }), { messages: 13 + 1 + 20 + 1, queues: 2 });
  t.strictSame(await store.dropBefore((records[25] as MessageDispatch).pos), { messages: 25, queues: 1 });
  const check = async (label: string): Promise<void> => {
    t.strictSame(await found(records.slice(25, 47)), records.slice(25, 47).map((r) => [r.physicalOffset]), `${label}: the kept messages are found`);
    t.strictSame(await found([...records.slice(0, 25), ...records.slice(47)]), Array.from({ length: 25 + 13 }, () => []), `${label}: the removed ones are not`);
    t.strictSame(await store.getByUniqKey('SHORT-1'), [], `${label}: nor the cut short key`);
  };
  await check('after the cuts');
  await store.close();
  store = await open(t, dir);
  await check('after reopen');
  // the rewritten steps can be cut again, from both ends
  t.strictSame(await store.truncateFrom((records[45] as MessageDispatch).pos, { index: 45, pos: 45 * 200 }), { messages: 2, queues: 1 });
  t.strictSame(await store.dropBefore((records[30] as MessageDispatch).pos), { messages: 5, queues: 1 });
  t.strictSame(await found(records.slice(25, 47)), records.slice(25, 47).map((r) => (r.index >= 31 && r.index <= 45 ? [r.physicalOffset] : [])));
  await store.dropBefore(1_000_000);
  t.strictSame(await found(records), records.map(() => []), 'everything dropped');
  await store.close();
  t.equal(await groupEntries(dir), 0, 'and no group entry is left behind');
});

t.test("'U' entries and journals written before groups are still found and removed", async (t) => {
  const dir = path.join(tempDir(t), 'index-db');
  const first = await IndexStore.open(dir);
  await first.close();
  // one message at pos 5000 in the old layout: its 'U' entry, and its journal naming that key
  const uniq = '0A0000010F2C18B4AAC2012345670001';
  const phys = 5048;
  const ukey = Buffer.concat([Buffer.from([0x55, 0, uniq.length]), Buffer.from(uniq), Buffer.alloc(8)]);
  ukey.writeBigInt64BE(BigInt(phys), ukey.length - 8);
  const uvalue = Buffer.concat([Buffer.alloc(8), Buffer.from('Old')]);
  uvalue.writeBigInt64BE(BigInt(T0), 0);
  const record = Buffer.alloc(8 + 2 + 8 + 2 + 2);
  record.writeBigInt64BE(5000n, 0);
  record.writeUInt16BE(0xffff, 8);
  record.writeUInt16BE(1, 18);
  record.writeUInt16BE(ukey.length, 20);
  const footer = Buffer.alloc(6);
  footer.writeUInt32BE(record.length + ukey.length, 0);
  const jkey = Buffer.alloc(9);
  jkey[0] = 0x4a;
  jkey.writeBigInt64BE(5000n, 1);
  const raw = new RocksDB(dir);
  await raw.ready();
  const w = raw.write();
  w.tryPut(ukey, uvalue);
  w.tryPut(jkey, Buffer.concat([record, ukey, footer]));
  await w.flush();
  w.destroy();
  await raw.close();
  const store = await open(t, dir);
  t.strictSame(await store.getByUniqKey(uniq), [phys]);
  t.strictSame(await store.queryByKey('Old', uniq, 10, 0, Number.MAX_SAFE_INTEGER), [phys]);
  t.strictSame(await store.truncateFrom(4000, { index: -1, pos: -1 }), { messages: 1, queues: 0 });
  t.strictSame(await store.getByUniqKey(uniq), [], 'truncation deletes the old entry through the old journal');
});

t.test('a UNIQ_KEY search stops at the first whole group past 65,536 members of its prefix, newest first', async (t) => {
  const store = await open(t, path.join(tempDir(t), 'index-db'), { tailEntries: 0 });
  // a custom key format whose first 26 bytes never change: every key of a step lands in one group
  const records = messages(80_000, { queues: 1, keys: () => [] }).map((r, i) => ({ ...r, uniqKey: `CUSTOM-FORMAT-SAME-PREFIX-${i}` }));
  await applyInBatches(store, records, MAX_DISPATCHES_PER_APPLY);
  // groups of 8,192 (the last of 6,272), newest first: after the ninth, 71,808 members were looked at
  const found = async (i: number): Promise<number[]> => store.getByUniqKey((records[i] as MessageDispatch).uniqKey as string);
  t.strictSame(await found(79_999), [(records[79_999] as MessageDispatch).physicalOffset], 'the newest is found');
  t.strictSame(await found(8192), [(records[8192] as MessageDispatch).physicalOffset], 'the oldest of the ninth group is found');
  t.strictSame(await found(8191), [], 'the newest of the tenth group is past the bound');
  t.strictSame(await found(0), []);
});
