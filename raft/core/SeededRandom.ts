// Deterministic randomness for the core: election timeouts are randomised, yet a seed replays a
// run exactly (simulator, tests). The core only sees the RandomSource interface.

export interface RandomSource {
  /** an integer in [0, maxExclusive) */
  int(maxExclusive: number): number;
}

/** splitmix32-style generator: small, fast, good enough to spread timeouts; not for secrets. */
export class SeededRandom implements RandomSource {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** a float in [0, 1) */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  }

  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) throw new RangeError(`maxExclusive must be a positive integer, got ${maxExclusive}`);
    return Math.floor(this.next() * maxExclusive);
  }
}
