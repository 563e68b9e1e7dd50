// One outbound TCP link to one peer: a bounded send queue, writes coalesced once per turn of the
// event loop (cork .. uncork: one writev), reconnect with capped exponential back-off and jitter.
// send() never waits: a slow peer fills its own queue, whose oldest appends and heartbeats are
// dropped (Raft resends them), and holds up no other link.
import net from 'node:net';
import { encodeHello, encodeRaftMessage, frameHeader, RAFT_PROTOCOL_VERSION, type RaftWireMessage } from '../../protocol/raft/index.js';
import type { AppendEncodingCache } from './AppendEncodingCache.js';
import { backoffDelay } from './backoff.js';
import { formatAddress, type PeerAddress } from './peerAddresses.js';

export interface PeerLinkOptions {
  group: string;
  selfId: string;
  peerId: string;
  address: PeerAddress;
  /** queue bounds: messages and (estimated) bytes waiting for the socket */
  maxQueueMessages: number;
  maxQueueBytes: number;
  /** bytes the socket may hold unsent before the link stops writing into it */
  maxSocketBufferBytes: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
  random: () => number;
  log: (line: string) => void;
  /** shared by the links of one transport: followers sent the same entries share their encoding */
  appendCache: AppendEncodingCache;
}

export type LinkState = 'connecting' | 'open' | 'backoff' | 'closed';

export interface PeerLinkStats {
  state: LinkState;
  queuedMessages: number;
  queuedBytes: number;
  /** messages dropped because the queue was full */
  dropped: number;
  sentMessages: number;
  sentBytes: number;
  connects: number;
  connectFailures: number;
}

interface Queued {
  m: RaftWireMessage;
  bytes: number;
}

const ENVELOPE_ESTIMATE = 64;

/** Appends, heartbeats and their answers are resent by Raft; votes are not dropped by the queue. */
function droppable(m: RaftWireMessage): boolean {
  return m.type === 'append' || m.type === 'heartbeat' || m.type === 'appendResponse' || m.type === 'heartbeatResponse';
}

function estimate(m: RaftWireMessage): number {
  if (m.type !== 'append') return ENVELOPE_ESTIMATE;
  let n = ENVELOPE_ESTIMATE;
  for (const e of m.entries) n += 32 + e.body.length;
  return n;
}

export class PeerLink {
  private state: LinkState = 'backoff';
  private socket: net.Socket | null = null;
  private queue: Queued[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** the setImmediate that flushes at the end of this turn, if one is pending */
  private flushImmediate: NodeJS.Immediate | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly s = { dropped: 0, sentMessages: 0, sentBytes: 0, connects: 0, connectFailures: 0 };

  constructor(private readonly o: PeerLinkOptions) {}

  get peerId(): string {
    return this.o.peerId;
  }

  start(): void {
    this.connect();
  }

  send(m: RaftWireMessage): void {
    if (this.state === 'closed') return;
    const bytes = estimate(m);
    while (this.queuedCount > 0 && (this.queuedCount >= this.o.maxQueueMessages || this.queuedBytes + bytes > this.o.maxQueueBytes)) {
      if (!this.dropOldestDroppable()) break;
    }
    if (this.queuedCount >= this.o.maxQueueMessages || (this.queuedCount > 0 && this.queuedBytes + bytes > this.o.maxQueueBytes)) {
      this.s.dropped++; // full of votes: the newcomer goes
      return;
    }
    this.queue.push({ m, bytes });
    this.queuedBytes += bytes;
    this.scheduleFlush();
  }

  stats(): PeerLinkStats {
    return { state: this.state, queuedMessages: this.queuedCount, queuedBytes: this.queuedBytes, ...this.s };
  }

  close(): void {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushImmediate !== null) clearImmediate(this.flushImmediate);
    this.flushImmediate = null;
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private get queuedCount(): number {
    return this.queue.length - this.head;
  }

  private dropOldestDroppable(): boolean {
    for (let i = this.head; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      if (!droppable(q.m)) continue;
      if (i === this.head) this.head++;
      else this.queue.splice(i, 1);
      this.queuedBytes -= q.bytes;
      this.s.dropped++;
      this.compact();
      return true;
    }
    return false;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.timer = null;
    this.state = 'connecting';
    const sock = net.connect({ host: this.o.address.host, port: this.o.address.port, noDelay: true });
    this.socket = sock;
    const connectTimer = setTimeout(() => sock.destroy(new Error(`connect timed out after ${this.o.connectTimeoutMs} ms`)), this.o.connectTimeoutMs);
    let opened = false;
    sock.once('connect', () => {
      clearTimeout(connectTimer);
      if (this.state === 'closed') return;
      opened = true;
      this.state = 'open';
      this.attempt = 0;
      this.s.connects++;
      const hello = encodeHello({ group: this.o.group, from: this.o.selfId, to: this.o.peerId, version: RAFT_PROTOCOL_VERSION });
      sock.cork();
      sock.write(frameHeader(hello.length));
      sock.write(hello);
      sock.uncork();
      this.scheduleFlush();
    });
    sock.on('drain', () => this.scheduleFlush());
    // We never expect bytes back on an outbound link; reading keeps FIN detection working.
    sock.on('data', () => undefined);
    sock.on('error', (e) => {
      if (!opened) this.s.connectFailures++;
      if (this.attempt === 0) this.o.log(`link ${this.o.selfId}->${this.o.peerId} (${formatAddress(this.o.address)}): ${e.message}`);
    });
    sock.on('close', () => {
      clearTimeout(connectTimer);
      if (this.socket === sock) this.socket = null;
      if (this.state === 'closed') return;
      this.state = 'backoff';
      const delay = backoffDelay(this.attempt++, { minMs: this.o.reconnectMinMs, maxMs: this.o.reconnectMaxMs, random: this.o.random });
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  private scheduleFlush(): void {
    if (this.flushImmediate !== null || this.state !== 'open') return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = null;
      this.flush();
    });
  }

  /** Everything queued goes out in one corked write, as far as the socket buffer allows. */
  flush(): void {
    // An explicit flush makes the scheduled one pointless: cancelled, it no longer keeps the
    // event loop from blocking in its next poll (a pending immediate makes libuv poll without
    // waiting, and costs one or two more loop iterations per turn).
    if (this.flushImmediate !== null) {
      clearImmediate(this.flushImmediate);
      this.flushImmediate = null;
    }
    const sock = this.socket;
    if (this.state !== 'open' || !sock || this.queuedCount === 0) return;
    if (sock.writableLength >= this.o.maxSocketBufferBytes) return; // 'drain' resumes
    sock.cork();
    try {
      while (this.queuedCount > 0 && sock.writableLength < this.o.maxSocketBufferBytes) {
        const q = this.queue[this.head]!;
        this.queue[this.head] = undefined as unknown as Queued;
        this.head++;
        this.queuedBytes -= q.bytes;
        this.s.sentMessages++;
        if (q.m.type === 'append' && q.m.entries.length > 0) {
          const [prefix, entries] = this.o.appendCache.parts(q.m);
          sock.write(frameHeader(prefix.length + entries.length));
          sock.write(prefix);
          sock.write(entries);
          this.s.sentBytes += 4 + prefix.length + entries.length;
          continue;
        }
        const payload = encodeRaftMessage(q.m);
        sock.write(frameHeader(payload.length));
        sock.write(payload);
        this.s.sentBytes += payload.length + 4;
      }
    } finally {
      sock.uncork();
      this.compact();
    }
  }
}
