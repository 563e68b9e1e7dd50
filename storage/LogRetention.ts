// Retention over the log and its indexes: the SegmentSource that RetentionService asks. A
// segment goes only as a whole, oldest first, together with the index entries that point into
// it; the index's applied checkpoint and whatever the Raft layer holds back stay.
import fs from 'node:fs';
import path from 'node:path';
import type { IndexStore } from './index/IndexStore.js';
import type { SegmentedLog } from './log/SegmentedLog.js';
import type { SegmentSource } from './retention/DiskSpace.js';
import type { RetainFloor, RetentionSegment } from './retention/RetentionPolicy.js';

export interface LogRetentionOptions {
  /** Raft's hook: positions lagging followers still need (their next entry's position). */
  holdBack?: () => readonly RetainFloor[];
  log?: (line: string) => void;
}

export class LogRetentionSource implements SegmentSource {
  private readonly logOf: () => SegmentedLog;

  /** `log` may be a getter: a Raft follower's log object is replaced by a segment copy. */
  constructor(
    log: SegmentedLog | (() => SegmentedLog),
    private readonly index: IndexStore,
    private readonly opts: LogRetentionOptions = {},
  ) {
    this.logOf = typeof log === 'function' ? log : () => log;
  }

  private get log(): SegmentedLog {
    return this.logOf();
  }

  async listSegments(): Promise<readonly RetentionSegment[]> {
    const segs = this.log.dataSegments;
    return segs.map((s, k) => ({
      name: path.basename(s.path),
      start: s.start,
      end: segs[k + 1]?.start ?? this.log.endPosition,
      lastModifiedMs: fs.statSync(s.path).mtimeMs,
      active: k === segs.length - 1,
    }));
  }

  async deleteSegment(segment: RetentionSegment): Promise<void> {
    const segs = this.log.dataSegments;
    const k = segs.findIndex((s) => s.start === segment.start);
    if (k !== 0) throw new Error(`segment ${segment.name} is not the oldest one; segments go oldest first`);
    const next = segs[1];
    if (!next) throw new Error(`segment ${segment.name} is the last one and stays`);
    // Index entries first: a pull must never find a consume-queue entry whose bytes are gone.
    const removed = await this.index.dropBefore(next.start);
    const dropped = await this.log.dropPrefix(next.firstIndex);
    this.opts.log?.(
      `retention: dropped ${dropped.dataFiles.length} data and ${dropped.indexFiles.length} index files before log position ${next.start}, ${removed.messages} index entries`,
    );
  }

  async retainFloors(): Promise<readonly RetainFloor[]> {
    const applied = this.index.applied;
    // The entries after the checkpoint are what a rebuild or a catch-up still has to read.
    const floors: RetainFloor[] = [
      { position: applied.index < 0 ? this.log.startPosition : applied.pos, holder: `index checkpoint (entry ${applied.index})` },
    ];
    if (this.opts.holdBack) floors.push(...this.opts.holdBack());
    return floors;
  }
}
