import { ResponseCode } from './ResponseCode.js';

/** A frame or header that cannot be decoded. The connection that sent it is closed. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/**
 * A request that is well framed but cannot be served. It becomes a response with this code
 * and the message as remark; the connection stays open.
 */
export class RemotingError extends Error {
  override readonly name = 'RemotingError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A required custom header field is missing or has a value of the wrong type. */
export class HeaderFieldError extends RemotingError {
  constructor(message: string) {
    super(ResponseCode.SYSTEM_ERROR, message);
  }
}
