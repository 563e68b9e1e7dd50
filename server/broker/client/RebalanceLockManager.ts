// Queue locks for orderly consumers (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): a queue belongs to one
// client of a group until it unlocks or stops renewing for lockMaxLiveTime (Java: 60 s).
export interface LockedQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdate: number;
}

export class RebalanceLockManager {
  /** group -> "topic@brokerName@queueId" -> holder */
  private readonly locks = new Map<string, Map<string, LockEntry>>();

  constructor(
    private readonly now: () => number = Date.now,
    readonly lockMaxLiveTimeMs = 60_000,
    readonly maxLocks = 1_000_000,
  ) {}

  private count = 0;

  private static key(q: LockedQueue): string {
    return `${q.topic}@${q.brokerName}@${q.queueId}`;
  }

  /** Locks what is free or already this client's; returns the queues the client now holds. */
  tryLock(group: string, clientId: string, queues: readonly LockedQueue[]): LockedQueue[] {
    const now = this.now();
    let g = this.locks.get(group);
    if (!g) this.locks.set(group, (g = new Map()));
    const out: LockedQueue[] = [];
    for (const q of queues) {
      const k = RebalanceLockManager.key(q);
      const e = g.get(k);
      if (!e) {
        if (this.count >= this.maxLocks) continue;
        g.set(k, { clientId, lastUpdate: now });
        this.count++;
        out.push(q);
      } else if (e.clientId === clientId || now - e.lastUpdate > this.lockMaxLiveTimeMs) {
        e.clientId = clientId;
        e.lastUpdate = now;
        out.push(q);
      }
    }
    return out;
  }

  unlock(group: string, clientId: string, queues: readonly LockedQueue[]): void {
    const g = this.locks.get(group);
    if (!g) return;
    for (const q of queues) {
      const k = RebalanceLockManager.key(q);
      if (g.get(k)?.clientId === clientId) {
        g.delete(k);
        this.count--;
      }
    }
    if (g.size === 0) this.locks.delete(group);
  }

  isLocked(group: string, q: LockedQueue, clientId: string): boolean {
    const e = this.locks.get(group)?.get(RebalanceLockManager.key(q));
    return e !== undefined && e.clientId === clientId && this.now() - e.lastUpdate <= this.lockMaxLiveTimeMs;
  }
}
