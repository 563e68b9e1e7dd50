// Turns a message into a stored record and appends it: the one path for producer sends,
// consumer send-backs and delayed re-puts. Delay levels move a message into
// SCHEDULE_TOPIC_XXXX (queue level-1) with its real topic and queue in properties.
import { performance } from 'node:perf_hooks';
import { RemotingError } from '../../protocol/remoting/errors.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import {
  MessageProperty,
  appendProperty,
  checkPropertiesSize,
  encodeStoredMessage,
  getProperty,
  encodeHostAddress,
  parseHostAddress,
  serializeProperties,
  type HostInput,
  type StoredMessage,
} from '../../protocol/message/index.js';
import { SCHEDULE_TOPIC } from '../../storage/index/DispatchRequest.js';
import type { BrokerContext } from './BrokerContext.js';
import type { AppendRecord, AppendResult, MessageAppendRecord } from './commitlog/CommitLog.js';
import { CommitLogError } from './commitlog/CommitLogError.js';

export interface OutgoingMessage {
  topic: string;
  queueId: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostInput;
  body: Buffer;
  propertiesText: string;
  reconsumeTimes?: number;
}

const hostCache = new Map<string, Uint8Array>();
/** "ip:port" of a peer as the 8 (or 20) bytes a record stores; cached because clients reconnect from few addresses. */
export function hostOf(addr: string): Uint8Array {
  let h = hostCache.get(addr);
  if (!h) {
    h = encodeHostAddress(parseHostAddress(addr));
    if (hostCache.size > 10_000) hostCache.clear();
    hostCache.set(addr, h);
  }
  return h;
}

/** The DELAY property as a level within 1..max, or 0. */
export function delayLevelOf(propertiesText: string, maxLevel: number): number {
  const v = getProperty(propertiesText, MessageProperty.DELAY);
  if (v === undefined) return 0;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(n, maxLevel);
}

export class MessageWriter {
  private readonly storeHost: Uint8Array;

  constructor(private readonly ctx: BrokerContext) {
    this.storeHost = hostOf(ctx.storeHost);
  }

  /**
   * The record for one message; with a delay level (and not already bound for the schedule
   * topic), the record is redirected to SCHEDULE_TOPIC_XXXX.
   */
  buildRecord(m: OutgoingMessage, delayLevel = 0): MessageAppendRecord {
    let topic = m.topic;
    let queueId = m.queueId;
    let props = m.propertiesText;
    if (delayLevel > 0 && topic !== SCHEDULE_TOPIC) {
      props = appendProperty(props, MessageProperty.REAL_TOPIC, topic);
      props = appendProperty(props, MessageProperty.REAL_QID, String(queueId));
      if (getProperty(props, MessageProperty.DELAY) === undefined) props = appendProperty(props, MessageProperty.DELAY, String(delayLevel));
      topic = SCHEDULE_TOPIC;
      queueId = delayLevel - 1;
    }
    const tooBig = checkPropertiesSize(props);
    if (tooBig) throw new RemotingError(ResponseCode.MESSAGE_ILLEGAL, tooBig);
    const record = encodeStoredMessage({
      topic,
      queueId,
      flag: m.flag,
      sysFlag: m.sysFlag,
      bornTimestamp: m.bornTimestamp,
      bornHost: m.bornHost,
      storeHost: this.storeHost,
      body: m.body,
      propertiesText: props,
      reconsumeTimes: m.reconsumeTimes ?? 0,
    });
    return { record, topic, queueId };
  }

  /**
   * A stored message written again elsewhere (a send-back to a retry or DLQ topic, a delayed
   * message reaching its real topic): body, flags, born time and host as they were, with the
   * new place, properties and reconsume count.
   */
  copyRecord(
    msg: StoredMessage,
    to: { topic: string; queueId: number; properties: ReadonlyMap<string, string>; reconsumeTimes: number },
    delayLevel = 0,
  ): MessageAppendRecord {
    return this.buildRecord(
      {
        topic: to.topic,
        queueId: to.queueId,
        flag: msg.flag,
        sysFlag: msg.sysFlag,
        bornTimestamp: msg.bornTimestamp,
        bornHost: msg.bornHost,
        body: msg.body,
        propertiesText: serializeProperties(to.properties),
        reconsumeTimes: to.reconsumeTimes,
      },
      delayLevel,
    );
  }

  /** Appends; a refusal of the log becomes the RocketMQ code it carries. */
  async append(records: AppendRecord[]): Promise<AppendResult> {
    try {
      const begun = performance.now();
      const r = await this.ctx.commitLog.append(records);
      this.ctx.stats.traffic.appendLatencyMs.observe(performance.now() - begun);
      for (const rec of records) {
        if (rec.kind === 'metadata') continue;
        this.ctx.stats.putTotal++;
        this.ctx.stats.putBytes += rec.record.length;
        this.ctx.stats.traffic.countIn(rec.topic, rec.record.length);
      }
      return r;
    } catch (e) {
      if (e instanceof CommitLogError) throw new RemotingError(e.responseCode, e.message);
      throw e;
    }
  }
}
