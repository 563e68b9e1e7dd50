// One error type for every malformed message structure (stored records, batch bodies,
// message ids), so callers can map all of them to one RocketMQ response code and still
// tell the cases apart by `code`.

export type MessageFormatErrorCode =
  | 'TRUNCATED' // fewer bytes than a length field promises
  | 'BAD_MAGIC' // MAGICCODE is neither v1 nor v2
  | 'BLANK_RECORD' // the commit-log end-of-file filler, not a message
  | 'SIZE_MISMATCH' // TOTALSIZE disagrees with the fields inside
  | 'LENGTH_OUT_OF_RANGE' // a length field is negative or runs past its record
  | 'VALUE_OUT_OF_RANGE' // a value cannot be represented (i64 beyond 2^53, int32 overflow)
  | 'TOO_MANY_ENTRIES' // a batch has more entries than the caller allows
  | 'BAD_MESSAGE_ID' // an offset message id that is not 32/56 hex chars
  | 'BAD_ADDRESS' // an IP address or host:port that cannot be parsed
  | 'BAD_PROPERTY' // a property name/value that the text format cannot carry
  | 'UNSUPPORTED_COMPRESSION' // LZ4/ZSTD bodies: we only inflate zlib
  | 'INFLATE_FAILED'; // zlib refused the body or it exceeds the output limit

export class MessageFormatError extends Error {
  readonly code: MessageFormatErrorCode;
  /** byte offset in the decoded buffer where the bad structure starts, when known */
  readonly offset: number | undefined;

  constructor(code: MessageFormatErrorCode, message: string, offset?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessageFormatError';
    this.code = code;
    this.offset = offset;
  }
}
