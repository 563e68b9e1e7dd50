// Connections to remoting servers by "host:port", opened on first use and reused.
import net from 'node:net';
import { RemotingConnection, type ConnectionOptions } from './RemotingConnection.js';
import type { RemotingCommand } from '../protocol/remoting/RemotingCommand.js';

export interface RemotingClientOptions extends ConnectionOptions {
  connectTimeoutMs?: number;
}

export class RemotingClient {
  private readonly connections = new Map<string, Promise<RemotingConnection>>();
  private closed = false;

  constructor(private readonly opts: RemotingClientOptions = {}) {}

  connection(addr: string): Promise<RemotingConnection> {
    if (this.closed) return Promise.reject(new Error('client is closed'));
    const existing = this.connections.get(addr);
    if (existing) return existing;
    const opening = this.open(addr);
    this.connections.set(addr, opening);
    opening.then(
      (conn) => conn.onceClosed(() => {
        if (this.connections.get(addr) === opening) this.connections.delete(addr);
      }),
      () => {
        if (this.connections.get(addr) === opening) this.connections.delete(addr);
      },
    );
    return opening;
  }

  async invoke(addr: string, request: RemotingCommand, timeoutMs = 3000): Promise<RemotingCommand> {
    const conn = await this.connection(addr);
    return conn.invoke(request, timeoutMs);
  }

  async invokeOneway(addr: string, request: RemotingCommand): Promise<void> {
    const conn = await this.connection(addr);
    conn.invokeOneway(request);
  }

  close(): void {
    this.closed = true;
    for (const p of this.connections.values()) p.then((c) => c.close(), () => undefined);
    this.connections.clear();
  }

  private open(addr: string): Promise<RemotingConnection> {
    const { host, port } = splitAddress(addr);
    const timeoutMs = this.opts.connectTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${addr} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RemotingConnection(socket, this.opts));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`connect to ${addr} failed: ${e.message}`));
      });
    });
  }
}

/** "host:port" (IPv6 hosts as "[::1]:9876" or the last colon splits). */
export function splitAddress(addr: string): { host: string; port: number } {
  const trimmed = addr.trim();
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  const i = trimmed.lastIndexOf(':');
  const host = bracket ? (bracket[1] as string) : trimmed.slice(0, i);
  const port = Number(bracket ? bracket[2] : trimmed.slice(i + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad address "${addr}": expected host:port`);
  return { host, port };
}
