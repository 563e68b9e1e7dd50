// Consumer offsets, queue offsets and message lookups through the wire: QUERY/UPDATE_CONSUMER_OFFSET,
// GET_MAX/MIN_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP, GET_EARLIEST_MSG_STORETIME, VIEW_MESSAGE_BY_ID,
// QUERY_MESSAGE by key and by UNIQ_KEY.
import t from 'tap';
import { decodeOffsetMsgId, decodeStoredMessage, decodeStoredMessages } from '../../../protocol/message/index.js';
import type { RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode as RC } from '../../../protocol/remoting/ResponseCode.js';
import { createTopic, expectCode, pull, queueReaches, send, startWireBroker, Wire } from './wire.js';

t.test('offsets and lookups', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'OT');
  const sent: RemotingCommand[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await send(w, 'OT', `body-${i}`, { queueId: 1, keys: `key-${i} shared`, props: { UNIQ_KEY: `UNIQ0000000000000000000000000${i}` } });
    expectCode(t, r, RC.SUCCESS, `send ${i}`);
    sent.push(r);
    await new Promise((r) => setTimeout(r, 3)); // distinct store times
  }
  await queueReaches(wb.broker, 'OT', 1, 3);
  const stored = decodeStoredMessages((await pull(w, 'OT', { queueId: 1 })).body!);
  t.equal(stored.length, 3);

  await t.test('consumer offsets', async (t) => {
    const q = (ext: Record<string, string> = {}) => w.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'G', topic: 'OT', queueId: '1', ...ext });
    const fresh = await q();
    expectCode(t, fresh, RC.SUCCESS, 'unknown offset on a young queue');
    t.equal(fresh.extFields?.offset, '0', 'starts at 0');
    const strict = await q({ setZeroIfNotFound: 'false' });
    expectCode(t, strict, RC.QUERY_NOT_FOUND, 'setZeroIfNotFound=false');
    const up = await w.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G', topic: 'OT', queueId: '1', commitOffset: '2' });
    expectCode(t, up, RC.SUCCESS, 'UPDATE_CONSUMER_OFFSET');
    t.equal((await q()).extFields?.offset, '2', 'read back');
    w.oneway(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G', topic: 'OT', queueId: '1', commitOffset: '3' });
    t.equal((await q()).extFields?.offset, '3', 'a oneway update (as the Java client sends them) is applied');
    t.equal((await q({ queueId: '2' })).extFields?.offset, '0', 'other queues are separate');
    const missing = await w.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G', topic: 'OT', queueId: '1' });
    expectCode(t, missing, RC.SYSTEM_ERROR, 'missing commitOffset');
    t.match(missing.remark, /commitOffset is null/);
    t.equal((await q()).extFields?.offset, '3', 'and nothing changed');
  });

  await t.test('queue offsets and times', async (t) => {
    const max = await w.request(RequestCode.GET_MAX_OFFSET, { topic: 'OT', queueId: '1' });
    expectCode(t, max, RC.SUCCESS, 'GET_MAX_OFFSET');
    t.same(max.extFields, { offset: '3' });
    t.same((await w.request(RequestCode.GET_MIN_OFFSET, { topic: 'OT', queueId: '1' })).extFields, { offset: '0' }, 'GET_MIN_OFFSET');
    t.same((await w.request(RequestCode.GET_MAX_OFFSET, { topic: 'OT', queueId: '3' })).extFields, { offset: '0' }, 'empty queue max 0');
    t.same((await w.request(RequestCode.GET_MAX_OFFSET, { topic: 'Nope', queueId: '0' })).extFields, { offset: '0' }, 'unknown topic max 0');
    const search = async (ts: number) => Number((await w.request(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: 'OT', queueId: '1', timestamp: String(ts) })).extFields?.offset);
    t.equal(await search(0), 0, 'before everything: the first offset');
    t.equal(await search(stored[1]!.storeTimestamp), 1, 'the first message stored at or after the time');
    t.equal(await search(stored[1]!.storeTimestamp - 1), 1, 'a time between two messages gives the later one');
    t.equal(await search(stored[2]!.storeTimestamp), 2);
    const late = await search(stored[2]!.storeTimestamp + 60_000);
    t.ok(late === 2 || late === 3, `after everything: the end of the queue (${late})`);
    const earliest = await w.request(RequestCode.GET_EARLIEST_MSG_STORETIME, { topic: 'OT', queueId: '1' });
    expectCode(t, earliest, RC.SUCCESS, 'GET_EARLIEST_MSG_STORETIME');
    t.same(earliest.extFields, { timestamp: String(stored[0]!.storeTimestamp) }, 'the store time of the message at min offset');
    const missing = await w.request(RequestCode.GET_MAX_OFFSET, { topic: 'OT' });
    expectCode(t, missing, RC.SYSTEM_ERROR, 'GET_MAX_OFFSET without queueId');
    t.match(missing.remark, /queueId is null/);
  });

  await t.test('VIEW_MESSAGE_BY_ID', async (t) => {
    const id = decodeOffsetMsgId(sent[1]!.extFields!.msgId!);
    const r = await w.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(id.offset) });
    expectCode(t, r, RC.SUCCESS, 'by the offset in the send msgId');
    const m = decodeStoredMessage(r.body!);
    t.equal(m.storeSize, r.body!.length, 'exactly one record');
    t.equal(m.body.toString(), 'body-1');
    t.equal(m.offsetMsgId, sent[1]!.extFields!.msgId, 'whose offsetMsgId is the one the send answered');
    const miss = await w.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(id.offset + 1) });
    expectCode(t, miss, RC.SYSTEM_ERROR, 'an offset where no message starts');
    t.match(miss.remark, /can not find message by the offset/);
    const far = await w.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: '99999999999' });
    expectCode(t, far, RC.SYSTEM_ERROR, 'an offset past the log');
    expectCode(t, await w.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(id.offset) }), RC.SUCCESS, 'the connection still serves');
  });

  await t.test('QUERY_MESSAGE', async (t) => {
    const query = (key: string, ext: Record<string, string> = {}) =>
      w.request(RequestCode.QUERY_MESSAGE, { topic: 'OT', key, maxNum: '32', beginTimestamp: '0', endTimestamp: String(Date.now() + 60_000), ...ext });
    const one = await query('key-2');
    expectCode(t, one, RC.SUCCESS, 'by a key');
    t.same(decodeStoredMessages(one.body!).map((m) => m.body.toString()), ['body-2']);
    t.same(Object.keys(one.extFields ?? {}).sort(), ['indexLastUpdatePhyoffset', 'indexLastUpdateTimestamp'], 'response header');
    const shared = await query('shared');
    t.same(decodeStoredMessages(shared.body!).map((m) => m.body.toString()).sort(), ['body-0', 'body-1', 'body-2'], 'every message with the key (KEYS is space-separated)');
    const capped = await query('shared', { maxNum: '2' });
    t.equal(decodeStoredMessages(capped.body!).length, 2, 'maxNum caps the answer');
    const uniq = await query('UNIQ00000000000000000000000001', { _UNIQUE_KEY_QUERY: 'true' });
    expectCode(t, uniq, RC.SUCCESS, 'by UNIQ_KEY');
    t.same(decodeStoredMessages(uniq.body!).map((m) => m.body.toString()), ['body-1']);
    const asKey = await query('UNIQ00000000000000000000000001');
    t.ok(asKey.code === RC.SUCCESS || asKey.code === RC.QUERY_NOT_FOUND, 'a UNIQ_KEY asked as a plain key is answered either way');
    const none = await query('no-such-key');
    expectCode(t, none, RC.QUERY_NOT_FOUND, 'no match');
    t.match(none.remark, /can not find message/);
    t.same(Object.keys(none.extFields ?? {}).sort(), ['indexLastUpdatePhyoffset', 'indexLastUpdateTimestamp'], 'the header is there on a miss too');
    const old = await query('key-0', { endTimestamp: String(stored[0]!.storeTimestamp - 1000) });
    expectCode(t, old, RC.QUERY_NOT_FOUND, 'outside the time range');
    const otherTopic = await w.request(RequestCode.QUERY_MESSAGE, { topic: 'Other', key: 'key-0', maxNum: '32', beginTimestamp: '0', endTimestamp: String(Date.now() + 60_000) });
    expectCode(t, otherTopic, RC.QUERY_NOT_FOUND, 'keys are per topic');
  });
});
