// TCP between the members of one Raft group. Each node dials every peer once (PeerLink: its
// messages to that peer) and accepts the peers' links on its own dLegerPeers port (their
// messages to it). A link opens with a Hello naming group, sender and receiver; anything else
// first, a wrong group, an unknown sender, a sender that changes, or bytes that do not decode
// close that one connection and nothing else.
import net from 'node:net';
import { RaftDecodeError, RaftFrameDecoder, decodeRaftFrame, DEFAULT_MAX_RAFT_FRAME, RAFT_PROTOCOL_VERSION, type RaftWireMessage } from '../../protocol/raft/index.js';
import { AppendEncodingCache } from './AppendEncodingCache.js';
import { PeerLink, type PeerLinkStats } from './PeerLink.js';
import { formatAddress, type PeerAddress } from './peerAddresses.js';

export interface RaftTransportOptions {
  group: string;
  selfId: string;
  /** every member, this node included: id -> address (dLegerPeers) */
  peers: ReadonlyMap<string, PeerAddress>;
  /** called for every message received, in arrival order per link */
  onMessage: (m: RaftWireMessage) => void;
  /** address to listen on; default: this node's dLegerPeers address */
  listen?: PeerAddress;
  maxQueueMessages?: number;
  maxQueueBytes?: number;
  maxSocketBufferBytes?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
  /** inbound connections held at once (peers reconnecting leave old ones closing) */
  maxInboundConnections?: number;
  random?: () => number;
  log?: (line: string) => void;
}

export const DEFAULT_TRANSPORT_LIMITS = Object.freeze({
  maxQueueMessages: 4096,
  maxQueueBytes: 64 * 1024 * 1024,
  maxSocketBufferBytes: 4 * 1024 * 1024,
  reconnectMinMs: 20,
  reconnectMaxMs: 1000,
  connectTimeoutMs: 1000,
  maxFrameBytes: DEFAULT_MAX_RAFT_FRAME,
  maxInboundConnections: 64,
});

type ResolvedOptions = RaftTransportOptions & { -readonly [K in keyof typeof DEFAULT_TRANSPORT_LIMITS]: number };

export interface TransportStats {
  peers: Record<string, PeerLinkStats>;
  inboundConnections: number;
  receivedMessages: number;
  /** inbound connections closed for bytes that were not a valid frame or hello */
  rejectedConnections: number;
}

export class RaftTransport {
  private readonly links = new Map<string, PeerLink>();
  private readonly inbound = new Set<net.Socket>();
  private received = 0;
  private rejected = 0;
  private closed = false;

  private constructor(
    private readonly o: ResolvedOptions,
    private readonly server: net.Server,
    readonly address: PeerAddress,
  ) {}

  /** Listens on this node's port and starts dialling every peer. */
  static async start(opts: RaftTransportOptions): Promise<RaftTransport> {
    const self = opts.peers.get(opts.selfId);
    if (!self) throw new Error(`self id ${opts.selfId} is not among the peers ${[...opts.peers.keys()].join(',')}`);
    const o = { ...DEFAULT_TRANSPORT_LIMITS, ...stripUndefined(opts) } as ResolvedOptions;
    const listen = opts.listen ?? self;
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    const t = new RaftTransport(o, server, { host: listen.host, port: bound.port });
    server.on('connection', (s) => t.accept(s));
    server.on('error', (e) => t.log(`raft server: ${e.message}`));
    const random = opts.random ?? Math.random;
    const appendCache = new AppendEncodingCache();
    for (const [id, address] of opts.peers) {
      if (id === opts.selfId) continue;
      const link = new PeerLink({
        group: opts.group,
        selfId: opts.selfId,
        peerId: id,
        address,
        maxQueueMessages: o.maxQueueMessages,
        maxQueueBytes: o.maxQueueBytes,
        maxSocketBufferBytes: o.maxSocketBufferBytes,
        reconnectMinMs: o.reconnectMinMs,
        reconnectMaxMs: o.reconnectMaxMs,
        connectTimeoutMs: o.connectTimeoutMs,
        random,
        appendCache,
        log: (l) => t.log(l),
      });
      t.links.set(id, link);
      link.start();
    }
    return t;
  }

  /** Queues a message for its peer; never blocks. Messages to unknown peers are ignored. */
  send(m: RaftWireMessage): void {
    this.links.get(m.to)?.send(m);
  }

  /** Writes what is queued now (one writev per peer) instead of at the end of this turn. */
  flush(): void {
    for (const l of this.links.values()) l.flush();
  }

  addressOf(id: string): PeerAddress | undefined {
    return this.o.peers.get(id);
  }

  stats(): TransportStats {
    const peers: Record<string, PeerLinkStats> = {};
    for (const [id, l] of this.links) peers[id] = l.stats();
    return { peers, inboundConnections: this.inbound.size, receivedMessages: this.received, rejectedConnections: this.rejected };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links.values()) l.close();
    for (const s of this.inbound) s.destroy();
    this.inbound.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private log(line: string): void {
    (this.o.log ?? ((l: string) => process.stderr.write(`raft/transport ${l}\n`)))(line);
  }

  private accept(sock: net.Socket): void {
    if (this.closed || this.inbound.size >= this.o.maxInboundConnections) {
      sock.destroy();
      return;
    }
    this.inbound.add(sock);
    sock.setNoDelay(true);
    const decoder = new RaftFrameDecoder(this.o.maxFrameBytes);
    let peer: string | null = null;
    const reject = (why: string): void => {
      this.rejected++;
      this.log(`closing inbound link from ${sock.remoteAddress}:${sock.remotePort}${peer ? ` (${peer})` : ''}: ${why}`);
      sock.destroy();
    };
    sock.on('data', (chunk: Buffer) => {
      if (sock.destroyed) return;
      try {
        for (const payload of decoder.push(chunk)) {
          const f = decodeRaftFrame(payload);
          if (peer === null) {
            if (f.kind !== 'hello') return reject('the first frame is not a Hello');
            const h = f.hello;
            if (h.version !== RAFT_PROTOCOL_VERSION) return reject(`protocol version ${h.version}, this node speaks ${RAFT_PROTOCOL_VERSION}`);
            if (h.group !== this.o.group) return reject(`group ${h.group}, this node is in ${this.o.group}`);
            if (h.to !== this.o.selfId) return reject(`addressed to ${h.to}, this node is ${this.o.selfId}`);
            if (h.from === this.o.selfId || !this.o.peers.has(h.from)) return reject(`unknown member ${h.from}`);
            peer = h.from;
            continue;
          }
          if (f.kind !== 'message') return reject('a second Hello');
          const m = f.message;
          if (m.from !== peer || m.to !== this.o.selfId) return reject(`message ${m.from}->${m.to} on the link from ${peer}`);
          this.received++;
          this.o.onMessage(m);
          if (sock.destroyed) return;
        }
      } catch (e) {
        if (e instanceof RaftDecodeError) return reject(e.message);
        throw e;
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.inbound.delete(sock));
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export { formatAddress };
