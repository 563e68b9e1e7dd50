// A remoting server: accepts connections and dispatches each request by code to a processor.
// Unknown codes get REQUEST_CODE_NOT_SUPPORTED; a processor's RemotingError becomes a response
// with its code; a bad frame closes only the connection that sent it.
import net from 'node:net';
import { RemotingConnection, errorResponse, type ConnectionOptions } from '../../client/RemotingConnection.js';
import { createResponse, type RemotingCommand } from '../../protocol/remoting/RemotingCommand.js';
import { ResponseCode } from '../../protocol/remoting/ResponseCode.js';
import type { Logger } from '../log.js';

export type Processor = (
  request: RemotingCommand,
  conn: RemotingConnection,
) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** Sees every dispatched request (metrics): begin() when it is dispatched, end() with the answer's code (-1: no answer). */
export interface RequestObserver {
  begin(requestCode: number): number;
  end(requestCode: number, responseCode: number, begun: number): void;
}

export interface RemotingServerOptions extends Omit<ConnectionOptions, 'onRequest' | 'log'> {
  host?: string;
  port: number;
  log: Logger;
  /** Connections open at once; past it new ones are refused. */
  maxConnections?: number;
  /** A connection with no traffic either way for this long is closed (Java's 120 s). */
  idleTimeoutMs?: number | undefined;
  backlog?: number | undefined;
}

export class RemotingServer {
  private readonly processors = new Map<number, Processor>();
  private readonly connections = new Set<RemotingConnection>();
  private readonly connectListeners: Array<(c: RemotingConnection) => void> = [];
  private readonly closeListeners: Array<(c: RemotingConnection) => void> = [];
  private server: net.Server | undefined;
  private observer: RequestObserver | undefined;

  constructor(private readonly opts: RemotingServerOptions) {}

  register(code: number, processor: Processor): this {
    this.processors.set(code, processor);
    return this;
  }

  /** One observer of every request and its answer (the RPC latency histogram). */
  observeRequests(o: RequestObserver | undefined): void {
    this.observer = o;
  }

  onConnection(l: (c: RemotingConnection) => void): void {
    this.connectListeners.push(l);
  }

  onConnectionClosed(l: (c: RemotingConnection) => void): void {
    this.closeListeners.push(l);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : this.opts.port;
  }

  listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    server.maxConnections = this.opts.maxConnections ?? 10_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.opts.port, host: this.opts.host ?? '0.0.0.0', backlog: this.opts.backlog ?? 1024 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections) c.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const idle = this.opts.idleTimeoutMs ?? 120_000;
    if (idle > 0) {
      socket.setTimeout(idle, () => {
        this.opts.log(`closing connection ${socket.remoteAddress}:${socket.remotePort}: idle for ${idle} ms`);
        socket.destroy();
      });
    }
    const conn = new RemotingConnection(socket, {
      ...this.opts,
      log: this.opts.log,
      onRequest: (req, c) => this.dispatch(req, c),
    });
    this.connections.add(conn);
    conn.onceClosed((c) => {
      this.connections.delete(c);
      for (const l of this.closeListeners) l(c);
    });
    for (const l of this.connectListeners) l(conn);
  }

  private dispatch(request: RemotingCommand, conn: RemotingConnection): RemotingCommand | null | Promise<RemotingCommand | null> {
    const processor = this.processors.get(request.code);
    if (!processor) {
      return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
        remark: ` request type ${request.code} not supported`,
      });
    }
    const o = this.observer;
    if (!o) return processor(request, conn);
    const begun = o.begin(request.code);
    let r: RemotingCommand | null | Promise<RemotingCommand | null>;
    try {
      r = processor(request, conn);
    } catch (e) {
      o.end(request.code, errorResponse(request, e).code, begun);
      throw e;
    }
    if (!(r instanceof Promise)) {
      o.end(request.code, r ? r.code : -1, begun);
      return r;
    }
    return r.then(
      (res) => {
        o.end(request.code, res ? res.code : -1, begun);
        return res;
      },
      (e: unknown) => {
        o.end(request.code, errorResponse(request, e).code, begun);
        throw e;
      },
    );
  }
}
