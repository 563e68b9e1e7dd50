// Talking to an in-process broker over a raw socket, one request at a time: the helpers the
// processor tests share (send, pull, heartbeat, topic creation) and waits on the broker's own
// apply events instead of sleeps.
import type { Test } from 'tap';
import { encodeHeartbeatData, type MessageModel, type SubscriptionData } from '../../../protocol/body/HeartbeatData.js';
import { javaStringHash, serializeProperties } from '../../../protocol/message/index.js';
import { createRequest, encodeCommand, SerializeType, type ExtFields, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { responseCodeName } from '../../../protocol/remoting/ResponseCode.js';
import type { BrokerController } from '../../../server/broker/BrokerController.js';
import type { NamesrvController } from '../../../server/namesrv/NamesrvController.js';
import { startBrokerInProcess } from '../../helpers/broker.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { RawConnection } from '../../helpers/rawConnection.js';

export type Ser = 'JSON' | 'ROCKETMQ';

export class Wire {
  // far from the broker's own request opaques (NOTIFY_CONSUMER_IDS_CHANGED on this socket):
  // RawConnection matches answers by opaque alone
  private opaque = 1_000_000;
  constructor(
    readonly conn: RawConnection,
    readonly ser: Ser = 'JSON',
  ) {}

  static async open(t: Test, port: number, ser: Ser = 'JSON'): Promise<Wire> {
    const conn = await RawConnection.open(port);
    t.teardown(() => conn.end());
    return new Wire(conn, ser);
  }

  request(code: number, extFields?: ExtFields, body?: Buffer, opts: { ser?: Ser; timeoutMs?: number; version?: number } = {}): Promise<RemotingCommand> {
    const cmd = createRequest({
      code,
      extFields,
      body,
      opaque: this.opaque++,
      serializeType: (opts.ser ?? this.ser) === 'ROCKETMQ' ? SerializeType.ROCKETMQ : SerializeType.JSON,
    });
    if (opts.version !== undefined) cmd.version = opts.version;
    return this.conn.command(cmd, opts.timeoutMs);
  }

  oneway(code: number, extFields?: ExtFields, body?: Buffer): void {
    const cmd = createRequest({ code, extFields, body, oneway: true, opaque: this.opaque++ });
    this.conn.send(encodeCommand(cmd));
  }
}

export interface WireBroker {
  broker: BrokerController;
  namesrv: NamesrvController;
  port: number;
  addr: string;
  storeDir: string;
}

/** A name server and an in-process broker on free loopback ports, both stopped at teardown. */
export async function startWireBroker(t: Test, conf: Record<string, string> = {}, storeDir?: string): Promise<WireBroker> {
  const namesrv = await startNamesrv();
  t.teardown(() => namesrv.stop());
  const broker = await startBrokerInProcess(t, { namesrvAddr: `127.0.0.1:${namesrv.port}`, conf, ...(storeDir ? { storeDir } : {}) });
  return { broker, namesrv, port: broker.port, addr: broker.brokerAddr, storeDir: broker.config.storePathRootDir };
}

export function codeOf(c: RemotingCommand): string {
  return `${responseCodeName(c.code)}${c.remark ? ` (${c.remark})` : ''}`;
}

/** Asserts the response code, printing the name and remark when it differs. */
export function expectCode(t: Test, c: RemotingCommand, code: number, what: string): void {
  t.equal(c.code, code, `${what}: ${responseCodeName(code)}${c.code === code ? '' : `, got ${codeOf(c)}`}`);
}

export async function createTopic(w: Wire, topic: string, fields: { queues?: number; perm?: number; filter?: string; read?: number; write?: number } = {}): Promise<RemotingCommand> {
  const q = fields.queues ?? 4;
  return w.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    defaultTopic: 'TBW102',
    readQueueNums: String(fields.read ?? q),
    writeQueueNums: String(fields.write ?? q),
    perm: String(fields.perm ?? 6),
    topicFilterType: fields.filter ?? 'SINGLE_TAG',
    order: 'false',
  });
}

export interface SendOptions {
  queueId?: number;
  tags?: string;
  keys?: string;
  props?: Record<string, string>;
  /** the properties text as sent, instead of one built from tags/keys/props */
  rawProperties?: string;
  producerGroup?: string;
  defaultTopic?: string;
  defaultTopicQueueNums?: number;
  sysFlag?: number;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  ser?: Ser;
  version?: number;
  bornTimestamp?: number;
}

export function sendHeader(topic: string, o: SendOptions = {}): ExtFields {
  const props: Record<string, string> = { WAIT: 'true', ...(o.tags ? { TAGS: o.tags } : {}), ...(o.keys ? { KEYS: o.keys } : {}), ...o.props };
  const ext: ExtFields = {
    a: o.producerGroup ?? 'PG',
    b: topic,
    c: o.defaultTopic ?? 'TBW102',
    d: String(o.defaultTopicQueueNums ?? 4),
    e: String(o.queueId ?? 0),
    f: String(o.sysFlag ?? 0),
    g: String(o.bornTimestamp ?? Date.now()),
    h: '0',
    i: o.rawProperties ?? serializeProperties(props),
    j: String(o.reconsumeTimes ?? 0),
    k: 'false',
    m: 'false',
  };
  if (o.maxReconsumeTimes !== undefined) ext.l = String(o.maxReconsumeTimes);
  return ext;
}

/** SEND_MESSAGE_V2 with the V2 short header names, as the Java client sends it. */
export function send(w: Wire, topic: string, body: string | Buffer, o: SendOptions = {}): Promise<RemotingCommand> {
  return w.request(RequestCode.SEND_MESSAGE_V2, sendHeader(topic, o), typeof body === 'string' ? Buffer.from(body) : body, {
    ...(o.ser ? { ser: o.ser } : {}),
    ...(o.version !== undefined ? { version: o.version } : {}),
  });
}

export interface PullOptions {
  group?: string;
  queueId?: number;
  offset?: number;
  maxMsgNums?: number;
  /** PullSysFlag bits; default SUBSCRIPTION only (no suspension) */
  sysFlag?: number;
  subscription?: string;
  suspendTimeoutMillis?: number;
  commitOffset?: number;
  subVersion?: number;
  ser?: Ser;
  timeoutMs?: number;
}

export function pullHeader(topic: string, o: PullOptions = {}): ExtFields {
  const ext: ExtFields = {
    consumerGroup: o.group ?? 'CG',
    topic,
    queueId: String(o.queueId ?? 0),
    queueOffset: String(o.offset ?? 0),
    maxMsgNums: String(o.maxMsgNums ?? 32),
    sysFlag: String(o.sysFlag ?? 0x4),
    commitOffset: String(o.commitOffset ?? 0),
    suspendTimeoutMillis: String(o.suspendTimeoutMillis ?? 0),
    subVersion: String(o.subVersion ?? 0),
    expressionType: 'TAG',
  };
  if (o.subscription !== undefined || (o.sysFlag ?? 0x4) & 0x4) ext.subscription = o.subscription ?? '*';
  return ext;
}

export function pull(w: Wire, topic: string, o: PullOptions = {}): Promise<RemotingCommand> {
  return w.request(RequestCode.PULL_MESSAGE, pullHeader(topic, o), undefined, { ...(o.ser ? { ser: o.ser } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
}

export function subscription(topic: string, subString: string, subVersion = Date.now()): SubscriptionData {
  const tags = subString === '*' ? [] : subString.split('||').map((s) => s.trim());
  return { classFilterMode: false, topic, subString, tagsSet: tags, codeSet: tags.map(javaStringHash), subVersion, expressionType: 'TAG' };
}

export function heartbeatBody(clientID: string, consumerGroup: string | undefined, subs: SubscriptionData[], opts: { producerGroup?: string; messageModel?: MessageModel } = {}): Buffer {
  return encodeHeartbeatData({
    clientID,
    producerDataSet: opts.producerGroup ? [{ groupName: opts.producerGroup }] : [],
    consumerDataSet: consumerGroup
      ? [
          {
            groupName: consumerGroup,
            consumeType: 'CONSUME_PASSIVELY',
            messageModel: opts.messageModel ?? 'CLUSTERING',
            consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
            subscriptionDataSet: subs,
            unitMode: false,
          },
        ]
      : [],
  });
}

export function heartbeat(w: Wire, clientID: string, consumerGroup: string | undefined, subs: SubscriptionData[], opts: { producerGroup?: string; messageModel?: MessageModel } = {}): Promise<RemotingCommand> {
  return w.request(RequestCode.HEART_BEAT, undefined, heartbeatBody(clientID, consumerGroup, subs, opts));
}

/** Resolves once the broker has applied a message making the queue's max offset reach `atLeast`. */
export function queueReaches(b: BrokerController, topic: string, queueId: number, atLeast: number, timeoutMs = 10_000): Promise<void> {
  const log = b.commitLog;
  if (log.maxOffset(topic, queueId) >= atLeast) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${topic}@${queueId} did not reach ${atLeast} within ${timeoutMs} ms (at ${log.maxOffset(topic, queueId)})`));
    }, timeoutMs);
    const off = log.onApplied(() => {
      if (log.maxOffset(topic, queueId) >= atLeast) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}
