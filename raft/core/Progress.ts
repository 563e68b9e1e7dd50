// What a leader knows about one follower. Probe: one append at a time until the logs are known
// to match. Replicate: pipeline appends, bounded by messages and bytes in flight.

export type ProgressState = 'probe' | 'replicate';

export class Progress {
  state: ProgressState = 'probe';
  match = -1;
  next: number;
  /** probe: an append is out and unanswered */
  probeSent = false;
  /** heard from since the last check-quorum round */
  recentActive = false;
  /** recentActive as it stood when the last check-quorum round closed */
  activeLastRound = false;
  /** heard from since the last preferred-leader check */
  heardSinceCheck = false;
  /** match advanced since the last heartbeat (a stalled pipeline did not) */
  progressed = false;
  /** last index and byte size of each append in flight, oldest first */
  private readonly inflightLast: number[] = [];
  private readonly inflightSize: number[] = [];
  inflightBytes = 0;

  /**
   * Heard from in the current or the last closed check-quorum round. recentActive alone is
   * false right after each round closes, until the next reply: not a view to show or act on.
   */
  get inTouch(): boolean {
    return this.recentActive || this.activeLastRound;
  }

  constructor(
    next: number,
    private readonly maxInflight: number,
    private readonly maxInflightBytes: number,
  ) {
    this.next = next;
  }

  get inflightCount(): number {
    return this.inflightLast.length;
  }

  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    return this.inflightLast.length >= this.maxInflight || this.inflightBytes >= this.maxInflightBytes;
  }

  becomeProbe(next: number): void {
    this.state = 'probe';
    this.next = Math.max(next, this.match + 1);
    this.probeSent = false;
    this.clearInflight();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.clearInflight();
  }

  sentEntries(last: number, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = last + 1;
      this.inflightLast.push(last);
      this.inflightSize.push(bytes);
      this.inflightBytes += bytes;
    } else this.probeSent = true;
  }

  /** The follower reports it now ends at `last`, below what it had acknowledged: start over from there. */
  lostEntries(last: number): void {
    this.match = Math.max(-1, last);
    this.becomeProbe(this.match + 1);
    this.next = this.match + 1;
  }

  /** A success response: returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let moved = false;
    if (index > this.match) {
      this.match = index;
      this.progressed = true;
      moved = true;
    }
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    this.freeTo(index);
    return moved;
  }

  /**
   * A rejection of prevIndex `rejected`, with the leader's guess `hint` of the follower's next
   * index. Returns false for a stale rejection (an older append answered late).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.becomeProbe(Math.min(hint, rejected));
      return true;
    }
    if (rejected !== this.next - 1) return false;
    this.next = Math.max(Math.min(hint, rejected), this.match + 1);
    this.probeSent = false;
    return true;
  }

  private freeTo(index: number): void {
    let n = 0;
    while (n < this.inflightLast.length && this.inflightLast[n]! <= index) {
      this.inflightBytes -= this.inflightSize[n]!;
      n++;
    }
    this.inflightLast.splice(0, n);
    this.inflightSize.splice(0, n);
  }

  private clearInflight(): void {
    this.inflightLast.length = 0;
    this.inflightSize.length = 0;
    this.inflightBytes = 0;
  }
}
