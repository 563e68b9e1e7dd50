// PULL_MESSAGE through the wire: spec §4.2's status table with nextBeginOffset and the queue
// bounds in every answer, the tag filter, the checks before it and their codes, committing
// offsets, and long polling (woken by a matching message only, answered at its timeout).
import fs from 'node:fs';
import t, { type Test } from 'tap';
import { builtAddon } from '../../helpers/pageCache.js';
import type { CommitLogReads } from '../../../server/broker/commitlog/logReads.js';
import { encodeSubscriptionGroupConfig, subscriptionGroupConfig } from '../../../protocol/body/SubscriptionGroupConfig.js';
import { decodeStoredMessages } from '../../../protocol/message/index.js';
import type { RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode as RC } from '../../../protocol/remoting/ResponseCode.js';
import { createTopic, expectCode, heartbeat, pull, pullHeader, queueReaches, send, startWireBroker, subscription, Wire, type PullOptions, type WireBroker } from './wire.js';

const BOUNDS = ['maxOffset', 'minOffset', 'nextBeginOffset', 'suggestWhichBrokerId'];

function header(t: Test, r: RemotingCommand, what: string, expected: { next: number; min: number; max: number }): void {
  t.same(Object.keys(r.extFields ?? {}).sort(), BOUNDS, `${what}: the pull response header`);
  t.same(
    { next: Number(r.extFields?.nextBeginOffset), min: Number(r.extFields?.minOffset), max: Number(r.extFields?.maxOffset) },
    expected,
    `${what}: nextBeginOffset ${expected.next}, min ${expected.min}, max ${expected.max}`,
  );
}

const tagsOf = (r: RemotingCommand): string[] => decodeStoredMessages(r.body ?? Buffer.alloc(0)).map((m) => m.properties.get('TAGS') ?? '');

t.test('the status table of spec §4.2', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'PT');
  for (const tag of ['A', 'B', 'A']) expectCode(t, await send(w, 'PT', `m-${tag}`, { queueId: 1, tags: tag }), RC.SUCCESS, `send ${tag}`);
  await queueReaches(wb.broker, 'PT', 1, 3);

  const rows: Array<[string, PullOptions, number, { next: number; min: number; max: number }, string]> = [
    ['empty queue, offset 0', { queueId: 0, offset: 0 }, RC.PULL_NOT_FOUND, { next: 0, min: 0, max: 0 }, 'NO_MESSAGE_IN_QUEUE'],
    ['empty queue, offset 5', { queueId: 0, offset: 5 }, RC.PULL_OFFSET_MOVED, { next: 0, min: 0, max: 0 }, 'NO_MESSAGE_IN_QUEUE'],
    ['below min', { queueId: 1, offset: -1 }, RC.PULL_OFFSET_MOVED, { next: 0, min: 0, max: 3 }, 'OFFSET_TOO_SMALL'],
    ['at max', { queueId: 1, offset: 3 }, RC.PULL_NOT_FOUND, { next: 3, min: 0, max: 3 }, 'OFFSET_OVERFLOW_ONE'],
    ['above max', { queueId: 1, offset: 10 }, RC.PULL_OFFSET_MOVED, { next: 3, min: 0, max: 3 }, 'OFFSET_OVERFLOW_BADLY'],
    ['found, all', { queueId: 1, offset: 0 }, RC.SUCCESS, { next: 3, min: 0, max: 3 }, 'FOUND'],
    ['found from the middle', { queueId: 1, offset: 1 }, RC.SUCCESS, { next: 3, min: 0, max: 3 }, 'FOUND'],
    ['found, capped by maxMsgNums', { queueId: 1, offset: 0, maxMsgNums: 2 }, RC.SUCCESS, { next: 2, min: 0, max: 3 }, 'FOUND'],
    ['tag filter keeps B', { queueId: 1, offset: 0, subscription: 'B' }, RC.SUCCESS, { next: 3, min: 0, max: 3 }, 'FOUND'],
    ['tag filter matches nothing', { queueId: 1, offset: 0, subscription: 'C || D' }, RC.PULL_RETRY_IMMEDIATELY, { next: 3, min: 0, max: 3 }, 'NO_MATCHED_MESSAGE'],
  ];
  const bodies = new Map<string, string[]>();
  for (const [what, o, code, bounds, remark] of rows) {
    for (const ser of ['JSON', 'ROCKETMQ'] as const) {
      const r = await pull(w, 'PT', { ...o, ser });
      expectCode(t, r, code, `${ser} ${what}`);
      header(t, r, `${ser} ${what}`, bounds);
      t.equal(r.remark, remark, `${ser} ${what}: remark ${remark}`);
      if (code === RC.SUCCESS) bodies.set(what, tagsOf(r));
      else t.notOk(r.body, `${ser} ${what}: no body`);
    }
  }
  t.same(bodies.get('found, all'), ['A', 'B', 'A']);
  t.same(bodies.get('found from the middle'), ['B', 'A']);
  t.same(bodies.get('found, capped by maxMsgNums'), ['A', 'B']);
  t.same(bodies.get('tag filter keeps B'), ['B']);
});

t.test('a pull of records out of the page cache reads them in the thread pool first, then answers them', async (t) => {
  const addon = builtAddon();
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'Cold');
  const sent: string[] = [];
  for (let i = 0; i < 20; i++) {
    const text = `cold-${i}-${'z'.repeat(2000)}`;
    expectCode(t, await send(w, 'Cold', text, { queueId: 0 }), RC.SUCCESS, `send ${i}`);
    sent.push(text);
  }
  await queueReaches(wb.broker, 'Cold', 0, 20);
  const log = wb.broker.commitLog as unknown as CommitLogReads;
  const storage = log.storage;
  await storage.whenWritten(storage.endPosition);
  for (const seg of storage.dataSegments) {
    const fd = fs.openSync(seg.path, 'r');
    try {
      fs.fdatasyncSync(fd);
      await addon.dropCache(fd, 0, fs.fstatSync(fd).size);
      // mincore, not the probe: a probe that misses may start the kernel's read-ahead
      t.equal(addon.cachedPages(fd, 0, fs.fstatSync(fd).size), 0, 'the log is out of the page cache');
    } finally {
      fs.closeSync(fd);
    }
  }
  const before = log.coldReadBytes;
  const r = await pull(w, 'Cold', { queueId: 0, offset: 0 });
  expectCode(t, r, RC.SUCCESS, 'pull');
  t.same(
    decodeStoredMessages(r.body ?? Buffer.alloc(0)).map((m) => m.body.toString()),
    sent,
    'every record, intact',
  );
  t.ok(log.coldReadBytes - before >= 20 * 2000, `read in the thread pool first: ${log.coldReadBytes - before} bytes`);
  const after = log.coldReadBytes;
  const again = await pull(w, 'Cold', { queueId: 0, offset: 0 });
  expectCode(t, again, RC.SUCCESS, 'pull again');
  t.equal(log.coldReadBytes, after, 'cached now: nothing read in the pool');
});

t.test('transfer caps: Java\'s defaults and keys; records picked from a log shared by several queues', async (t) => {
  /** A broker with `conf`, 50 records sent to each of Big's queues 0 and 1 and indexed. */
  const loaded = async (t: Test, conf?: Record<string, string>): Promise<{ w: Wire; sent: string[][]; wb: WireBroker }> => {
    const wb = await startWireBroker(t, conf);
    const w = await Wire.open(t, wb.port);
    await createTopic(w, 'Big');
    const sent: string[][] = [[], []];
    for (let i = 0; i < 100; i++) {
      const queueId = i % 2;
      const text = `m${String(i).padStart(3, '0')}-${'x'.repeat(480)}`;
      expectCode(t, await send(w, 'Big', text, { queueId, tags: i % 4 < 2 ? 'A' : 'B' }), RC.SUCCESS, `send ${i}`);
      sent[queueId]!.push(text);
    }
    await queueReaches(wb.broker, 'Big', 0, 50);
    await queueReaches(wb.broker, 'Big', 1, 50);
    return { w, sent, wb };
  };
  const decoded = (r: RemotingCommand) => decodeStoredMessages(r.body ?? Buffer.alloc(0));

  await t.test('defaults: 32 messages and 256 KiB per answer, whatever the client asks', async (t) => {
    const { w, sent } = await loaded(t);
    const r = await pull(w, 'Big', { queueId: 1, offset: 3, maxMsgNums: 64 });
    expectCode(t, r, RC.SUCCESS, 'a pull of 64');
    header(t, r, 'a pull of 64', { next: 35, min: 0, max: 50 });
    const ms = decoded(r);
    t.same(ms.map((m) => m.queueOffset), Array.from({ length: 32 }, (_, k) => 3 + k), 'maxTransferCountOnMessageInMemory 32');
    t.same(ms.map((m) => m.body.toString()), sent[1]!.slice(3, 35), 'the records of this queue only, in order');
    const tagged = decoded(await pull(w, 'Big', { queueId: 0, offset: 0, subscription: 'B' }));
    t.same(tagged.map((m) => m.body.toString()), sent[0]!.filter((_, k) => (2 * k) % 4 >= 2).slice(0, 32), 'tag B of queue 0');
  });

  await t.test('body buffers are reused once their answer is written; each answer holds its own records', async (t) => {
    const { w, sent, wb } = await loaded(t);
    const pool = wb.broker.pulls!.bodies;
    const before = pool.stats;
    // pulls of different lengths from both queues: a reused buffer holds a longer body's bytes past the new one's end
    const asks: Array<[number, number, number]> = [[0, 0, 32], [1, 10, 3], [0, 5, 20], [1, 0, 1], [0, 40, 10], [1, 17, 32]];
    for (const [queueId, offset, maxMsgNums] of asks) {
      const r = await pull(w, 'Big', { queueId, offset, maxMsgNums });
      const want = sent[queueId]!.slice(offset, offset + maxMsgNums);
      t.same(decoded(r).map((m) => m.body.toString()), want, `queue ${queueId} from ${offset}, ${want.length} records`);
    }
    const after = pool.stats;
    t.equal(after.taken - before.taken, asks.length, 'one buffer per answer with records');
    t.ok(after.reused - before.reused >= asks.length - 2, `buffers reused (${after.reused - before.reused} of ${asks.length})`);
  });

  await t.test('maxTransferCountOnMessageInMemory raises the count', async (t) => {
    const { w } = await loaded(t, { maxTransferCountOnMessageInMemory: '48' });
    const ms = decoded(await pull(w, 'Big', { queueId: 0, maxMsgNums: 64 }));
    t.same(ms.map((m) => m.queueOffset), Array.from({ length: 48 }, (_, k) => k), '48 of the 64 asked');
  });

  await t.test('maxTransferBytesOnMessageInMemory lowers the bytes', async (t) => {
    const { w } = await loaded(t, { maxTransferBytesOnMessageInMemory: '6000' });
    const ms = decoded(await pull(w, 'Big', { queueId: 0, maxMsgNums: 32 }));
    const size = ms[0]!.storeSize;
    t.ok(ms.every((m) => m.storeSize === size), `records of ${size} bytes`);
    t.equal(ms.length, Math.floor(6000 / size), 'as many as fit in 6000 bytes');
  });
});

t.test('checks before the read, each with its code; the connection keeps serving', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'PT', { read: 2, write: 4 });
  await createTopic(w, 'WriteOnly', { perm: 2 });
  await createTopic(w, 'Other');
  await send(w, 'PT', 'x', { queueId: 0, tags: 'A' });
  await queueReaches(wb.broker, 'PT', 0, 1);
  const noConsume = subscriptionGroupConfig('Disabled', { consumeEnable: false });
  expectCode(t, await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, encodeSubscriptionGroupConfig(noConsume)), RC.SUCCESS, 'group with consume disabled');
  const noBroadcast = subscriptionGroupConfig('NoBroadcast', { consumeBroadcastEnable: false });
  await w.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, encodeSubscriptionGroupConfig(noBroadcast));
  expectCode(t, await heartbeat(w, 'bc@1', 'NoBroadcast', [subscription('PT', '*', 1)], { messageModel: 'BROADCASTING' }), RC.SUCCESS, 'broadcasting consumer heartbeat');
  expectCode(t, await heartbeat(w, 'old@1', 'OldSub', [subscription('PT', 'A', 100)]), RC.SUCCESS, 'consumer heartbeat with subVersion 100');

  const refusals: Array<[string, () => Promise<RemotingCommand>, number, RegExp]> = [
    ['queue id = readQueueNums', () => pull(w, 'PT', { queueId: 2 }), RC.SYSTEM_ERROR, /queueId\[2\] is illegal/],
    ['negative queue id', () => pull(w, 'PT', { queueId: -1 }), RC.SYSTEM_ERROR, /queueId\[-1\] is illegal/],
    ['unknown topic', () => pull(w, 'NoSuchTopic'), RC.TOPIC_NOT_EXIST, /not exist/],
    ['topic without READ', () => pull(w, 'WriteOnly'), RC.NO_PERMISSION, /pulling message is forbidden/],
    ['group with consumeEnable=false', () => pull(w, 'PT', { group: 'Disabled' }), RC.NO_PERMISSION, /no permission/],
    ['SQL92 expression', () => w.request(RequestCode.PULL_MESSAGE, { ...pullHeader('PT'), expressionType: 'SQL92', subscription: 'a > 1' }), RC.SUBSCRIPTION_PARSE_FAILED, /SQL92/],
    ['no subscription flag, group never sent a heartbeat', () => pull(w, 'PT', { group: 'Stranger', sysFlag: 0 }), RC.SUBSCRIPTION_NOT_EXIST, /group info not exist/],
    ['no subscription flag, topic not subscribed', () => pull(w, 'Other', { group: 'OldSub', sysFlag: 0 }), RC.SUBSCRIPTION_NOT_EXIST, /subscription not exist/],
    ['subVersion newer than the heartbeat', () => pull(w, 'PT', { group: 'OldSub', sysFlag: 0, subVersion: 200 }), RC.SUBSCRIPTION_NOT_LATEST, /not latest/],
    ['broadcasting in a group that forbids it', () => pull(w, 'PT', { group: 'NoBroadcast', sysFlag: 0 }), RC.NO_PERMISSION, /broadcast/],
    [
      'missing queueOffset',
      () => {
        const h = pullHeader('PT');
        delete h.queueOffset;
        return w.request(RequestCode.PULL_MESSAGE, h);
      },
      RC.SYSTEM_ERROR,
      /the custom field queueOffset is null/,
    ],
    ['queueId not a number', () => w.request(RequestCode.PULL_MESSAGE, { ...pullHeader('PT'), queueId: 'one' }), RC.SYSTEM_ERROR, /queueId is not a 32-bit integer/],
  ];
  for (const [what, run, code, remark] of refusals) {
    const r = await run();
    expectCode(t, r, code, what);
    t.match(r.remark ?? '', remark, `${what}: remark`);
    const again = await pull(w, 'PT', { queueId: 0 });
    expectCode(t, again, RC.SUCCESS, `${what}: the same connection pulls normally afterwards`);
  }
  const ok = await pull(w, 'PT', { group: 'OldSub', sysFlag: 0, subVersion: 100 });
  expectCode(t, ok, RC.SUCCESS, 'without the subscription flag the heartbeat subscription (A) is used');
  t.same(tagsOf(ok), ['A']);
  const ns = await pull(w, 'PT', { group: 'OldSub', sysFlag: 0, queueId: 1 });
  expectCode(t, ns, RC.PULL_NOT_FOUND, 'another queue of the subscribed topic');
});

t.test('the COMMIT_OFFSET flag stores the consumer offset', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'CT');
  for (let i = 0; i < 3; i++) await send(w, 'CT', `m${i}`, { queueId: 3 });
  await queueReaches(wb.broker, 'CT', 3, 3);
  const q = () => w.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'CG', topic: 'CT', queueId: '3' });
  await pull(w, 'CT', { queueId: 3, offset: 2, sysFlag: 0x4, commitOffset: 1 });
  t.equal((await q()).extFields?.offset, '0', 'without the flag nothing is stored (young queue: 0)');
  await pull(w, 'CT', { queueId: 3, offset: 2, sysFlag: 0x4 | 0x1, commitOffset: 2 });
  const r = await q();
  expectCode(t, r, RC.SUCCESS, 'offset known');
  t.equal(r.extFields?.offset, '2', 'with COMMIT_OFFSET the commitOffset is stored');
});

t.test('long polling', async (t) => {
  const wb = await startWireBroker(t);
  const admin = await Wire.open(t, wb.port);
  await createTopic(admin, 'LP');
  const holds = wb.broker.ctx.holds;

  await t.test('a suspended pull at max waits; a non-matching tag does not wake it, a matching one does', async (t) => {
    const consumer = await Wire.open(t, wb.port);
    let answered: RemotingCommand | undefined;
    const started = Date.now();
    const held = pull(consumer, 'LP', { queueId: 2, offset: 0, sysFlag: 0x4 | 0x2, subscription: 'A', suspendTimeoutMillis: 20_000, timeoutMs: 10_000 }).then(
      (r) => (answered = r),
    );
    await waitFor(() => holds.heldCount === 1);
    t.equal(holds.heldCount, 1, 'the pull is held');
    expectCode(t, await send(admin, 'LP', 'not for you', { queueId: 2, tags: 'B' }), RC.SUCCESS, 'send tag B');
    await queueReaches(wb.broker, 'LP', 2, 1);
    t.equal(answered, undefined, 'a B message does not wake an A pull');
    t.equal(holds.heldCount, 1, 'still held');
    expectCode(t, await send(admin, 'LP', 'for you', { queueId: 2, tags: 'A' }), RC.SUCCESS, 'send tag A');
    await held;
    t.ok(Date.now() - started < 10_000, 'answered long before the suspend timeout');
    expectCode(t, answered!, RC.SUCCESS, 'woken pull answers FOUND');
    t.same(tagsOf(answered!), ['A'], 'with the matching message only');
    t.equal(answered!.extFields?.nextBeginOffset, '2', 'nextBeginOffset past both scanned entries');
    t.equal(holds.heldCount, 0);
  });

  await t.test('a suspended pull with nothing arriving answers PULL_NOT_FOUND at its timeout', async (t) => {
    const consumer = await Wire.open(t, wb.port);
    const started = Date.now();
    const r = await pull(consumer, 'LP', { queueId: 3, offset: 0, sysFlag: 0x4 | 0x2, suspendTimeoutMillis: 300 });
    const took = Date.now() - started;
    expectCode(t, r, RC.PULL_NOT_FOUND, 'timed out');
    t.ok(took >= 290, `held about its suspendTimeoutMillis (${took} ms)`);
    t.equal(r.extFields?.nextBeginOffset, '0');
    t.same(Object.keys(r.extFields ?? {}).sort(), BOUNDS);
  });

  await t.test('without the SUSPEND flag the answer is immediate', async (t) => {
    const consumer = await Wire.open(t, wb.port);
    const r = await pull(consumer, 'LP', { queueId: 3, offset: 0, sysFlag: 0x4, suspendTimeoutMillis: 20_000, timeoutMs: 2000 });
    expectCode(t, r, RC.PULL_NOT_FOUND, 'no hold');
    t.equal(holds.heldCount, 0);
  });

  await t.test('a held pull of a client that disconnects is dropped', async (t) => {
    const consumer = await Wire.open(t, wb.port);
    void pull(consumer, 'LP', { queueId: 0, offset: 0, sysFlag: 0x6, suspendTimeoutMillis: 20_000, timeoutMs: 300 }).catch(() => undefined);
    await waitFor(() => holds.heldCount === 1);
    consumer.conn.end();
    await waitFor(() => holds.heldCount === 0);
    t.equal(holds.heldCount, 0, 'gone from the hold service');
    expectCode(t, await send(admin, 'LP', 'late', { queueId: 0 }), RC.SUCCESS, 'the broker still takes sends');
  });
});

/** Waits for a condition the broker reaches on its own (socket reads, the hold service's check). */
async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}
