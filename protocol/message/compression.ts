// Message bodies stay compressed in the store (sysFlag bit 0); these helpers are for the
// places that need the plain bytes (our client, gRPC conversion) and for producing them.
import zlib from 'node:zlib';
import { MessageFormatError } from './MessageFormatError.js';
import { CompressionType, compressionType, isCompressed } from './sysFlag.js';

/** Default cap on an inflated body, so a tiny zlib bomb cannot take the process's memory. */
export const DEFAULT_MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * The plain body: `body` itself when sysFlag says uncompressed, else the inflated bytes.
 * Only zlib (types 0 and 3) is supported; LZ4/ZSTD bodies raise UNSUPPORTED_COMPRESSION.
 */
export function inflateBody(body: Uint8Array, sysFlag: number, maxBytes: number = DEFAULT_MAX_INFLATED_BYTES): Buffer {
  if (!isCompressed(sysFlag)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const type = compressionType(sysFlag);
  if (type !== CompressionType.ZLIB && type !== CompressionType.LEGACY_ZLIB) {
    throw new MessageFormatError('UNSUPPORTED_COMPRESSION', `body compression type ${type} (sysFlag 0x${sysFlag.toString(16)}) is not zlib`);
  }
  try {
    return zlib.inflateSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new MessageFormatError('INFLATE_FAILED', `cannot inflate a ${body.byteLength}-byte zlib body: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** zlib-wrapped deflate as the Java producer writes it (level 5 by default). */
export function deflateBody(body: Uint8Array, level: number = 5): Buffer {
  return zlib.deflateSync(body, { level });
}
