// The SEND_BATCH_MESSAGE (320) body: the producer's messages back to back, each
// TOTALSIZE i32 | MAGICCODE i32 (0) | BODYCRC i32 (0) | FLAG i32 | BODYLEN i32 | BODY |
// PROPLEN i16 | PROPERTIES. The broker explodes it into one stored record per entry.
import { checkInt32 } from './int64.js';
import { MessageFormatError } from './MessageFormatError.js';
import { MAX_PROPERTIES_BYTES } from './properties.js';

/** Bytes of an entry around its body and properties. */
export const BATCH_ENTRY_OVERHEAD = 22;

/**
 * Default cap on entries per batch. Java has none beyond the 4 MiB message size, but every
 * entry becomes a record, an offset and an id in the reply, so we bound it; callers may raise it.
 */
export const DEFAULT_MAX_BATCH_ENTRIES = 16384;

export interface BatchEntry {
  flag: number;
  /** a view into the batch body, not a copy */
  body: Buffer;
  propertiesText: string;
}

export interface BatchEntryInput {
  flag?: number;
  body: Uint8Array;
  propertiesText: string;
}

export interface DecodeBatchOptions {
  maxEntries?: number;
}

function fail(code: 'TRUNCATED' | 'SIZE_MISMATCH' | 'LENGTH_OUT_OF_RANGE' | 'TOO_MANY_ENTRIES', start: number, index: number, what: string): MessageFormatError {
  return new MessageFormatError(code, `batch entry ${index} at offset ${start}: ${what}`, start);
}

/**
 * Decodes a batch body. MAGICCODE and BODYCRC are ignored, as Java does (clients send 0 and
 * the broker computes the CRC); TOTALSIZE must match the entry's own lengths. An empty body
 * gives no entries; whether that is acceptable is the caller's call.
 */
export function decodeBatchBody(body: Buffer, options?: DecodeBatchOptions): BatchEntry[] {
  const maxEntries = options?.maxEntries ?? DEFAULT_MAX_BATCH_ENTRIES;
  const entries: BatchEntry[] = [];
  let pos = 0;
  while (pos < body.length) {
    const start = pos;
    const index = entries.length;
    if (index >= maxEntries) throw fail('TOO_MANY_ENTRIES', start, index, `more than ${maxEntries} entries in one batch`);
    const left = body.length - start;
    if (left < BATCH_ENTRY_OVERHEAD) throw fail('TRUNCATED', start, index, `only ${left} bytes left, an entry needs at least ${BATCH_ENTRY_OVERHEAD}`);
    const totalSize = body.readInt32BE(start);
    if (totalSize < BATCH_ENTRY_OVERHEAD || totalSize > left) {
      throw fail(totalSize > left ? 'TRUNCATED' : 'SIZE_MISMATCH', start, index, `TOTALSIZE ${totalSize} but ${left} bytes left (minimum ${BATCH_ENTRY_OVERHEAD})`);
    }
    const end = start + totalSize;
    const flag = body.readInt32BE(start + 12);
    const bodyLength = body.readInt32BE(start + 16);
    pos = start + 20;
    if (bodyLength < 0 || pos + bodyLength + 2 > end) {
      throw fail('LENGTH_OUT_OF_RANGE', start, index, `BODYLEN ${bodyLength} runs past TOTALSIZE ${totalSize}`);
    }
    const entryBody = body.subarray(pos, pos + bodyLength);
    pos += bodyLength;
    const propertiesLength = body.readInt16BE(pos);
    pos += 2;
    if (propertiesLength < 0 || pos + propertiesLength > end) {
      throw fail('LENGTH_OUT_OF_RANGE', start, index, `PROPLEN ${propertiesLength} runs past TOTALSIZE ${totalSize}`);
    }
    const propertiesText = body.toString('utf8', pos, pos + propertiesLength);
    pos += propertiesLength;
    if (pos !== end) throw fail('SIZE_MISMATCH', start, index, `fields end ${end - pos} bytes before TOTALSIZE ${totalSize}`);
    entries.push({ flag, body: entryBody, propertiesText });
  }
  return entries;
}

/** Encodes entries as the Java producer does (MAGICCODE and BODYCRC 0). */
export function encodeBatchBody(entries: readonly BatchEntryInput[]): Buffer {
  const propertyBytes: number[] = [];
  let total = 0;
  entries.forEach((e, i) => {
    checkInt32(e.flag ?? 0, `entry ${i} flag`);
    const n = Buffer.byteLength(e.propertiesText, 'utf8');
    if (n > MAX_PROPERTIES_BYTES) {
      throw new MessageFormatError('LENGTH_OUT_OF_RANGE', `entry ${i} properties are ${n} bytes, more than ${MAX_PROPERTIES_BYTES}`);
    }
    const size = BATCH_ENTRY_OVERHEAD + e.body.length + n;
    if (size > 0x7fffffff) throw new MessageFormatError('LENGTH_OUT_OF_RANGE', `entry ${i} of ${size} bytes does not fit TOTALSIZE (i32)`);
    propertyBytes.push(n);
    total += size;
  });
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  entries.forEach((e, i) => {
    const propsLength = propertyBytes[i] as number;
    out.writeInt32BE(BATCH_ENTRY_OVERHEAD + e.body.length + propsLength, pos);
    out.writeInt32BE(0, pos + 4);
    out.writeInt32BE(0, pos + 8);
    out.writeInt32BE(e.flag ?? 0, pos + 12);
    out.writeInt32BE(e.body.length, pos + 16);
    out.set(e.body, pos + 20);
    pos += 20 + e.body.length;
    out.writeInt16BE(propsLength, pos);
    pos += 2;
    pos += out.write(e.propertiesText, pos, propsLength, 'utf8');
  });
  return out;
}
