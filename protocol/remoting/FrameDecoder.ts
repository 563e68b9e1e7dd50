// Cuts a byte stream into remoting frames: partial frames wait for more bytes, several frames
// in one chunk come out one by one.
import { readU32BE } from '../bytes.js';
import { FrameError } from './errors.js';

export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameLength: number = DEFAULT_MAX_FRAME_LENGTH) {}

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Add bytes and return every whole frame now available, each without its 4-byte length prefix.
   * Throws FrameError on a length the protocol cannot have; the decoder is then unusable.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let p = 0;
    if (this.buffered > 0) {
      // A frame started in earlier chunks: copy out exactly its bytes once it is whole; the
      // rest of this chunk is read below, its whole frames as views into it.
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered < 4) return frames;
      const total = this.checkedLength(this.peekLength());
      if (this.buffered < 4 + total) return frames;
      const before = this.buffered - chunk.length;
      frames.push(this.copyOut(4, total));
      p = 4 + total - before;
      this.chunks = [];
      this.buffered = 0;
    }
    while (chunk.length - p >= 4) {
      const total = this.checkedLength(readU32BE(chunk, p));
      if (chunk.length - p - 4 < total) break;
      frames.push(chunk.subarray(p + 4, p + 4 + total));
      p += 4 + total;
    }
    if (p < chunk.length) {
      this.chunks.push(p === 0 ? chunk : chunk.subarray(p));
      this.buffered = chunk.length - p;
    }
    return frames;
  }

  /** `length` bytes of the buffered chunks from `skip` on, in a buffer of their own. */
  private copyOut(skip: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (const c of this.chunks) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const n = Math.min(c.length - skip, length - at);
      c.copy(out, at, skip, skip + n);
      at += n;
      skip = 0;
      if (at === length) break;
    }
    return out;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return readU32BE(first, 0);
    const head = Buffer.concat(this.chunks, this.buffered).subarray(0, 4);
    return head.readUInt32BE(0);
  }

  private checkedLength(total: number): number {
    if (total < 4) throw new FrameError(`frame length ${total} is smaller than the 4-byte header length field`);
    if (total > this.maxFrameLength) {
      throw new FrameError(`frame length ${total} exceeds the limit of ${this.maxFrameLength} bytes`);
    }
    return total;
  }
}
