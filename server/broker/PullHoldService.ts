// Long polling: a pull that finds nothing waits here, keyed by topic and queue, until a
// matching message is applied to that queue or its hold time runs out; then the pull runs
// again (without suspension) and answers. Bounded: past maxHeld waiting pulls, new ones are
// answered at once.
import type { AppliedMessage } from './commitlog/CommitLog.js';

export interface HeldPull {
  topic: string;
  queueId: number;
  /** the offset the client asked for: any message at or past it wakes the pull */
  offset: number;
  deadline: number;
  /** whether a message with this tagsCode is of interest (the broker-side tag filter) */
  matches: (tagsCode: number) => boolean;
  /** re-runs the pull and answers; called exactly once */
  wake: () => void;
  /** whether the client went away (its answer would be dropped) */
  isGone: () => boolean;
}

export interface PullHoldServiceOptions {
  maxHeld?: number;
  /** how often timeouts are checked (ms) */
  checkIntervalMs?: number;
  now?: () => number;
}

export class PullHoldService {
  private readonly held = new Map<string, HeldPull[]>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  readonly maxHeld: number;

  constructor(private readonly opts: PullHoldServiceOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxHeld = opts.maxHeld ?? 100_000;
  }

  start(): void {
    this.timer = setInterval(() => this.checkTimeouts(), this.opts.checkIntervalMs ?? 200);
    this.timer.unref();
  }

  get heldCount(): number {
    return this.count;
  }

  /** false when full: the caller answers at once instead. */
  hold(pull: HeldPull): boolean {
    if (this.count >= this.maxHeld) return false;
    const key = `${pull.topic}@${pull.queueId}`;
    let list = this.held.get(key);
    if (!list) this.held.set(key, (list = []));
    list.push(pull);
    this.count++;
    return true;
  }

  /** Applied messages wake the pulls they match. */
  onMessages(messages: readonly AppliedMessage[]): void {
    if (this.count === 0) return;
    for (const m of messages) {
      const key = `${m.topic}@${m.queueId}`;
      const list = this.held.get(key);
      if (!list) continue;
      let kept = 0;
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        if (m.queueOffset >= p.offset && p.matches(m.tagsCode)) {
          this.count--;
          p.wake();
        } else list[kept++] = p;
      }
      list.length = kept;
      if (kept === 0) this.held.delete(key);
    }
  }

  /** Wakes every pull of a queue whose max offset moved past its offset (a periodic safety net). */
  checkTimeouts(maxOffset?: (topic: string, queueId: number) => number): void {
    const now = this.now();
    for (const [key, list] of this.held) {
      let kept = 0;
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        if (p.isGone()) {
          this.count--;
          continue;
        }
        if (now >= p.deadline || (maxOffset !== undefined && maxOffset(p.topic, p.queueId) > p.offset)) {
          this.count--;
          p.wake();
        } else list[kept++] = p;
      }
      list.length = kept;
      if (kept === 0) this.held.delete(key);
    }
  }

  /** Answers every held pull now (shutdown, or this node lost the right to serve). */
  wakeAll(): void {
    const all = [...this.held.values()].flat();
    this.held.clear();
    this.count = 0;
    for (const p of all) p.wake();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.wakeAll();
  }
}
