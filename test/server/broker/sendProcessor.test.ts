// SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE refusals through the wire, in JSON and
// in the binary ROCKETMQ header: each answers with RocketMQ's code, and the same connection
// and the broker keep serving afterwards.
import t, { type Test } from 'tap';
import { decodeTopicConfigWrapper } from '../../../protocol/body/TopicConfigWrapper.js';
import { decodeOffsetMsgId, decodeStoredMessages, encodeBatchBody, serializeProperties } from '../../../protocol/message/index.js';
import { SerializeType, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode as RC } from '../../../protocol/remoting/ResponseCode.js';
import { createTopic, expectCode, pull, queueReaches, send, sendHeader, startWireBroker, Wire, type Ser, type WireBroker } from './wire.js';

const MAX = 2048;

async function stillServes(t: Test, w: Wire, wb: WireBroker, what: string): Promise<void> {
  const same = await send(w, 'OkTopic', 'after ' + what, { queueId: 1 });
  expectCode(t, same, RC.SUCCESS, `${what}: the same connection still sends`);
  const fresh = await Wire.open(t, wb.port, w.ser);
  const other = await fresh.request(RequestCode.GET_MAX_OFFSET, { topic: 'OkTopic', queueId: '1' });
  expectCode(t, other, RC.SUCCESS, `${what}: a new connection is served`);
  fresh.conn.end();
}

t.test('send refusals, JSON and ROCKETMQ headers', async (t) => {
  const wb = await startWireBroker(t, { maxMessageSize: String(MAX) });
  const admin = await Wire.open(t, wb.port);
  expectCode(t, await createTopic(admin, 'OkTopic'), RC.SUCCESS, 'create OkTopic');
  expectCode(t, await createTopic(admin, 'ReadOnly', { perm: 4 }), RC.SUCCESS, 'create a read-only topic');
  expectCode(t, await createTopic(admin, 'Narrow', { read: 2, write: 3 }), RC.SUCCESS, 'create Narrow (2 read, 3 write queues)');

  for (const ser of ['JSON', 'ROCKETMQ'] as Ser[]) {
    await t.test(ser, async (t) => {
      const w = await Wire.open(t, wb.port, ser);
      const ok = await send(w, 'OkTopic', 'hello', { queueId: 1 });
      expectCode(t, ok, RC.SUCCESS, 'a normal send');
      t.equal(ok.serializeType, ser === 'JSON' ? SerializeType.JSON : SerializeType.ROCKETMQ, 'answered in the request serialize type');

      const cases: Array<[string, () => Promise<RemotingCommand>, number, RegExp?]> = [
        ['no write permission on the topic (perm R)', () => send(w, 'ReadOnly', 'x'), RC.NO_PERMISSION, /not allow send/],
        ['body over maxMessageSize', () => send(w, 'OkTopic', Buffer.alloc(MAX + 1, 0x61)), RC.MESSAGE_ILLEGAL, /maxMessageSize/],
        ['properties over 32767 bytes', () => send(w, 'OkTopic', 'x', { props: { big: 'p'.repeat(33_000) } }), RC.MESSAGE_ILLEGAL, /properties/],
        ['queue id past max(read, write)', () => send(w, 'Narrow', 'x', { queueId: 3 }), RC.INVALID_PARAMETER, /queueId\[3\] is illegal/],
        ['topic name with a space', () => send(w, 'bad topic', 'x'), RC.INVALID_PARAMETER, /characters/],
        ['topic name of 128 characters', () => send(w, 'T'.repeat(128), 'x'), RC.INVALID_PARAMETER, /longer than 127/],
        ['the schedule topic', () => send(w, 'SCHEDULE_TOPIC_XXXX', 'x'), RC.NO_PERMISSION, /forbidden/],
        ['the transaction half topic', () => send(w, 'RMQ_SYS_TRANS_HALF_TOPIC', 'x'), RC.NO_PERMISSION, /forbidden/],
        ['a prepared transaction message', () => send(w, 'OkTopic', 'x', { sysFlag: 0x4 }), RC.NO_PERMISSION, /transaction/],
        ['unknown topic whose template lacks INHERIT', () => send(w, 'NoSuchTopic1', 'x', { defaultTopic: 'OkTopic' }), RC.TOPIC_NOT_EXIST, /not exist/],
        [
          'missing required header field b (topic)',
          () => {
            const h = sendHeader('OkTopic');
            delete h.b;
            return w.request(RequestCode.SEND_MESSAGE_V2, h, Buffer.from('x'));
          },
          RC.SYSTEM_ERROR,
          /the custom field b is null/,
        ],
        [
          'missing required V1 header field queueId',
          () =>
            w.request(
              RequestCode.SEND_MESSAGE,
              { producerGroup: 'PG', topic: 'OkTopic', defaultTopic: 'TBW102', defaultTopicQueueNums: '4', sysFlag: '0', bornTimestamp: '1', flag: '0' },
              Buffer.from('x'),
            ),
          RC.SYSTEM_ERROR,
          /the custom field queueId is null/,
        ],
        [
          'a batch holding a delayed message',
          () =>
            w.request(
              RequestCode.SEND_BATCH_MESSAGE,
              { ...sendHeader('OkTopic', { queueId: 1 }), m: 'true' },
              encodeBatchBody([{ body: Buffer.from('a'), flag: 0, propertiesText: serializeProperties({ DELAY: '2' }) }]),
            ),
          RC.MESSAGE_ILLEGAL,
          /delayed/,
        ],
        [
          'a batch body that does not decode',
          () => w.request(RequestCode.SEND_BATCH_MESSAGE, { ...sendHeader('OkTopic', { queueId: 1 }), m: 'true' }, Buffer.from([0, 0, 0, 99, 1, 2])),
          RC.MESSAGE_ILLEGAL,
        ],
      ];
      for (const [what, run, code, remark] of cases) {
        const r = await run();
        expectCode(t, r, code, what);
        if (remark) t.match(r.remark ?? '', remark, `${what}: the remark says why`);
        t.equal(r.serializeType, ser === 'JSON' ? SerializeType.JSON : SerializeType.ROCKETMQ, `${what}: same serialize type`);
        await stillServes(t, w, wb, what);
      }

      const exact = await send(w, 'OkTopic', Buffer.alloc(MAX, 0x62), { queueId: 2 });
      expectCode(t, exact, RC.SUCCESS, 'a body of exactly maxMessageSize is taken');
      const any = await send(w, 'Narrow', 'x', { queueId: -1 });
      expectCode(t, any, RC.SUCCESS, 'queue id -1: the broker picks one');
      t.ok(Number(any.extFields?.queueId) >= 0 && Number(any.extFields?.queueId) < 3, 'among the write queues');
      const inReadOnlyRange = await send(w, 'Narrow', 'x', { queueId: 2 });
      expectCode(t, inReadOnlyRange, RC.SUCCESS, 'queue id below max(read, write) is taken');
    });
  }
});

t.test('auto-creation from TBW102', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  const r = await send(w, 'AutoTopic', 'first', { defaultTopicQueueNums: 16, queueId: 5 });
  expectCode(t, r, RC.SUCCESS, 'unknown topic with auto-create on: created from TBW102 and stored');
  const all = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!);
  t.match(all.topicConfigTable.get('AutoTopic'), { readQueueNums: 8, writeQueueNums: 8, perm: 6 }, 'min(16, TBW102 write queues 8), perm without INHERIT');
  const small = await send(w, 'AutoSmall', 'x', { defaultTopicQueueNums: 2, queueId: 0 });
  expectCode(t, small, RC.SUCCESS, 'a smaller defaultTopicQueueNums');
  const again = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!);
  t.equal(again.topicConfigTable.get('AutoSmall')!.writeQueueNums, 2);
  t.ok(again.dataVersion.counter >= 2, 'each creation moved the data version');
  await queueReaches(wb.broker, 'AutoTopic', 5, 1);
  const p = await pull(w, 'AutoTopic', { queueId: 5 });
  expectCode(t, p, RC.SUCCESS, 'the auto-created topic serves the message');
  const [m] = decodeStoredMessages(p.body!);
  t.equal(m!.body.toString(), 'first');
  t.equal(m!.properties.get('CLUSTER'), 'DefaultCluster', 'the broker adds CLUSTER');
  t.ok(m!.properties.get('UNIQ_KEY'), 'and a UNIQ_KEY when the producer sent none');
  const id = decodeOffsetMsgId(r.extFields!.msgId!);
  t.equal(id.port, wb.port, 'msgId carries the broker port');
  t.equal(id.offset, m!.physicalOffset, 'and the commit-log offset of the stored record');

});

t.test('brokerPermission: without WRITE sends are refused, without READ pulls are', async (t) => {
  const ro = await startWireBroker(t, { brokerPermission: '4' });
  const w = await Wire.open(t, ro.port);
  expectCode(t, await createTopic(w, 'RoTopic'), RC.SUCCESS, 'admin still creates topics');
  const refused = await send(w, 'RoTopic', 'x');
  expectCode(t, refused, RC.NO_PERMISSION, 'read-only broker: send refused');
  t.match(refused.remark, /sending message is forbidden/);
  expectCode(t, await pull(w, 'RoTopic'), RC.PULL_NOT_FOUND, 'the same connection still pulls (empty queue)');

  const wo = await startWireBroker(t, { brokerPermission: '2' });
  const w2 = await Wire.open(t, wo.port);
  await createTopic(w2, 'WoTopic');
  const noPull = await pull(w2, 'WoTopic');
  expectCode(t, noPull, RC.NO_PERMISSION, 'write-only broker: pull refused');
  t.match(noPull.remark, /pulling message is forbidden/);
  expectCode(t, await send(w2, 'WoTopic', 'x'), RC.SUCCESS, 'the same connection still sends');
});

t.test('without auto-creation an unknown topic is TOPIC_NOT_EXIST', async (t) => {
  const wb = await startWireBroker(t, { autoCreateTopicEnable: 'false' });
  for (const ser of ['JSON', 'ROCKETMQ'] as Ser[]) {
    const w = await Wire.open(t, wb.port, ser);
    const r = await send(w, 'Unknown', 'x');
    expectCode(t, r, RC.TOPIC_NOT_EXIST, `${ser}: unknown topic`);
    t.match(r.remark, /topic\[Unknown\] not exist/);
    expectCode(t, await createTopic(w, 'Known'), RC.SUCCESS, `${ser}: the same connection still serves admin requests`);
    expectCode(t, await send(w, 'Known', 'x'), RC.SUCCESS, `${ser}: and sends to a created topic`);
  }
  const w = await Wire.open(t, wb.port);
  const all = decodeTopicConfigWrapper((await w.request(RequestCode.GET_ALL_TOPIC_CONFIG)).body!);
  t.notOk(all.topicConfigTable.has('Unknown'), 'nothing was created');
  t.notOk(all.topicConfigTable.has('TBW102'), 'and there is no TBW102 template');
});

t.test('SEND_BATCH_MESSAGE: one msgId per message, consecutive queue offsets', async (t) => {
  const wb = await startWireBroker(t);
  const w = await Wire.open(t, wb.port);
  await createTopic(w, 'BatchTopic');
  expectCode(t, await send(w, 'BatchTopic', 'before', { queueId: 2 }), RC.SUCCESS, 'one message before the batch');
  const body = encodeBatchBody(
    ['b0', 'b1', 'b2'].map((text, i) => ({ body: Buffer.from(text), flag: i, propertiesText: serializeProperties({ TAGS: `T${i}`, KEYS: `K${i}`, UNIQ_KEY: `UNIQ-${i}` }) })),
  );
  const r = await w.request(RequestCode.SEND_BATCH_MESSAGE, { ...sendHeader('BatchTopic', { queueId: 2, rawProperties: 'WAIT\u0001true' }), m: 'true' }, body);
  expectCode(t, r, RC.SUCCESS, 'batch stored');
  const ids = r.extFields!.msgId!.split(',');
  t.equal(ids.length, 3, 'comma-joined msgIds, one per message');
  t.equal(r.extFields!.queueOffset, '1', 'queueOffset is the first message offset');
  t.equal(r.extFields!.queueId, '2');
  await queueReaches(wb.broker, 'BatchTopic', 2, 4);
  const p = await pull(w, 'BatchTopic', { queueId: 2, offset: 1 });
  const msgs = decodeStoredMessages(p.body!);
  t.same(msgs.map((m) => m.queueOffset), [1, 2, 3], 'consecutive queue offsets');
  t.same(msgs.map((m) => m.body.toString()), ['b0', 'b1', 'b2']);
  t.same(msgs.map((m) => m.flag), [0, 1, 2], 'each entry keeps its flag');
  t.same(msgs.map((m) => m.properties.get('UNIQ_KEY')), ['UNIQ-0', 'UNIQ-1', 'UNIQ-2'], 'and its own properties');
  t.same(
    msgs.map((m) => decodeOffsetMsgId(ids[msgs.indexOf(m)]!).offset),
    msgs.map((m) => m.physicalOffset),
    'each msgId points at its record',
  );
});
