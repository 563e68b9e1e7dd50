// i64 fields (offsets, timestamps) are plain JS numbers in our API: commit-log offsets and
// millisecond timestamps stay far below 2^53, and numbers avoid a bigint conversion per
// field on the hot path. Anything beyond the safe range is refused, never rounded.
import { MessageFormatError } from './MessageFormatError.js';
import { writeI64BE } from '../bytes.js';

const TWO_POW_32 = 4294967296;

/** Reads a big-endian i64 that must be a safe integer; `what` names the field in errors. */
export function readSafeInt64(buf: Buffer, pos: number, what: string): number {
  const hi = buf.readInt32BE(pos);
  const lo = buf.readUInt32BE(pos + 4);
  const value = hi * TWO_POW_32 + lo;
  if (!Number.isSafeInteger(value)) {
    throw new MessageFormatError(
      'VALUE_OUT_OF_RANGE',
      `${what} at byte ${pos} is 0x${buf.toString('hex', pos, pos + 8)}, beyond the 2^53 range this API supports`,
      pos,
    );
  }
  return value;
}

/** Checks a value for an i64 field before writing it, with a message naming the field. */
export function checkSafeInt64(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new MessageFormatError('VALUE_OUT_OF_RANGE', `${what} must be a safe integer, got ${value}`);
  }
}

/** Writes a safe integer as a big-endian i64 (two's complement for negatives). */
export function writeSafeInt64(buf: Buffer, pos: number, value: number, what: string): void {
  checkSafeInt64(value, what);
  if (!(pos >= 0 && pos + 8 <= buf.length)) throw new RangeError(`${what} at byte ${pos} does not fit a buffer of ${buf.length} bytes`);
  writeI64BE(buf, pos, value);
}

/** Checks a value for an i32 field before writing it, with a message naming the field. */
export function checkInt32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw new MessageFormatError('VALUE_OUT_OF_RANGE', `${what} must be a 32-bit signed integer, got ${value}`);
  }
}
