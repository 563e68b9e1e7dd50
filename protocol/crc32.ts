// CRC-32 (IEEE 802.3, the one zlib and java.util.zip.CRC32 compute). Node has shipped
// zlib.crc32 since 20.15 / 22.2, so we use it instead of a table of our own; it is pure
// computation, not I/O.
import zlib from 'node:zlib';

/** CRC-32 of `data` as an unsigned 32-bit number (0 .. 2^32-1). */
export function crc32(data: Uint8Array): number {
  return zlib.crc32(data) >>> 0;
}

/**
 * CRC-32 masked to 31 bits, as RocketMQ stores it in BODYCRC and sends it in `bodyCrc32`:
 * Java keeps the value in a signed int and clears the sign bit.
 */
export function maskedCrc32(data: Uint8Array): number {
  return zlib.crc32(data) & 0x7fffffff;
}
