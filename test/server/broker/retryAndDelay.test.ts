// Delay levels and consumer send-back through the wire: the DELAY property parks a message in
// SCHEDULE_TOPIC_XXXX until its level's time, CONSUMER_SEND_MSG_BACK makes a retry copy (via
// the schedule topic) or a DLQ copy, and a retry-topic send past maxReconsumeTimes goes to the DLQ.
import t from 'tap';
import { decodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { decodeStoredMessages, type StoredMessage } from '../../../protocol/message/index.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode as RC } from '../../../protocol/remoting/ResponseCode.js';
import { createTopic, expectCode, pull, queueReaches, send, startWireBroker, Wire } from './wire.js';

const SCHEDULE = 'SCHEDULE_TOPIC_XXXX';

t.test('delay levels and send-back', async (t) => {
  // five levels of one second each: level 3 + reconsumeTimes stays short
  const wb = await startWireBroker(t, { messageDelayLevel: '1s 1s 1s 1s 1s' });
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'RT');
  const max = async (topic: string, queueId: number) => Number((await w.request(RequestCode.GET_MAX_OFFSET, { topic, queueId: String(queueId) })).extFields?.offset);
  const pullOne = async (topic: string, queueId: number, offset = 0): Promise<StoredMessage> => {
    await queueReaches(wb.broker, topic, queueId, offset + 1);
    const r = await pull(w, topic, { queueId, offset, group: 'CG' });
    expectCode(t, r, RC.SUCCESS, `pull ${topic}@${queueId}:${offset}`);
    return decodeStoredMessages(r.body!)[0]!;
  };

  await t.test('the DELAY property', async (t) => {
    const r = await send(w, 'RT', 'later', { queueId: 2, tags: 'D', props: { DELAY: '2' } });
    expectCode(t, r, RC.SUCCESS, 'delayed send');
    t.equal(r.extFields?.queueId, '2', 'the answer names the queue asked for');
    await queueReaches(wb.broker, SCHEDULE, 1, 1);
    t.equal(await max(SCHEDULE, 1), 1, 'parked in SCHEDULE_TOPIC_XXXX queue level-1');
    t.equal(await max('RT', 2), 0, 'not yet in the real queue');
    const clamped = await send(w, 'RT', 'much later', { queueId: 3, props: { DELAY: '99' } });
    expectCode(t, clamped, RC.SUCCESS, 'a level past the last one');
    await queueReaches(wb.broker, SCHEDULE, 4, 1);
    t.equal(await max(SCHEDULE, 4), 1, 'is clamped to the last level');
    await queueReaches(wb.broker, 'RT', 2, 1);
    const m = await pullOne('RT', 2);
    t.equal(m.body.toString(), 'later', 'delivered to its real topic and queue');
    t.equal(m.topic, 'RT');
    t.equal(m.properties.get('TAGS'), 'D');
    t.equal(m.properties.get('REAL_TOPIC'), 'RT', 'REAL_TOPIC kept, as Java keeps it');
    t.notOk(m.properties.has('DELAY'), 'DELAY removed so it is not delayed again');
    await queueReaches(wb.broker, 'RT', 3, 1);
  });

  let original: StoredMessage;
  await t.test('CONSUMER_SEND_MSG_BACK: retry topic through the schedule topic', async (t) => {
    expectCode(t, await send(w, 'RT', 'fails once', { queueId: 0, tags: 'F', keys: 'K1' }), RC.SUCCESS, 'the message');
    original = await pullOne('RT', 0);
    const r = await w.request(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: String(original.physicalOffset),
      group: 'CG',
      delayLevel: '0',
      originMsgId: original.msgId,
      originTopic: 'RT',
      maxReconsumeTimes: '16',
    });
    expectCode(t, r, RC.SUCCESS, 'send back');
    const topics = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!).topicConfigTable;
    t.match(topics.get('%RETRY%CG'), { readQueueNums: 1, writeQueueNums: 1, perm: 6 }, '%RETRY%CG created with 1 queue, RW');
    await queueReaches(wb.broker, SCHEDULE, 2, 1);
    t.equal(await max('%RETRY%CG', 0), 0, 'delayed first: level 3 + reconsumeTimes 0 = queue 2 of the schedule topic');
    await queueReaches(wb.broker, '%RETRY%CG', 0, 1);
    const retry = await pullOne('%RETRY%CG', 0);
    t.equal(retry.topic, '%RETRY%CG');
    t.equal(retry.body.toString(), 'fails once', 'same body');
    t.equal(retry.reconsumeTimes, 1, 'reconsumeTimes + 1');
    t.equal(retry.properties.get('RETRY_TOPIC'), 'RT', 'RETRY_TOPIC = the original topic');
    t.equal(retry.properties.get('ORIGIN_MESSAGE_ID'), original.msgId, 'ORIGIN_MESSAGE_ID');
    t.equal(retry.properties.get('UNIQ_KEY'), original.properties.get('UNIQ_KEY'), 'same UNIQ_KEY');
    t.equal(retry.properties.get('KEYS'), 'K1');
    t.equal(retry.bornTimestamp, original.bornTimestamp, 'born time copied');

    const dlq = await w.request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset: String(retry.physicalOffset), group: 'CG', delayLevel: '0', maxReconsumeTimes: '1' });
    expectCode(t, dlq, RC.SUCCESS, 'send back after maxReconsumeTimes');
    await queueReaches(wb.broker, '%DLQ%CG', 0, 1);
    t.equal(await max('%DLQ%CG', 0), 1, 'stored at once in %DLQ%CG, no delay');
    const all = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!).topicConfigTable;
    t.match(all.get('%DLQ%CG'), { readQueueNums: 1, perm: 2 }, 'the DLQ topic is write-only, as Java makes it');
  });

  await t.test('delayLevel -1 goes straight to the DLQ', async (t) => {
    await send(w, 'RT', 'hopeless', { queueId: 1 });
    const m = await pullOne('RT', 1);
    const before = await max('%DLQ%CG', 0);
    const r = await w.request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset: String(m.physicalOffset), group: 'CG', delayLevel: '-1', maxReconsumeTimes: '16' });
    expectCode(t, r, RC.SUCCESS, 'send back with -1');
    await queueReaches(wb.broker, '%DLQ%CG', 0, before + 1);
    t.equal(await max('%DLQ%CG', 0), before + 1, 'in the DLQ with reconsumeTimes 0');
  });

  await t.test('send-back refusals', async (t) => {
    const noMsg = await w.request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset: String(original.physicalOffset + 1), group: 'CG', delayLevel: '0' });
    expectCode(t, noMsg, RC.SYSTEM_ERROR, 'no message at that offset');
    const noGroup = await w.request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset: String(original.physicalOffset), group: 'NoSuchGroup', delayLevel: '0' });
    expectCode(t, noGroup, RC.SUBSCRIPTION_GROUP_NOT_EXIST, 'unknown group');
    const missing = await w.request(RequestCode.CONSUMER_SEND_MSG_BACK, { group: 'CG', delayLevel: '0' });
    expectCode(t, missing, RC.SYSTEM_ERROR, 'missing offset');
    t.match(missing.remark, /offset is null/);
    expectCode(t, await send(w, 'RT', 'still here'), RC.SUCCESS, 'the connection still serves');
  });

  await t.test('a retry-topic send past maxReconsumeTimes goes to the DLQ (the client fallback)', async (t) => {
    const before = await max('%DLQ%CG', 0);
    const r = await send(w, '%RETRY%CG', 'from the client', { queueId: 0, reconsumeTimes: 3, maxReconsumeTimes: 2 });
    expectCode(t, r, RC.SUCCESS, 'sent');
    await queueReaches(wb.broker, '%DLQ%CG', 0, before + 1);
    t.equal(await max('%DLQ%CG', 0), before + 1, 'redirected to %DLQ%CG');
    const old = await send(w, '%RETRY%CG', 'old client', { queueId: 0, reconsumeTimes: 3, maxReconsumeTimes: 2, version: 100 });
    expectCode(t, old, RC.SUCCESS, 'a client older than V3_4_9');
    t.equal(await max('%DLQ%CG', 0), before + 1, 'its maxReconsumeTimes header is ignored (group default 16): not in the DLQ');
    const noGroup = await send(w, '%RETRY%Unknown', 'x', { queueId: 0 });
    expectCode(t, noGroup, RC.TOPIC_NOT_EXIST, 'a retry topic of an unknown group is not created');
  });
});
