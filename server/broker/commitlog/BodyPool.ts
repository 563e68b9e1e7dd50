// Buffers for PULL bodies, reused once the socket has taken the response. A consumer draining a
// backlog gets a 30-40 KiB body per pull; allocated fresh, each is an ArrayBuffer outside V8's
// heap, and thousands of them per second count as external memory pressure: V8 answered with a
// mark-compact every 100-150 ms and the GC threads took a third of the broker's CPU.

/** Smallest buffer the pool hands out (smaller bodies get one of this size). */
export const MIN_POOLED_BYTES = 16 * 1024;
/** Largest buffer the pool hands out; a body above it is allocated for itself and not kept. */
export const MAX_POOLED_BYTES = 1024 * 1024;
/** Bytes of free buffers the pool keeps at most, over all sizes. */
export const MAX_FREE_BYTES = 8 * 1024 * 1024;

/** A buffer taken from the pool: `buffer` has at least the bytes asked for; `release` gives it back (once; later calls do nothing). */
export interface PooledBuffer {
  readonly buffer: Buffer;
  release(): void;
}

export class BodyPool {
  /** free buffers by size class: class c holds MIN_POOLED_BYTES << c bytes */
  private readonly free: Buffer[][] = [];
  private freeBytes = 0;
  private taken = 0;
  private reused = 0;

  constructor(private readonly maxFreeBytes = MAX_FREE_BYTES) {
    for (let size = MIN_POOLED_BYTES; size <= MAX_POOLED_BYTES; size *= 2) this.free.push([]);
  }

  take(bytes: number): PooledBuffer {
    this.taken++;
    if (bytes > MAX_POOLED_BYTES) return { buffer: Buffer.allocUnsafe(bytes), release: noop };
    let c = 0;
    while (MIN_POOLED_BYTES << c < bytes) c++;
    const list = this.free[c]!;
    let buffer = list.pop();
    if (buffer === undefined) buffer = Buffer.allocUnsafeSlow(MIN_POOLED_BYTES << c);
    else {
      this.freeBytes -= buffer.length;
      this.reused++;
    }
    let held = true;
    return {
      buffer,
      release: () => {
        if (!held) return;
        held = false;
        if (this.freeBytes + buffer.length > this.maxFreeBytes) return; // left to the GC
        list.push(buffer);
        this.freeBytes += buffer.length;
      },
    };
  }

  /** buffers handed out, how many of them were reused, and the bytes kept free now */
  get stats(): { taken: number; reused: number; freeBytes: number } {
    return { taken: this.taken, reused: this.reused, freeBytes: this.freeBytes };
  }
}

function noop(): void {}
