// A bare socket for tests: sends raw frame bytes and collects what comes back.
import net from 'node:net';
import { FrameDecoder } from '../../protocol/remoting/FrameDecoder.js';
import { decodeCommand, encodeCommand, type RemotingCommand } from '../../protocol/remoting/RemotingCommand.js';

export class RawConnection {
  private readonly decoder = new FrameDecoder();
  private readonly waiting = new Map<number, (c: RemotingCommand) => void>();
  readonly received: RemotingCommand[] = [];
  closed = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        const cmd = decodeCommand(Buffer.from(frame));
        this.received.push(cmd);
        const w = this.waiting.get(cmd.opaque);
        if (w) {
          this.waiting.delete(cmd.opaque);
          w(cmd);
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Send a whole frame (with its length prefix) and wait for the response with that opaque. */
  request(bytes: Buffer, opaque: number, timeoutMs = 5000): Promise<RemotingCommand> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response for opaque ${opaque}`)), timeoutMs);
      this.waiting.set(opaque, (c) => {
        clearTimeout(timer);
        resolve(c);
      });
      this.send(bytes);
    });
  }

  command(cmd: RemotingCommand, timeoutMs?: number): Promise<RemotingCommand> {
    return this.request(encodeCommand(cmd), cmd.opaque, timeoutMs);
  }

  /** Resolves when the peer closes the connection, or rejects after the timeout. */
  whenClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): void {
    this.socket.destroy();
  }
}
