// Delayed delivery: messages with a delay level sit in SCHEDULE_TOPIC_XXXX queue level-1, whose
// consume-queue tagsCode is the delivery time. When it comes, the message is stored again in
// its real topic and queue; the re-put and the level's new offset go into the log in one
// append, so a crash neither loses nor repeats a delivery.
import { MessageProperty, decodeStoredMessage } from '../../protocol/message/index.js';
import { SCHEDULE_TOPIC } from '../../storage/index/DispatchRequest.js';
import type { BrokerContext } from './BrokerContext.js';
import type { AppendRecord, MessageAppendRecord } from './commitlog/CommitLog.js';
import { delayOffsetsRecord } from './metadata/BrokerMetadata.js';
import type { MessageWriter } from './MessageWriter.js';

/** messages moved per level per pass */
const BATCH = 32;

export class ScheduleMessageService {
  /** level -> next offset to deliver in queue level-1 */
  private readonly offsets = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly writer: MessageWriter,
    private readonly intervalMs = 100,
  ) {}

  async start(): Promise<void> {
    for (const [level, offset] of await this.ctx.commitLog.index.getDelayOffsets()) this.offsets.set(level, offset);
    this.ctx.commitLog.onApplied((batch) => {
      // followers learn the progress from the leader's entries
      if (this.ctx.commitLog.isWritable) return;
      for (const m of batch.metadata) if (m.kind === 'delayOffsets') for (const o of m.offsets) this.offsets.set(o.level, o.offset);
    });
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.pass().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Progress that is in the log already (taken over from a Java store). */
  adopt(offsets: ReadonlyArray<[number, number]>): void {
    for (const [level, off] of offsets) if (off > this.offsetOf(level)) this.offsets.set(level, off);
  }

  offsetOf(level: number): number {
    return this.offsets.get(level) ?? 0;
  }

  /** One pass over every level: move what is due. */
  async pass(): Promise<void> {
    const ctx = this.ctx;
    if (this.stopped || ctx.brokerId() !== 0 || !ctx.commitLog.isWritable) return;
    for (let level = 1; level <= ctx.delayLevelMillis.length && !this.stopped; level++) {
      try {
        await this.deliverLevel(level);
      } catch (e) {
        ctx.log(`delay level ${level}: delivery failed, will retry: ${(e as Error).message}`);
      }
    }
  }

  private async deliverLevel(level: number): Promise<void> {
    const log = this.ctx.commitLog;
    const queueId = level - 1;
    let from = Math.max(this.offsetOf(level), log.minOffset(SCHEDULE_TOPIC, queueId));
    const max = log.maxOffset(SCHEDULE_TOPIC, queueId);
    while (from < max && !this.stopped) {
      const entries = await log.readConsumeQueue(SCHEDULE_TOPIC, queueId, from, BATCH);
      if (entries.length === 0) return;
      const now = this.ctx.now();
      const records: AppendRecord[] = [];
      let next = from;
      for (const e of entries) {
        if (e.tagsCode > now) break;
        next = e.queueOffset + 1;
        const rec = log.readMessage(e.physicalOffset, e.size);
        if (!rec) continue; // removed by retention: nothing to deliver
        const out = this.reput(rec);
        if (out) records.push(out);
      }
      if (next === from) return;
      records.push(delayOffsetsRecord([[level, next]]));
      await this.writer.append(records);
      this.offsets.set(level, next);
      from = next;
    }
  }

  private reput(record: Buffer): MessageAppendRecord | undefined {
    const msg = decodeStoredMessage(record);
    const props = new Map(msg.properties);
    const realTopic = props.get(MessageProperty.REAL_TOPIC);
    const realQid = Number(props.get(MessageProperty.REAL_QID));
    if (!realTopic || !Number.isInteger(realQid) || realQid < 0) {
      this.ctx.log(`delayed message ${msg.msgId} has no REAL_TOPIC/REAL_QID; dropped`);
      return undefined;
    }
    props.delete(MessageProperty.DELAY);
    return this.writer.copyRecord(msg, { topic: realTopic, queueId: realQid, properties: props, reconsumeTimes: msg.reconsumeTimes });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  async whenIdle(): Promise<void> {
    await this.running;
  }
}
