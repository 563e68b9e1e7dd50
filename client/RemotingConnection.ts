// One TCP connection speaking remoting frames, used by both sides: it decodes frames, hands
// requests to a handler (bounded in flight), matches responses to pending invokes by opaque,
// and closes itself, with one log line, on a frame it cannot read.
import type net from 'node:net';
import { FrameDecoder, DEFAULT_MAX_FRAME_LENGTH } from '../protocol/remoting/FrameDecoder.js';
import { FrameError, RemotingError } from '../protocol/remoting/errors.js';
import {
  createResponse,
  decodeCommand,
  encodeCommandParts,
  isOneway,
  isResponse,
  RPC_ONEWAY,
  type RemotingCommand,
} from '../protocol/remoting/RemotingCommand.js';
import { ResponseCode } from '../protocol/remoting/ResponseCode.js';

export type RequestHandler = (
  request: RemotingCommand,
  conn: RemotingConnection,
) => RemotingCommand | null | Promise<RemotingCommand | null>;

export interface ConnectionOptions {
  maxFrameLength?: number;
  /** Requests being served at once on this connection; past it we stop reading the socket. */
  maxInFlightRequests?: number;
  /** Invokes waiting for a response on this connection. */
  maxPendingInvokes?: number;
  /** Bytes queued for writing before we stop reading the socket until it drains. */
  writeHighWaterMark?: number;
  onRequest?: RequestHandler;
  log?: (line: string) => void;
}

export class RemotingTimeoutError extends Error {
  override readonly name = 'RemotingTimeoutError';
}

export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class RemotingConnection {
  readonly remoteAddress: string;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private readonly maxInFlight: number;
  private readonly maxPending: number;
  private readonly highWater: number;
  private readonly log: (line: string) => void;
  private onRequest: RequestHandler | undefined;
  private nextOpaque = 1;
  private inFlight = 0;
  /** Requests decoded but not yet dispatched because maxInFlight were being served. */
  private readonly backlog: RemotingCommand[] = [];
  private draining = false;
  private pausedForLoad = false;
  private closed = false;
  private readonly closeListeners: Array<(conn: RemotingConnection) => void> = [];

  constructor(
    readonly socket: net.Socket,
    opts: ConnectionOptions = {},
  ) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`.replace(/^::ffff:/, '');
    this.decoder = new FrameDecoder(opts.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
    this.maxInFlight = opts.maxInFlightRequests ?? 1024;
    this.maxPending = opts.maxPendingInvokes ?? 65536;
    this.highWater = opts.writeHighWaterMark ?? 8 * 1024 * 1024;
    this.log = opts.log ?? ((line) => process.stderr.write(line + '\n'));
    this.onRequest = opts.onRequest;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateFlow());
    socket.on('error', () => {
      /* 'close' follows; the reason does not change what we do */
    });
    socket.on('close', () => this.onClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  get pendingInvokes(): number {
    return this.pending.size;
  }

  setRequestHandler(handler: RequestHandler): void {
    this.onRequest = handler;
  }

  onceClosed(listener: (conn: RemotingConnection) => void): void {
    if (this.closed) listener(this);
    else this.closeListeners.push(listener);
  }

  /** Send a request and wait for its response. The opaque is assigned here. */
  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(`connection to ${this.remoteAddress} is closed`));
    if (this.pending.size >= this.maxPending) {
      return Promise.reject(new RemotingError(ResponseCode.SYSTEM_BUSY, `too many requests in flight to ${this.remoteAddress}`));
    }
    const opaque = this.allocateOpaque();
    request.opaque = opaque;
    request.flag &= ~RPC_ONEWAY;
    return new Promise<RemotingCommand>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(new RemotingTimeoutError(`no response from ${this.remoteAddress} within ${timeoutMs} ms (code ${request.code})`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(opaque, { resolve, reject, timer });
      try {
        this.write(request);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(opaque);
        reject(e as Error);
      }
    });
  }

  invokeOneway(request: RemotingCommand): void {
    if (this.closed) throw new ConnectionClosedError(`connection to ${this.remoteAddress} is closed`);
    request.opaque = this.allocateOpaque();
    request.flag |= RPC_ONEWAY;
    this.write(request);
  }

  /** Write a response (or any command) as is. `cmd.onWritten` is called when the socket is done with the frame. */
  write(cmd: RemotingCommand): void {
    const written = cmd.onWritten;
    if (this.closed) {
      written?.();
      return;
    }
    const parts = encodeCommandParts(cmd);
    // Responses finished in the same tick leave in one write (one syscall) instead of one each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(parts[i]!);
    // the callback comes after the write completed or failed (a destroyed socket errors what it still held)
    if (written === undefined) this.socket.write(parts[last]!);
    else this.socket.write(parts[last]!, () => written());
    this.updateFlow();
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  close(reason?: string): void {
    if (this.closed) return;
    if (reason) this.log(`closing connection ${this.remoteAddress}: ${reason}`);
    this.socket.destroy();
    this.onClose();
  }

  private allocateOpaque(): number {
    const o = this.nextOpaque;
    this.nextOpaque = o >= 0x7fffffff ? 1 : o + 1;
    return o;
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.close(`bad frame: ${(e as Error).message}`);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      let cmd: RemotingCommand;
      try {
        cmd = decodeCommand(frame);
      } catch (e) {
        this.close(`bad frame: ${(e as Error).message}`);
        return;
      }
      if (isResponse(cmd)) this.onResponse(cmd);
      else this.backlog.push(cmd);
    }
    this.drainBacklog();
  }

  /** Dispatch queued requests while fewer than maxInFlight are being served. */
  private drainBacklog(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.backlog.length > 0 && this.inFlight < this.maxInFlight && !this.closed) {
        this.dispatch(this.backlog.shift() as RemotingCommand);
      }
    } finally {
      this.draining = false;
    }
    this.updateFlow();
  }

  private onResponse(cmd: RemotingCommand): void {
    const p = this.pending.get(cmd.opaque);
    if (!p) return; // late answer to a request that timed out
    this.pending.delete(cmd.opaque);
    clearTimeout(p.timer);
    p.resolve(cmd);
  }

  private dispatch(request: RemotingCommand): void {
    const handler = this.onRequest;
    if (!handler) {
      if (!isOneway(request)) {
        this.write(createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, { remark: ` request type ${request.code} not supported` }));
      }
      return;
    }
    this.inFlight++;
    this.updateFlow();
    let result: RemotingCommand | null | Promise<RemotingCommand | null>;
    try {
      result = handler(request, this);
    } catch (e) {
      this.finish(request, errorResponse(request, e));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.finish(request, response),
        (e: unknown) => this.finish(request, errorResponse(request, e)),
      );
    } else {
      this.finish(request, result);
    }
  }

  private finish(request: RemotingCommand, response: RemotingCommand | null): void {
    this.inFlight--;
    if (response && !isOneway(request)) {
      try {
        this.write(response);
      } catch (e) {
        // e.g. a remark echoing a huge request makes a header too long for its length field
        this.write(
          createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: `response could not be encoded: ${(e as Error).message}` }),
        );
      }
    }
    this.drainBacklog();
  }

  /** Stop reading while too much is in flight or waiting to be written; resume after. */
  private updateFlow(): void {
    if (this.closed) return;
    const overloaded =
      this.inFlight >= this.maxInFlight || this.backlog.length > 0 || this.socket.writableLength > this.highWater;
    if (overloaded && !this.pausedForLoad) {
      this.pausedForLoad = true;
      this.socket.pause();
    } else if (!overloaded && this.pausedForLoad) {
      this.pausedForLoad = false;
      this.socket.resume();
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.backlog.length = 0;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionClosedError(`connection to ${this.remoteAddress} closed before the response`));
    }
    this.pending.clear();
    for (const l of this.closeListeners.splice(0)) l(this);
  }
}

/** A handler's failure as a response: RemotingError keeps its code, anything else is SYSTEM_ERROR. */
export function errorResponse(request: RemotingCommand, e: unknown): RemotingCommand {
  if (e instanceof RemotingError) return createResponse(request, e.code, { remark: e.message });
  if (e instanceof FrameError) return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: e.message });
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: message });
}
