// Why an append was refused, as typed errors that carry the RocketMQ response code the send
// processor answers with, so the broker maps refusals without matching on messages.
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';

export type CommitLogErrorCode = 'NOT_WRITABLE' | 'BUSY' | 'DISK_FULL' | 'MESSAGE_TOO_LARGE' | 'MESSAGE_ILLEGAL' | 'STORAGE_FAILED';

export abstract class CommitLogError extends Error {
  abstract readonly code: CommitLogErrorCode;
  /** what the broker answers the producer with */
  abstract readonly responseCode: number;
}

/** This node does not take writes now: not the leader, a role change under way, or closing. */
export class NotWritableError extends CommitLogError {
  override readonly name = 'NotWritableError';
  readonly code = 'NOT_WRITABLE';
  readonly responseCode = ResponseCode.SERVICE_NOT_AVAILABLE;
}

/** A limit on work in flight was hit (pending appends, the writer's queued bytes); the client retries. */
export class CommitLogBusyError extends CommitLogError {
  override readonly name = 'CommitLogBusyError';
  readonly code = 'BUSY';
  readonly responseCode = ResponseCode.SYSTEM_BUSY;
  constructor(
    /** which limit: 'maxPendingAppends' or 'writerQueuedBytes' */
    readonly limit: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The retention service's disk guard refuses writes; the message is the guard's reason. */
export class DiskFullError extends CommitLogError {
  override readonly name = 'DiskFullError';
  readonly code = 'DISK_FULL';
  readonly responseCode = ResponseCode.SERVICE_NOT_AVAILABLE;
}

/** A record (or a batch) larger than the log can hold in one entry (one append). */
export class MessageTooLargeError extends CommitLogError {
  override readonly name = 'MessageTooLargeError';
  readonly code = 'MESSAGE_TOO_LARGE';
  readonly responseCode = ResponseCode.MESSAGE_ILLEGAL;
}

/** A record the index could not dispatch (bad layout, topic/queue not matching the record); refused before it reaches the log. */
export class MessageIllegalError extends CommitLogError {
  override readonly name = 'MessageIllegalError';
  readonly code = 'MESSAGE_ILLEGAL';
  readonly responseCode = ResponseCode.MESSAGE_ILLEGAL;
}

/** The log writer or the index failed; the commit log takes no more writes until it is reopened. */
export class CommitLogStorageError extends CommitLogError {
  override readonly name = 'CommitLogStorageError';
  readonly code = 'STORAGE_FAILED';
  readonly responseCode = ResponseCode.SYSTEM_ERROR;
}
