// The client sessions captured against the real Java 4.9.8 broker (c-producer, d-pushconsumer,
// d-litepull; e-producer and e-pushconsumer's leader connection), replayed against our broker:
// each answer has the real one's response code and extFields keys, and our pull bodies decode
// with the same decoder as the captured ones, field for field. Topic, groups and data are the
// capture's; offsets in requests are translated, long-poll holds shortened.
import t, { type Test } from 'tap';
import { decodeOffsetMsgId, decodeStoredMessages, isBornHostV6, isStoreHostV6, type StoredMessage } from '../../../protocol/message/index.js';
import { decodeCommand, encodeCommand, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { responseCodeName } from '../../../protocol/remoting/ResponseCode.js';
import { loadCapture, type CapturedFrame } from '../../helpers/fixtures.js';
import { RawConnection } from '../../helpers/rawConnection.js';
import { createTopic, startWireBroker, Wire, type WireBroker } from './wire.js';

interface Replay {
  /** their commit-log offset -> ours, learned from the send answers */
  offsets: Map<number, number>;
  pulledBodies: number;
}

function theirAnswer(frames: CapturedFrame[], req: CapturedFrame): RemotingCommand | undefined {
  const f = frames.find((x) => x.conn === req.conn && x.dir === 's2c' && x.opaque === req.opaque && (x.flag & 1) === 1);
  return f ? decodeCommand(f.bytes.subarray(4)) : undefined;
}

const keys = (c: RemotingCommand): string[] => Object.keys(c.extFields ?? {}).sort();

/** The record fields a client reads, as comparable values (no times, hosts or offsets). */
function layout(m: StoredMessage) {
  return {
    magic: m.magic,
    topic: m.topic,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    flag: m.flag,
    sysFlag: m.sysFlag,
    bornTimestamp: m.bornTimestamp,
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.preparedTransactionOffset,
    body: m.body.toString('hex'),
    propertyNames: [...m.properties.keys()].sort(),
    tags: m.properties.get('TAGS'),
    keys: m.properties.get('KEYS'),
    uniqKey: m.properties.get('UNIQ_KEY'),
  };
}

function comparePullBodies(t: Test, what: string, ours: Buffer, theirs: Buffer, dledger: boolean): void {
  const a = decodeStoredMessages(ours);
  const b = decodeStoredMessages(theirs);
  t.equal(a.length, b.length, `${what}: same number of records`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const o = a[i]!;
    const r = b[i]!;
    const theirLayout = layout(r);
    // 4.9.8 stores a re-put delayed message with its DELAY property still in the text (its
    // properties string is built before DELAY is cleared); we drop it so it cannot delay twice.
    // Its send-back and re-put also add WAIT=false, which nothing reads.
    const ourLayout = layout(o);
    if (r.properties.has('REAL_TOPIC')) {
      theirLayout.propertyNames = theirLayout.propertyNames.filter((n) => !((n === 'DELAY' || n === 'WAIT') && !o.properties.has(n)));
    }
    // 4.9.8 on DLedger stores batch messages without CLUSTER; the classic broker (which we follow) adds it
    if (dledger && !r.properties.has('CLUSTER')) ourLayout.propertyNames = ourLayout.propertyNames.filter((n) => n !== 'CLUSTER');
    t.same(ourLayout, theirLayout, `${what}: record ${i} (${r.properties.get('KEYS') ?? r.topic}) has the same fields`);
    t.equal(o.storeSize - o.body.length - o.topic.length, r.storeSize - r.body.length - r.topic.length - (Buffer.byteLength(r.propertiesText) - Buffer.byteLength(o.propertiesText)), `${what}: record ${i}: same fixed layout size`);
    t.notOk(isBornHostV6(o.sysFlag) || isStoreHostV6(o.sysFlag), `${what}: record ${i}: born and store hosts are IPv4`);
  }
}

/**
 * Replays the c2s frames of `frames` sent to `brokerPort` (their port) on one connection per
 * captured connection, in capture order, and compares every answer.
 */
async function replay(t: Test, wb: WireBroker, name: string, frames: CapturedFrame[], brokerPort: string, st: Replay): Promise<void> {
  const conns = new Map<number, RawConnection>();
  t.teardown(() => {
    for (const c of conns.values()) c.end();
  });
  let opaque = 2_000_000;
  const pending: Array<Promise<unknown>> = [];
  const lastPullOf = new Map<string, Promise<unknown>>();
  for (const f of frames) {
    if (f.dir !== 'c2s' || !f.server.endsWith(`:${brokerPort}`)) continue;
    let conn = conns.get(f.conn);
    if (!conn) conns.set(f.conn, (conn = await RawConnection.open(wb.port)));
    const req = decodeCommand(f.bytes.subarray(4));
    const ext = req.extFields ? { ...req.extFields } : undefined;
    const theirs = theirAnswer(frames, f);
    if (req.code === RequestCode.PULL_MESSAGE && ext) {
      // A pull the real broker answered with messages is held until ours has them (it may
      // wait for a later request of the replay, e.g. a send-back); the others time out fast.
      ext.suspendTimeoutMillis = theirs?.code === 0 ? '10000' : '100';
    }
    if (req.code === RequestCode.CONSUMER_SEND_MSG_BACK && ext) {
      const ours = st.offsets.get(Number(ext.offset));
      t.ok(ours !== undefined, `${name} #${f.i}: the sent-back message was sent in this replay`);
      ext.offset = String(ours);
    }
    const cmd: RemotingCommand = { ...req, extFields: ext, opaque: opaque++ };
    const what: string = `${name} #${f.i} ${req.code}${ext?.topic ? ` ${ext.topic}` : ''}${ext?.queueId ? `@${ext.queueId}` : ''}`;
    if ((req.flag & 2) !== 0) {
      conn.send(encodeCommand(cmd));
      continue;
    }
    // a client pulls a queue again only after the previous pull of it was answered
    const queueKey = `${f.conn}/${ext?.topic}@${ext?.queueId}`;
    if (req.code === RequestCode.PULL_MESSAGE) await lastPullOf.get(queueKey);
    const answered = conn.command(cmd, 15_000);
    if (req.code === RequestCode.PULL_MESSAGE) {
      lastPullOf.set(queueKey, answered.catch(() => undefined));
      // answered out of order, as the real broker did
      pending.push(answered.then((ours) => theirs && compare(req, what, ours, theirs)));
      continue;
    }
    const ours = await answered;
    if (theirs) compare(req, what, ours, theirs);
  }
  await Promise.all(pending);
  // oneways sent last are served before this answer
  const last = [...conns.values()].at(-1);
  if (last) await last.command({ code: RequestCode.GET_MAX_OFFSET, language: 'JAVA', version: 409, opaque: opaque++, flag: 0, serializeType: 0, extFields: { topic: 'FxTopic', queueId: '0' } });

  function compare(req: RemotingCommand, what: string, ours: RemotingCommand, theirs: RemotingCommand): void {
    t.equal(responseCodeName(ours.code), responseCodeName(theirs.code), `${what}: same response code${ours.code === theirs.code ? '' : ` (ours: ${ours.remark})`}`);
    t.same(keys(ours), keys(theirs), `${what}: same extFields keys`);
    if ((req.code === RequestCode.SEND_MESSAGE_V2 || req.code === RequestCode.SEND_BATCH_MESSAGE) && ours.code === 0 && theirs.code === 0) {
      const a = ours.extFields!.msgId!.split(',');
      const b = theirs.extFields!.msgId!.split(',');
      t.equal(a.length, b.length, `${what}: as many msgIds`);
      b.forEach((id, i) => st.offsets.set(decodeOffsetMsgId(id).offset, decodeOffsetMsgId(a[i]!).offset));
      t.equal(ours.extFields!.queueId, theirs.extFields!.queueId, `${what}: same queue`);
      t.equal(ours.extFields!.queueOffset, theirs.extFields!.queueOffset, `${what}: same queue offset`);
    }
    if (req.code === RequestCode.PULL_MESSAGE && ours.code === theirs.code) {
      for (const k of ['nextBeginOffset', 'minOffset', 'maxOffset', 'suggestWhichBrokerId']) {
        t.equal(ours.extFields?.[k], theirs.extFields?.[k], `${what}: same ${k}`);
      }
      if (theirs.body && ours.body) {
        comparePullBodies(t, what, ours.body, theirs.body, brokerPort !== '10911');
        st.pulledBodies++;
      }
    }
    if ((req.code === RequestCode.QUERY_CONSUMER_OFFSET || req.code === RequestCode.GET_CONSUMER_LIST_BY_GROUP) && ours.code === 0) {
      t.same(ours.extFields, theirs.extFields, `${what}: same header values`);
      if (theirs.body) t.same(ours.body?.toString(), theirs.body.toString(), `${what}: same body`);
    }
  }
}

async function classicBroker(t: Test): Promise<WireBroker> {
  const wb = await startWireBroker(t, { messageDelayLevel: '1s 1s 1s 1s 1s' });
  const w = await Wire.open(t, wb.port);
  const r = await createTopic(w, 'FxTopic', { queues: 8 });
  t.equal(r.code, 0, 'FxTopic created as in the capture (8 queues)');
  return wb;
}

t.test('classic: producer, then push consumer, then lite pull consumer', async (t) => {
  const wb = await classicBroker(t);
  const st: Replay = { offsets: new Map(), pulledBodies: 0 };
  await replay(t, wb, 'c-producer', loadCapture('c-producer'), '10911', st);
  t.equal(st.offsets.size, 8, 'eight records stored (5 sync/async/oneway-less sends + a batch of 3)');
  await replay(t, wb, 'd-pushconsumer', loadCapture('d-pushconsumer'), '10911', st);
  await replay(t, wb, 'd-litepull', loadCapture('d-litepull'), '10911', st);
  t.ok(st.pulledBodies >= 10, `pull bodies compared record by record (${st.pulledBodies})`);
});

t.test('DLedger captures against one broker: producer and the leader connection of the push consumer', async (t) => {
  const wb = await classicBroker(t);
  const st: Replay = { offsets: new Map(), pulledBodies: 0 };
  await replay(t, wb, 'e-producer', loadCapture('e-producer'), '30911', st);
  const push = loadCapture('e-pushconsumer');
  await replay(t, wb, 'e-pushconsumer', push, '30911', st);
  t.ok(st.pulledBodies >= 1, `pull bodies compared (${st.pulledBodies})`);
});
