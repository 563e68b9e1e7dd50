// Message sub-commands: queryMsgById, queryMsgByKey, sendMessage, consumeMessage (RocketMQ 4.9.8
// flags and output).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import type { AdminApi } from '../../../client/AdminApi.js';
import { compareMessageQueues, type MessageQueue } from '../../../protocol/body/MessageQueue.js';
import { decodeOffsetMsgId, UniqKeyGenerator } from '../../../protocol/message/messageId.js';
import { formatHostAddress } from '../../../protocol/message/hostAddress.js';
import { serializeProperties } from '../../../protocol/message/properties.js';
import type { StoredMessage } from '../../../protocol/message/recordDecoder.js';
import { humanTime2, javaMapToString, left, right } from '../format.js';
import { intOption, NAMESRV_OPTION, withApi, type AdminIo, type NamesrvOption } from './context.js';

const DEFAULT_BODY_DIR = '/tmp/rocketmq/msgbodys';
const TOOLS_CONSUMER_GROUP = 'TOOLS_CONSUMER';

function bodyOf(m: StoredMessage): Buffer {
  return m.inflatedBody ?? m.body;
}

/** The header part of QueryMsgByIdSubCommand.printMsg (everything before the consumer tracks). */
export function renderMessageDetail(m: StoredMessage, bodyPath: string): string {
  const line = (k: string, v: string | number): string => `${left(k, 20)} ${v}\n`;
  return (
    line('OffsetID:', m.offsetMsgId) +
    line('Topic:', m.topic) +
    line('Tags:', `[${m.properties.get('TAGS') ?? 'null'}]`) +
    line('Keys:', `[${m.properties.get('KEYS') ?? 'null'}]`) +
    line('Queue ID:', m.queueId) +
    line('Queue Offset:', m.queueOffset) +
    line('CommitLog Offset:', m.physicalOffset) +
    line('Reconsume Times:', m.reconsumeTimes) +
    line('Born Timestamp:', humanTime2(m.bornTimestamp)) +
    line('Store Timestamp:', humanTime2(m.storeTimestamp)) +
    line('Born Host:', formatHostAddress(m.bornHost)) +
    line('Store Host:', formatHostAddress(m.storeHost)) +
    line('System Flag:', m.sysFlag) +
    line('Properties:', javaMapToString(m.properties)) +
    line('Message Body Path:', bodyPath)
  );
}

export type TrackType = 'CONSUMED' | 'CONSUMED_BUT_FILTERED' | 'PULL' | 'NOT_CONSUME_YET' | 'NOT_ONLINE' | 'UNKNOWN';

export interface MessageTrack {
  consumerGroup: string;
  trackType: TrackType;
  exceptionDesc?: string | undefined;
}

export function renderMessageTracks(tracks: MessageTrack[]): string {
  if (tracks.length === 0) return '\n\nWARN: No Consumer';
  return '\n\n' + tracks.map((t) => `MessageTrack [consumerGroup=${t.consumerGroup}, trackType=${t.trackType}, exceptionDesc=${t.exceptionDesc ?? 'null'}]`).join('');
}

function remarkOf(e: unknown): string {
  const msg = (e as Error).message ?? String(e);
  return /DESC: (.*)$/s.exec(msg)?.[1] ?? msg;
}

/** DefaultMQAdminExtImpl.messageTrackDetail: has each group that reads the topic consumed the message? */
async function messageTracks(api: AdminApi, m: StoredMessage, brokerAddr: string): Promise<MessageTrack[]> {
  const tracks: MessageTrack[] = [];
  for (const group of await api.queryTopicConsumeByWho(brokerAddr, m.topic)) {
    const track: MessageTrack = { consumerGroup: group, trackType: 'UNKNOWN' };
    tracks.push(track);
    let cc;
    try {
      cc = await api.examineConsumerConnection(group);
    } catch (e) {
      if (e instanceof RemotingError && e.code === 206) track.trackType = 'NOT_ONLINE';
      track.exceptionDesc = e instanceof RemotingError ? `CODE:${e.code} DESC:${remarkOf(e)}` : (e as Error).message;
      continue;
    }
    if (cc.consumeType === 'CONSUME_ACTIVELY') {
      track.trackType = 'PULL';
    } else if (cc.consumeType === 'CONSUME_PASSIVELY') {
      try {
        const stats = await api.examineConsumeStats(group);
        const storeAddr = formatHostAddress(m.storeHost);
        const info = await api.getClusterInfo();
        let consumed = false;
        for (const [mq, o] of stats.offsetTable) {
          if (mq.topic !== m.topic || mq.queueId !== m.queueId) continue;
          const master = info.brokerAddrTable.get(mq.brokerName)?.brokerAddrs.get(0);
          if (master === storeAddr && o.consumerOffset > m.queueOffset) consumed = true;
        }
        track.trackType = consumed ? 'CONSUMED' : 'NOT_CONSUME_YET';
        const sub = cc.subscriptionTable.get(m.topic);
        const tags = m.properties.get('TAGS');
        if (consumed && sub && sub.tagsSet.length > 0 && !sub.tagsSet.includes('*') && !(tags !== undefined && sub.tagsSet.includes(tags))) {
          track.trackType = 'CONSUMED_BUT_FILTERED';
        }
      } catch (e) {
        if (e instanceof RemotingError && e.code === 206) track.trackType = 'NOT_ONLINE';
        track.exceptionDesc = e instanceof RemotingError ? `CODE:${e.code} DESC:${remarkOf(e)}` : (e as Error).message;
      }
    }
  }
  return tracks;
}

export function renderQueryByKey(messages: StoredMessage[]): string {
  let s = `${left('#Message ID', 50)} ${right('#QID', 4)} ${right('#Offset', 40)}\n`;
  for (const m of messages) s += `${left(m.msgId, 50)} ${right(m.queueId, 4)} ${right(m.queueOffset, 40)}\n`;
  return s;
}

export const SEND_RESULT_HEADER = `${left('#Broker Name', 32)}  ${left('#QID', 4)}  ${left('#Send Result', 20)}    #MsgId\n`;

export function renderSendResult(brokerName: string, queueId: number | string, status: string, msgId: string): string {
  return `${left(brokerName, 32)}  ${left(queueId, 4)}  ${left(status, 20)}    ${msgId}\n`;
}

/** Java's Arrays.toString(byte[]): signed bytes. */
function javaBytes(b: Buffer): string {
  const parts: string[] = [];
  for (const x of b) parts.push(String(x > 127 ? x - 256 : x));
  return `[${parts.join(', ')}]`;
}

/** One line of PrintMessageByQueueCommand.printMessage: MessageExt.toString with the body. */
export function renderPulledMessage(m: StoredMessage, brokerName: string, extraProps: ReadonlyMap<string, string> = new Map()): string {
  const props = new Map([...m.properties, ...extraProps]);
  const body = bodyOf(m);
  const ext =
    `MessageExt [brokerName=${brokerName}, queueId=${m.queueId}, storeSize=${m.storeSize}, queueOffset=${m.queueOffset}, ` +
    `sysFlag=${m.sysFlag}, bornTimestamp=${m.bornTimestamp}, bornHost=/${formatHostAddress(m.bornHost)}, ` +
    `storeTimestamp=${m.storeTimestamp}, storeHost=/${formatHostAddress(m.storeHost)}, msgId=${m.offsetMsgId}, ` +
    `commitLogOffset=${m.physicalOffset}, bodyCRC=${m.bodyCrc}, reconsumeTimes=${m.reconsumeTimes}, ` +
    `preparedTransactionOffset=${m.preparedTransactionOffset}, toString()=Message{topic='${m.topic}', flag=${m.flag}, ` +
    `properties=${javaMapToString(props)}, body=${javaBytes(body)}, transactionId='null'}]`;
  return `MSGID: ${m.msgId} ${ext} BODY: ${body.toString('utf8')}\n`;
}

async function readableQueues(api: AdminApi, topic: string): Promise<Array<{ mq: MessageQueue; addr: string }>> {
  const route = await api.getTopicRoute(topic);
  const out: Array<{ mq: MessageQueue; addr: string }> = [];
  for (const q of route.queueDatas) {
    if ((q.perm & 4) === 0) continue;
    const addr = route.brokerDatas.find((b) => b.brokerName === q.brokerName)?.brokerAddrs.get(0);
    if (!addr) continue;
    for (let i = 0; i < q.readQueueNums; i++) out.push({ mq: { topic, brokerName: q.brokerName, queueId: i }, addr });
  }
  return out.sort((a, b) => compareMessageQueues(a.mq, b.mq));
}

function mqText(mq: MessageQueue): string {
  return `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}

async function pullRange(api: AdminApi, io: AdminIo, group: string, addr: string, mq: MessageQueue, minOffset: number, maxOffset: number): Promise<void> {
  for (let offset = minOffset; offset <= maxOffset; ) {
    const res = await api.pullMessage(addr, { consumerGroup: group, mq, offset, maxNums: Math.min(maxOffset - offset + 1, 32) });
    offset = res.nextBeginOffset;
    if (res.status === 'FOUND') {
      io.out('Consume ok\n');
      const extra = new Map([
        ['MIN_OFFSET', String(res.minOffset)],
        ['MAX_OFFSET', String(res.maxOffset)],
      ]);
      for (const m of res.messages) io.out(renderPulledMessage(m, mq.brokerName, extra));
    } else if (res.status === 'NO_MATCHED_MSG') {
      io.out(`${mqText(mq)} no matched msg. status=${res.status}, offset=${offset}\n`);
    } else {
      io.out(`${mqText(mq)} print msg finished. status=${res.status}, offset=${offset}\n`);
      return;
    }
  }
}

interface ConsumeOptions extends NamesrvOption {
  topic: string;
  brokerName?: string;
  queueId?: string;
  offset?: string;
  consumerGroup?: string;
  messageNumber?: string;
}

async function consumeMessage(api: AdminApi, io: AdminIo, opts: ConsumeOptions): Promise<void> {
  const topic = opts.topic.trim();
  const group = opts.consumerGroup?.trim() ?? TOOLS_CONSUMER_GROUP;
  const count = opts.messageNumber !== undefined ? intOption(opts.messageNumber, '-c') : 128;
  if (count <= 0) throw new Error('Please input a positive messageNumber!');
  if (opts.queueId !== undefined && opts.brokerName === undefined) throw new Error('Please set the brokerName before queueId!');
  if (opts.offset !== undefined && opts.queueId === undefined) throw new Error('Please set queueId before offset!');
  const queues = await readableQueues(api, topic);
  if (opts.queueId !== undefined) {
    const mq: MessageQueue = { topic, brokerName: (opts.brokerName as string).trim(), queueId: intOption(opts.queueId, '-i') };
    const addr = queues.find((q) => q.mq.brokerName === mq.brokerName)?.addr;
    if (!addr) throw new Error(`broker ${mq.brokerName} not found in the route of topic ${topic}`);
    const offset = opts.offset !== undefined ? intOption(opts.offset, '-o') : 0;
    let minOffset = await api.getMinOffset(addr, mq);
    let maxOffset = await api.getMaxOffset(addr, mq);
    if (offset > maxOffset) {
      io.out(`${mqText(mq)} no matched msg, offset=${offset}\n`);
      return;
    }
    minOffset = Math.max(minOffset, offset);
    if (maxOffset - minOffset > count) {
      io.out(`The oldler ${count} message will be provided\n`);
      maxOffset = minOffset + count - 1;
    }
    await pullRange(api, io, group, addr, mq, minOffset, maxOffset);
    return;
  }
  let left = count;
  for (const { mq, addr } of queues) {
    if (left === 0) return;
    const minOffset = await api.getMinOffset(addr, mq);
    let maxOffset = await api.getMaxOffset(addr, mq);
    if (maxOffset - minOffset > left) {
      io.out(`The older ${left} message of the ${mq.queueId} queue will be provided\n`);
      maxOffset = minOffset + left - 1;
      left = 0;
    } else {
      left = left - (maxOffset - minOffset) - 1;
    }
    await pullRange(api, io, group, addr, mq, minOffset, maxOffset);
  }
}

interface SendOptions extends NamesrvOption {
  topic: string;
  body: string;
  key?: string;
  tags?: string;
  broker?: string;
  qid?: string;
}

async function sendMessage(api: AdminApi, io: AdminIo, opts: SendOptions): Promise<void> {
  const topic = opts.topic.trim();
  const route = await api.getTopicRoute(topic);
  const writable: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if ((q.perm & 2) === 0) continue;
    for (let i = 0; i < q.writeQueueNums; i++) writable.push({ topic, brokerName: q.brokerName, queueId: i });
  }
  const brokerName = opts.broker?.trim();
  let mq: MessageQueue | undefined;
  if (brokerName !== undefined && opts.qid !== undefined) {
    mq = { topic, brokerName, queueId: intOption(opts.qid, '-i') };
  } else {
    const candidates = brokerName !== undefined ? writable.filter((q) => q.brokerName === brokerName) : writable;
    mq = candidates[Math.floor(Math.random() * candidates.length)];
  }
  if (!mq) throw new Error(`No route info of this topic: ${topic}`);
  const target = mq;
  const addr = route.brokerDatas.find((b) => b.brokerName === target.brokerName)?.brokerAddrs.get(0);
  if (!addr) throw new Error(`broker ${target.brokerName} has no master in the route of topic ${topic}`);
  const now = io.now();
  const msgId = new UniqKeyGenerator({ ip: '127.0.0.1', pid: process.pid, processValue: (Math.random() * 0x7fffffff) | 0 }).next(now);
  const props: Array<[string, string]> = [];
  if (opts.tags !== undefined && opts.tags.trim() !== '') props.push(['TAGS', opts.tags.trim()]);
  if (opts.key !== undefined && opts.key.trim() !== '') props.push(['KEYS', opts.key.trim()]);
  props.push(['WAIT', 'true'], ['UNIQ_KEY', msgId]);
  const res = await api.sendMessage(addr, {
    producerGroup: String(now),
    topic,
    queueId: target.queueId,
    body: Buffer.from(opts.body.trim(), 'utf8'),
    properties: serializeProperties(props),
    bornTimestamp: now,
    brokerName: target.brokerName,
  });
  io.out(SEND_RESULT_HEADER);
  io.out(renderSendResult(target.brokerName, res.queueId, res.sendStatus, msgId));
}

export function registerMessageCommands(program: Command, io: AdminIo): void {
  program
    .command('queryMsgById')
    .description('Query Message by Id')
    .option(...NAMESRV_OPTION)
    .requiredOption('-i, --msgId <ids>', 'Message Id (the offset message id; several separated by commas)')
    .action(async (opts: NamesrvOption & { msgId: string }) => {
      await withApi(opts, io, async (api) => {
        for (const raw of opts.msgId.split(',')) {
          const id = raw.trim();
          if (id === '') continue;
          let where;
          try {
            where = decodeOffsetMsgId(id);
          } catch {
            throw new Error(`${id} is not an offset message id (32 or 56 hex chars: store host, port, commit-log offset)`);
          }
          const addr = formatHostAddress(where);
          const m = await api.viewMessage(addr, where.offset);
          const dir = io.msgBodyDir ?? io.env.MQADMIN_MSG_BODY_DIR ?? DEFAULT_BODY_DIR;
          fs.mkdirSync(dir, { recursive: true });
          const bodyPath = path.join(dir, m.msgId);
          fs.writeFileSync(bodyPath, bodyOf(m));
          io.out(renderMessageDetail(m, bodyPath));
          let tracks: MessageTrack[];
          try {
            tracks = await messageTracks(api, m, addr);
          } catch (e) {
            io.err(`message track of ${id} failed: ${(e as Error).message}\n`);
            continue;
          }
          io.out(renderMessageTracks(tracks));
        }
      });
    });

  program
    .command('queryMsgByKey')
    .description('Query Message by Key')
    .option(...NAMESRV_OPTION)
    .requiredOption('-t, --topic <topic>', 'topic name')
    .requiredOption('-k, --msgKey <key>', 'Message Key')
    .action(async (opts: NamesrvOption & { topic: string; msgKey: string }) => {
      await withApi(opts, io, async (api) => {
        const topic = opts.topic.trim();
        const key = opts.msgKey.trim();
        const route = await api.getTopicRoute(topic);
        const found: StoredMessage[] = [];
        for (const b of route.brokerDatas) {
          const addr = b.brokerAddrs.get(0) ?? [...b.brokerAddrs.values()][0];
          if (!addr) continue;
          const list = await api.queryMessage(addr, { topic, key, maxNum: 64, beginTimestamp: 0, endTimestamp: Number.MAX_SAFE_INTEGER });
          // The broker's index matches hashes; keep only messages whose KEYS really hold the key.
          for (const m of list) if ((m.properties.get('KEYS') ?? '').split(' ').includes(key)) found.push(m);
        }
        if (found.length === 0) throw new Error('CODE: 208 DESC: query message by key finished, but no message.');
        io.out(renderQueryByKey(found));
      });
    });

  program
    .command('sendMessage')
    .description('Send a message')
    .option(...NAMESRV_OPTION)
    .requiredOption('-t, --topic <topic>', 'Topic name')
    .requiredOption('-p, --body <body>', 'UTF-8 string format of the message body')
    .option('-k, --key <keys>', 'Message keys')
    .option('-c, --tags <tags>', 'Message tags')
    .option('-b, --broker <brokerName>', 'Send message to target broker')
    .option('-i, --qid <queueId>', 'Send message to target queue')
    .option('-m, --msgTraceEnable <bool>', 'Message Trace Enable, Default: false (traces are not sent)')
    .action(async (opts: SendOptions) => {
      if (opts.qid !== undefined && opts.broker === undefined) throw new Error('Broker name must be set if the queue is chosen!');
      await withApi(opts, io, (api) => sendMessage(api, io, opts));
    });

  program
    .command('consumeMessage')
    .description('Consume message')
    .option(...NAMESRV_OPTION)
    .requiredOption('-t, --topic <topic>', 'Topic name')
    .option('-b, --brokerName <brokerName>', 'Broker name')
    .option('-i, --queueId <queueId>', 'Queue Id')
    .option('-o, --offset <offset>', 'Queue offset')
    .option('-g, --consumerGroup <group>', 'Consumer group name')
    .option('-c, --MessageNumber <n>', 'Number of message to be consumed')
    .action(async (opts: ConsumeOptions & { MessageNumber?: string }) => {
      await withApi(opts, io, (api) => consumeMessage(api, io, { ...opts, messageNumber: opts.MessageNumber }));
    });
}
