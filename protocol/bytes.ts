// Big-endian integers read and written by hand, for the per-message paths. In optimized code a
// call like buf.writeInt32BE(v, o) first loads the method from the typed array's prototype, and
// here that load is a call into V8's generic LoadIC every time (10-15 ns, against 2-4 ns for
// these functions, which compile to plain element accesses). Unlike the Buffer methods they
// neither check ranges nor throw: callers write values they checked into room they sized, and
// read only within lengths they checked.

export function writeI32BE(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

export function writeI16BE(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}

export function readI32BE(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

export function readU32BE(b: Uint8Array, at: number): number {
  return readI32BE(b, at) >>> 0;
}

export function readI16BE(b: Uint8Array, at: number): number {
  return (((b[at]! << 8) | b[at + 1]!) << 16) >> 16;
}

export function readU16BE(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

const TWO_POW_32 = 4294967296;

/** A safe integer (callers check) as a big-endian i64, two's complement for negatives. */
export function writeI64BE(b: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / TWO_POW_32);
  writeI32BE(b, at, hi);
  writeI32BE(b, at + 4, v - hi * TWO_POW_32);
}

/** A big-endian i64 as a number; beyond 2^53 the result is inexact (callers check with Number.isSafeInteger). */
export function readI64BE(b: Uint8Array, at: number): number {
  return readI32BE(b, at) * TWO_POW_32 + readU32BE(b, at + 4);
}

/** The bytes as a Buffer: the same object when it is one, else a view of its memory (no copy). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
