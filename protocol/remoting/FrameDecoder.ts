// Cuts a byte stream into remoting frames: partial frames wait for more bytes, several frames
// in one chunk come out one by one.
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
    if (this.buffered === 0) {
      // Fast path: frames that sit wholly inside this chunk are views into it.
      let p = 0;
      while (chunk.length - p >= 4) {
        const total = this.checkedLength(chunk.readUInt32BE(p));
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
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) break;
      const total = this.checkedLength(this.peekLength());
      if (this.buffered < 4 + total) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.subarray(4, 4 + total));
      const rest = all.subarray(4 + total);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readUInt32BE(0);
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
