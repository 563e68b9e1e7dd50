// The client side of ControlServer's line protocol (tests and bench/raft).
import net from 'node:net';

export class ControlClient {
  private buf = '';
  private readonly waiting = new Map<string, (line: string) => void>();
  private statusWaiters: Array<(line: string) => void> = [];
  private seq = 0;

  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.dispatch(line);
      }
    });
    const fail = (): void => {
      for (const w of this.waiting.values()) w('err - CLOSED - -');
      this.waiting.clear();
      for (const w of this.statusWaiters.splice(0)) w('err - CLOSED - -');
    };
    sock.on('close', fail);
    sock.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => {
        s.off('error', reject);
        resolve(new ControlClient(s));
      });
      s.once('error', reject);
    });
  }

  /** `ok <id> <first> <last> <pos> <micros>` or `err <id> <CODE> <leader> <address>`, split on spaces. */
  propose(count: number, size: number): Promise<string[]> {
    return this.request(`propose`, `${count} ${size}`);
  }

  /** `load <id> <committed> <elapsedMicros> <p50Micros> <p99Micros> <errors>` */
  load(entries: number, inflight: number, size: number, batch: number): Promise<string[]> {
    return this.request('load', `${entries} ${inflight} ${size} ${batch}`);
  }

  /** Resolves with `applied <id> <appliedIndex>` once the node applied up to `index`. */
  waitApplied(index: number): Promise<string[]> {
    return this.request('applied', String(index));
  }

  /** `status <role> <term> <leader> <commit> <applied> <last>` (or `stats ...` for `stats`) */
  status(cmd: 'status' | 'stats' = 'status'): Promise<string[]> {
    return new Promise((resolve) => {
      this.statusWaiters.push((l) => resolve(l.split(' ')));
      this.sock.write(`${cmd}\n`);
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private request(cmd: string, args: string): Promise<string[]> {
    const id = `r${++this.seq}`;
    return new Promise((resolve) => {
      this.waiting.set(id, (l) => resolve(l.split(' ')));
      this.sock.write(`${cmd} ${id} ${args}\n`);
    });
  }

  private dispatch(line: string): void {
    const [kind, id] = line.split(' ', 2);
    if (kind === 'status' || kind === 'stats') {
      this.statusWaiters.shift()?.(line);
      return;
    }
    const w = id === undefined ? undefined : this.waiting.get(id);
    if (w) {
      this.waiting.delete(id!);
      w(line);
    }
  }
}
