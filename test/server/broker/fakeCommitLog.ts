// A commit log stand-in for the managers' unit tests: appends are kept in a list, metadata
// records are decoded with the broker's own decoder and "applied" at once (or refused when
// the test says so). No files, no timers.
import type { AppendRecord, AppendResult, AppliedBatch, AppliedListener, CommitLog } from '../../../server/broker/commitlog/CommitLog.js';
import { decodeBrokerMetadata } from '../../../server/broker/metadata/BrokerMetadata.js';
import type { DispatchRequest, MessageDispatch } from '../../../storage/index/DispatchRequest.js';

type Meta = Exclude<DispatchRequest, MessageDispatch>;

export class FakeCommitLog {
  readonly appends: AppendRecord[][] = [];
  /** decoded metadata of every accepted append, in order */
  readonly applied: Meta[] = [];
  private readonly listeners = new Set<AppliedListener>();
  isWritable = true;
  /** how many of the next appends are refused */
  failNext = 0;
  /** what the index holds at load time */
  stored = {
    topic: [] as Array<[string, string]>,
    subscriptionGroup: [] as Array<[string, string]>,
    offsets: [] as Array<{ group: string; topic: string; queueId: number; offset: number }>,
  };
  private nextIndex = 1;

  readonly index = {
    listMetadata: async (kind: 'topic' | 'subscriptionGroup'): Promise<Array<[string, string]>> => this.stored[kind],
    listConsumerOffsets: async () => this.stored.offsets,
    getDelayOffsets: async (): Promise<Array<[number, number]>> => [],
  };

  get asCommitLog(): CommitLog {
    return this as unknown as CommitLog;
  }

  onApplied(l: AppliedListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async append(records: readonly AppendRecord[]): Promise<AppendResult> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('the disk said no');
    }
    this.appends.push([...records]);
    const first = this.nextIndex;
    const metadata: Meta[] = [];
    for (const r of records) {
      if (r.kind !== 'metadata') throw new Error('FakeCommitLog takes metadata only');
      const index = this.nextIndex++;
      for (const d of decodeBrokerMetadata({ magic: r.magic, index, term: 1, pos: index * 100, body: r.body })) metadata.push(d as Meta);
    }
    this.applied.push(...metadata);
    const batch: AppliedBatch = { firstIndex: first, lastIndex: this.nextIndex - 1, messages: [], metadata };
    for (const l of this.listeners) l(batch);
    return {
      firstIndex: first,
      lastIndex: this.nextIndex - 1,
      records: records.map((_, i) => ({ index: first + i, queueOffset: -1, physicalOffset: (first + i) * 100 + 48, storeTimestamp: 0, size: 0 })),
    };
  }
}
