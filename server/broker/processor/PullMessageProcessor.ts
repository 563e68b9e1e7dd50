// PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361): RocketMQ's checks, the tag filter on the
// consume queue's hash codes, the status table of spec §4.2, long polling through the hold
// service, and the pull body made of the stored records as they are in the log.
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import type { ConsumeQueueEntry } from '../../../storage/index/IndexStore.js';
import { Perm } from '../../../protocol/body/TopicConfig.js';
import { PullMessageRequestHeader, PullMessageResponseHeader } from '../../../protocol/header/broker.js';
import { matchesTagsCode, parseTagSubscription, type TagSubscription } from '../../../protocol/message/index.js';
import { RemotingError } from '../../../protocol/remoting/errors.js';
import { createResponse, type RemotingCommand } from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import type { RemotingServer } from '../../remoting/RemotingServer.js';
import type { BrokerContext } from '../BrokerContext.js';
import { BodyPool, type PooledBuffer } from '../commitlog/BodyPool.js';

export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

/** consume-queue entries scanned per pull when the filter drops messages */
export const MAX_SCANNED_ENTRIES = 800;

type Header = ReturnType<typeof PullMessageRequestHeader.decode>;

interface PullOutcome {
  code: number;
  remark: string;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  body: Buffer | undefined;
  count: number;
  /** gives the body's buffer back to the pool once the response is written */
  release: (() => void) | undefined;
}

/** One shape for every outcome (object spreads here cost more than the rest of a pull's bookkeeping). */
function outcome(
  code: number,
  remark: string,
  nextBeginOffset: number,
  minOffset: number,
  maxOffset: number,
  body?: Buffer,
  count = 0,
  release?: () => void,
): PullOutcome {
  return { code, remark, nextBeginOffset, minOffset, maxOffset, body, count, release };
}

export function registerPullProcessor(server: RemotingServer, ctx: BrokerContext): PullMessageProcessor {
  const p = new PullMessageProcessor(ctx);
  server.register(RequestCode.PULL_MESSAGE, (req, conn) => p.process(req, conn));
  server.register(RequestCode.LITE_PULL_MESSAGE, (req, conn) => p.process(req, conn));
  return p;
}

function fail(code: number, message: string): never {
  throw new RemotingError(code, message);
}

export class PullMessageProcessor {
  /** the buffers of pull bodies, reused once their response is written */
  readonly bodies = new BodyPool();

  constructor(private readonly ctx: BrokerContext) {}

  async process(req: RemotingCommand, conn: RemotingConnection): Promise<RemotingCommand | null> {
    const h = PullMessageRequestHeader.decode(req.extFields);
    const filter = await this.check(h);
    const ctx = this.ctx;
    const master = ctx.brokerId() === 0;
    if ((h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0 && master && h.commitOffset >= 0) {
      ctx.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    }
    const first = await this.pull(h, filter);
    const suspend = (h.sysFlag & PullSysFlag.SUSPEND) !== 0;
    if (first.code !== ResponseCode.PULL_NOT_FOUND || !suspend) return this.answer(req, first, h);

    const holdMs = ctx.config.longPollingEnable ? Math.max(0, h.suspendTimeoutMillis) : ctx.config.shortPollingTimeMills;
    return new Promise<RemotingCommand | null>((resolve) => {
      let done = false;
      const held = ctx.holds.hold({
        topic: h.topic,
        queueId: h.queueId,
        offset: h.queueOffset,
        deadline: ctx.now() + holdMs,
        matches: (code) => matchesTagsCode(filter, code),
        isGone: () => conn.isClosed,
        wake: () => {
          if (done) return;
          done = true;
          if (conn.isClosed) return resolve(null);
          this.pull(h, filter).then(
            (o) => resolve(this.answer(req, o, h)),
            (e: unknown) =>
              resolve(createResponse(req, e instanceof RemotingError ? e.code : ResponseCode.SYSTEM_ERROR, { remark: (e as Error).message })),
          );
        },
      });
      if (!held) {
        done = true;
        resolve(this.answer(req, first, h));
      }
    });
  }

  private answer(req: RemotingCommand, o: PullOutcome, h: Header): RemotingCommand {
    const ctx = this.ctx;
    if (o.count > 0) {
      ctx.stats.getTotal += o.count;
      ctx.stats.traffic.countOut(h.topic, h.consumerGroup, h.queueId, o.nextBeginOffset, o.count, o.body?.length ?? 0);
    }
    return createResponse(req, o.code, {
      remark: o.remark,
      extFields: PullMessageResponseHeader.encode({
        // a follower points clients back to the master unless it may serve reads itself
        suggestWhichBrokerId: ctx.brokerId() > 0 && ctx.config.slaveReadEnable ? ctx.brokerId() : 0,
        nextBeginOffset: o.nextBeginOffset,
        minOffset: o.minOffset,
        maxOffset: o.maxOffset,
      }),
      body: o.body,
      onWritten: o.release,
    });
  }

  /** Java's checks, in Java's order; returns the filter to apply. */
  private async check(h: Header): Promise<TagSubscription> {
    const ctx = this.ctx;
    if ((ctx.config.brokerPermission & Perm.READ) === 0) {
      fail(ResponseCode.NO_PERMISSION, `the broker[${ctx.config.brokerIP1}] pulling message is forbidden`);
    }
    const group = await ctx.groups.findOrCreate(h.consumerGroup, ctx.config.autoCreateSubscriptionGroup);
    if (!group) fail(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group [${h.consumerGroup}] does not exist`);
    if (!group.consumeEnable) fail(ResponseCode.NO_PERMISSION, `subscription group no permission, ${h.consumerGroup}`);
    const topic = ctx.topics.get(h.topic);
    if (!topic) fail(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please!`);
    if ((topic.perm & Perm.READ) === 0) fail(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] pulling message is forbidden`);
    if (h.queueId < 0 || h.queueId >= topic.readQueueNums) {
      fail(ResponseCode.SYSTEM_ERROR, `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${topic.readQueueNums}]`);
    }
    if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
      if (h.expressionType !== undefined && h.expressionType !== 'TAG') {
        fail(ResponseCode.SUBSCRIPTION_PARSE_FAILED, `the broker does not filter by ${h.expressionType}; only TAG expressions are supported`);
      }
      const f = parseTagSubscription(h.subscription);
      if (!f) fail(ResponseCode.SUBSCRIPTION_PARSE_FAILED, `parse the consumer's subscription[${h.subscription ?? ''}] failed, group: ${h.consumerGroup}`);
      return f;
    }
    const info = ctx.clients.consumers.get(h.consumerGroup);
    if (!info) fail(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist, group: ${h.consumerGroup}`);
    if (!group.consumeBroadcastEnable && info.messageModel === 'BROADCASTING') {
      fail(ResponseCode.NO_PERMISSION, `the consumer group[${h.consumerGroup}] can not consume by broadcast way`);
    }
    const sub = info.subscriptions.get(h.topic);
    if (!sub) fail(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist, group: ${h.consumerGroup}, topic: ${h.topic}`);
    if (sub.subVersion < h.subVersion) {
      fail(ResponseCode.SUBSCRIPTION_NOT_LATEST, `the consumer's subscription not latest, group: ${h.consumerGroup}`);
    }
    return sub.filter;
  }

  /** Reads what the request asks for and maps the result to spec §4.2's status table. */
  async pull(h: Header, filter: TagSubscription): Promise<PullOutcome> {
    const log = this.ctx.commitLog;
    const min = log.minOffset(h.topic, h.queueId);
    const max = log.maxOffset(h.topic, h.queueId);
    const off = h.queueOffset;
    if (max === 0) {
      return off === 0
        ? outcome(ResponseCode.PULL_NOT_FOUND, 'NO_MESSAGE_IN_QUEUE', 0, min, max)
        : outcome(ResponseCode.PULL_OFFSET_MOVED, 'NO_MESSAGE_IN_QUEUE', 0, min, max);
    }
    if (off < min) return outcome(ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_TOO_SMALL', min, min, max);
    if (off === max) return outcome(ResponseCode.PULL_NOT_FOUND, 'OFFSET_OVERFLOW_ONE', off, min, max);
    if (off > max) return outcome(ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_OVERFLOW_BADLY', max, min, max);

    const cfg = this.ctx.config;
    const maxMsgs = Math.max(1, Math.min(h.maxMsgNums, cfg.maxTransferCountOnMessageInMemory));
    const maxBytes = Math.min(h.maxMsgBytes !== undefined && h.maxMsgBytes > 0 ? h.maxMsgBytes : cfg.maxTransferBytesOnMessageInMemory, cfg.maxTransferBytesOnMessageInMemory);
    // Pick the entries from the consume queue alone (size and tag hash are there), then read
    // their records from the log in one go.
    const begun = performance.now();
    const picked: ConsumeQueueEntry[] = [];
    let bytes = 0;
    let next = off;
    let scanned = 0;
    outer: while (scanned < MAX_SCANNED_ENTRIES && next < max) {
      const want = Math.min(MAX_SCANNED_ENTRIES - scanned, filter.all ? maxMsgs - picked.length : 64);
      const entries = await log.readConsumeQueue(h.topic, h.queueId, next, want);
      if (entries.length === 0) break;
      for (const e of entries) {
        if (e.queueOffset !== next) {
          // a hole below min (retention) or a gap: skip to what is there
          next = e.queueOffset;
        }
        scanned++;
        if (matchesTagsCode(filter, e.tagsCode)) {
          if (picked.length > 0 && bytes + e.size > maxBytes) break outer;
          picked.push(e);
          bytes += e.size;
        }
        next = e.queueOffset + 1;
        if (picked.length >= maxMsgs) break outer;
      }
    }
    let lease: PooledBuffer | undefined;
    // data older than the page cache holds comes in from the disk in the thread pool, not on the event loop
    if (picked.length > 0) await log.warmForRead(picked);
    const read = picked.length > 0 ? log.readMessages(picked, (bytes) => (lease = this.bodies.take(bytes)).buffer) : undefined;
    this.ctx.stats.traffic.readLatencyMs.observe(performance.now() - begun);
    if (read !== undefined && read.count > 0) {
      return outcome(ResponseCode.SUCCESS, 'FOUND', next, min, max, read.body, read.count, lease?.release);
    }
    lease?.release();
    const missing = read !== undefined;
    if (missing) return outcome(ResponseCode.PULL_RETRY_IMMEDIATELY, 'MESSAGE_WAS_REMOVING', next, min, max);
    if (next > off) return outcome(ResponseCode.PULL_RETRY_IMMEDIATELY, 'NO_MATCHED_MESSAGE', next, min, max);
    return outcome(ResponseCode.PULL_NOT_FOUND, 'OFFSET_FOUND_NULL', off, min, max);
  }
}
