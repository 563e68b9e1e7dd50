// Who hands out consume-queue offsets: the node that takes writes. Offsets are consecutive
// per topic/queue and continue from the applied index's max when the node takes office (a
// local log after its catch-up, a Raft leader once its apply has caught up). Appends are
// planned first and taken only once the log accepted them, so a refused batch leaves no gap.
// Records imported from a classic commit log keep their own offsets and move the queue past them.
import { MessageIllegalError } from './CommitLogError.js';

/** Where a queue's next offset starts when this node has not assigned in it yet. */
export interface QueueOffsetSource {
  maxOffset(topic: string, queueId: number): number;
}

export interface QueueRef {
  topic: string;
  queueId: number;
  /** an imported record keeps this offset; it may leave a gap but never go below the queue's next offset */
  keepQueueOffset?: number | undefined;
}

export class QueueOffsetAssigner {
  /** topic -> queueId -> next offset to assign */
  private next = new Map<string, Map<number, number>>();

  constructor(private readonly source: QueueOffsetSource) {}

  /**
   * Taking office: forget what was assigned, so offsets come from the source again. Call it
   * only when the source (the applied index) holds every committed entry.
   */
  reset(): void {
    this.next = new Map();
  }

  /** Forget one topic (it was deleted): its queues start again from the source. */
  forgetTopic(topic: string): void {
    this.next.delete(topic);
  }

  /**
   * Fills `out[i]` with the offset for `queues[i]`, consecutive within the batch per queue.
   * Changes nothing: call take() once the log accepted the batch. Entries whose ref is
   * undefined (metadata) get -1. Throws MessageIllegalError for a kept offset below the next one.
   */
  plan(queues: ReadonlyArray<QueueRef | undefined>, out: number[]): void {
    // Queues repeated inside the batch continue from the previous record's offset.
    let local: Map<string, number> | undefined;
    for (let i = 0; i < queues.length; i++) {
      const q = queues[i];
      if (q === undefined) {
        out[i] = -1;
        continue;
      }
      const key = queues.length > 1 ? `${q.queueId}@${q.topic}` : '';
      const seen = local?.get(key);
      const next = seen !== undefined ? seen + 1 : this.peek(q.topic, q.queueId);
      const kept = q.keepQueueOffset;
      if (kept !== undefined && !(Number.isSafeInteger(kept) && kept >= next)) {
        throw new MessageIllegalError(`record ${i} keeps queue offset ${kept} of ${q.topic}:${q.queueId}, below the queue's next offset ${next} (imported twice?)`);
      }
      const offset = kept ?? next;
      out[i] = offset;
      if (queues.length > 1) (local ??= new Map()).set(key, offset);
    }
  }

  /** Records a planned batch as assigned. */
  take(queues: ReadonlyArray<QueueRef | undefined>, offsets: readonly number[]): void {
    for (let i = 0; i < queues.length; i++) {
      const q = queues[i];
      if (q === undefined) continue;
      let byQueue = this.next.get(q.topic);
      if (byQueue === undefined) this.next.set(q.topic, (byQueue = new Map()));
      // offsets grow within the batch, so the last record of a queue leaves its next offset
      byQueue.set(q.queueId, offsets[i]! + 1);
    }
  }

  /** The next offset for a queue. */
  peek(topic: string, queueId: number): number {
    return this.next.get(topic)?.get(queueId) ?? this.source.maxOffset(topic, queueId);
  }
}
