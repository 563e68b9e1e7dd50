// CRC-32 (IEEE 802.3, the one zlib and java.util.zip.CRC32 compute); pure computation, no I/O.
// Bodies of LARGE_INPUT bytes and more go to @node-rs/crc32 (crc32fast: carry-less multiply),
// shorter ones to Node's zlib.crc32, whose call costs less. Measured here, ns per call, zlib vs
// @node-rs/crc32: 44 B 208-261 vs 409-423; 128 B 321-330 vs 328-376; 256 B 391-512 vs 366-440;
// 1 KiB 659-964 vs 350-627; 4 KiB 2,258-2,606 vs 953-1,145; 64 KiB 21.6-26.1 vs 8.0-8.3 us.
// Where the package has no build for the platform, loading it fails and zlib does everything.
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

const LARGE_INPUT = 256;

type Crc32Fn = (data: Buffer, initial?: number) => number;

function loadFast(): Crc32Fn | null {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32: Crc32Fn }).crc32;
  } catch {
    return null;
  }
}

const crc32Fast = loadFast();

/** True when @node-rs/crc32 loaded (a prebuilt binary for this platform). */
export const fastCrc32Available = crc32Fast !== null;

/** CRC-32 of `data` as an unsigned 32-bit number (0 .. 2^32-1); `initial` continues an earlier one. */
export function crc32(data: Uint8Array, initial = 0): number {
  return (crc32Fast !== null && data.byteLength >= LARGE_INPUT ? crc32Fast(data as Buffer, initial) : zlib.crc32(data, initial)) >>> 0;
}

/**
 * CRC-32 masked to 31 bits, as RocketMQ stores it in BODYCRC and sends it in `bodyCrc32`:
 * Java keeps the value in a signed int and clears the sign bit.
 */
export function maskedCrc32(data: Uint8Array): number {
  return crc32(data) & 0x7fffffff;
}
