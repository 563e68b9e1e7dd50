import t, { type Test } from 'tap';
import net from 'node:net';
import { encodeFrame, encodeHello, RAFT_PROTOCOL_VERSION, type RaftWireMessage } from '../../../protocol/raft/index.js';
import { RaftTransport, type PeerAddress, type RaftTransportOptions } from '../../../raft/transport/index.js';
import { freePort } from '../../helpers/processes.js';

/** Messages received by one transport, with a way to wait for a condition on them. */
class Inbox {
  readonly list: RaftWireMessage[] = [];
  private waiters: Array<() => void> = [];
  push = (m: RaftWireMessage): void => {
    this.list.push(m);
    for (const w of this.waiters.splice(0)) w();
  };
  async until(pred: (l: RaftWireMessage[]) => boolean): Promise<void> {
    while (!pred(this.list)) await new Promise<void>((r) => this.waiters.push(r));
  }
}

async function peersOf(ids: string[]): Promise<Map<string, PeerAddress>> {
  const m = new Map<string, PeerAddress>();
  for (const id of ids) m.set(id, { host: '127.0.0.1', port: await freePort() });
  return m;
}

async function startOne(t: Test, peers: Map<string, PeerAddress>, selfId: string, extra: Partial<RaftTransportOptions> = {}): Promise<{ tr: RaftTransport; inbox: Inbox }> {
  const inbox = new Inbox();
  const tr = await RaftTransport.start({ group: 'g', selfId, peers, onMessage: inbox.push, log: () => undefined, reconnectMinMs: 5, reconnectMaxMs: 50, ...extra });
  t.teardown(() => tr.close());
  return { tr, inbox };
}

const hb = (from: string, to: string, commit: number): RaftWireMessage => ({ type: 'heartbeat', from, to, term: 1, commit });

t.test('messages reach their peers in order, entry bodies intact', async (t) => {
  const peers = await peersOf(['n0', 'n1', 'n2']);
  const [a, b, c] = [await startOne(t, peers, 'n0'), await startOne(t, peers, 'n1'), await startOne(t, peers, 'n2')];
  const body = Buffer.alloc(5000, 7);
  for (let i = 0; i < 100; i++) a.tr.send(hb('n0', 'n1', i));
  a.tr.send({ type: 'append', from: 'n0', to: 'n2', term: 1, prevIndex: 4, prevTerm: 1, commit: 3, entries: [{ index: 5, term: 1, magic: 1, pos: 4096, body }] });
  c.tr.send({ type: 'voteResponse', from: 'n2', to: 'n0', term: 1, pre: false, granted: true });
  await b.inbox.until((l) => l.length === 100);
  t.same(b.inbox.list.map((m) => (m.type === 'heartbeat' ? m.commit : -1)), Array.from({ length: 100 }, (_, i) => i), 'in order');
  await c.inbox.until((l) => l.length === 1);
  const m = c.inbox.list[0]!;
  t.equal(m.type === 'append' && Buffer.from(m.entries[0]!.body).equals(body), true, 'body intact');
  await a.inbox.until((l) => l.length === 1);
  t.equal(a.inbox.list[0]!.type, 'voteResponse');
  t.equal(a.tr.stats().peers['n1']!.sentMessages, 100);
});

t.test('an explicit flush leaves no flush of its own scheduled for the end of the turn', async (t) => {
  // a pending immediate makes the event loop poll without blocking: one or two more loop
  // iterations (and system calls) in every turn that sends
  const peers = await peersOf(['n0', 'n1']);
  const [a, b] = [await startOne(t, peers, 'n0'), await startOne(t, peers, 'n1')];
  a.tr.send(hb('n0', 'n1', 1));
  await b.inbox.until((l) => l.length === 1); // the link is open
  await new Promise((r) => setImmediate(r));
  const immediates = (): number => process.getActiveResourcesInfo().filter((x) => x === 'Immediate').length;
  const before = immediates();
  a.tr.send(hb('n0', 'n1', 2));
  t.equal(immediates(), before + 1, 'a send alone flushes at the end of the turn');
  a.tr.flush();
  t.equal(immediates(), before, 'flushed now: nothing is left scheduled');
  await b.inbox.until((l) => l.length === 2);
  t.same(b.inbox.list.map((m) => (m.type === 'heartbeat' ? m.commit : -1)), [1, 2]);
});

t.test('garbage, a wrong group or an unknown sender closes only that connection', async (t) => {
  const peers = await peersOf(['n0', 'n1']);
  const a = await startOne(t, peers, 'n0');
  const b = await startOne(t, peers, 'n1');
  const port = peers.get('n0')!.port;
  const rawClosed = (bytes: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
      s.on('error', () => undefined);
      s.on('close', () => resolve());
      s.resume();
    });
  await rawClosed(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await rawClosed(encodeFrame(encodeHello({ group: 'other', from: 'n1', to: 'n0', version: RAFT_PROTOCOL_VERSION })));
  await rawClosed(encodeFrame(encodeHello({ group: 'g', from: 'n9', to: 'n0', version: RAFT_PROTOCOL_VERSION })));
  // a good hello followed by a message claiming another sender
  await rawClosed(Buffer.concat([encodeFrame(encodeHello({ group: 'g', from: 'n1', to: 'n0', version: RAFT_PROTOCOL_VERSION })), Buffer.from([0, 0, 0, 3, 1, 2, 3])]));
  t.equal(a.tr.stats().rejectedConnections, 4);
  b.tr.send(hb('n1', 'n0', 42));
  await a.inbox.until((l) => l.length === 1);
  t.same(a.inbox.list[0], hb('n1', 'n0', 42), 'the real peer still gets through');
});

t.test('a peer that stops reading fills only its own bounded queue; the others are served', async (t) => {
  const peers = await peersOf(['n0', 'n1', 'n2']);
  // n2 accepts connections and never reads
  const held = new Set<net.Socket>();
  const stuck = net.createServer((s) => {
    s.pause();
    held.add(s);
  });
  await new Promise<void>((r) => stuck.listen(peers.get('n2')!.port, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of held) s.destroy();
    stuck.close();
  });
  const a = await startOne(t, peers, 'n0', { maxQueueMessages: 64, maxQueueBytes: 1024 * 1024, maxSocketBufferBytes: 256 * 1024 });
  const b = await startOne(t, peers, 'n1');
  const body = Buffer.alloc(64 * 1024, 1);
  let i = 0;
  // push until the stuck link has dropped something, yielding to the event loop between bursts
  while (a.tr.stats().peers['n2']!.dropped === 0) {
    for (let k = 0; k < 32; k++, i++) a.tr.send({ type: 'append', from: 'n0', to: 'n2', term: 1, prevIndex: i - 1, prevTerm: 1, commit: 0, entries: [{ index: i, term: 1, magic: 1, pos: i * 65584, body }] });
    a.tr.send(hb('n0', 'n1', i));
    await new Promise((r) => setImmediate(r));
  }
  const s = a.tr.stats().peers['n2']!;
  t.ok(s.queuedMessages <= 64 && s.queuedBytes <= 1024 * 1024, `queue bounded (${s.queuedMessages} messages, ${s.queuedBytes} bytes)`);
  t.ok(s.dropped > 0, `${s.dropped} dropped`);
  const sentHeartbeats = Math.ceil(i / 32);
  await b.inbox.until((l) => l.length === sentHeartbeats);
  t.equal(b.inbox.list.length, sentHeartbeats, 'every heartbeat to the healthy peer arrived');
  t.equal(a.tr.stats().peers['n1']!.dropped, 0);
});

t.test('a link reconnects after its peer restarts', async (t) => {
  const peers = await peersOf(['n0', 'n1']);
  const a = await startOne(t, peers, 'n0');
  const b1 = await startOne(t, peers, 'n1');
  a.tr.send(hb('n0', 'n1', 1));
  await b1.inbox.until((l) => l.length === 1);
  await b1.tr.close();
  const b2 = await startOne(t, peers, 'n1');
  // messages sent while the link is down may be lost; keep sending until one arrives
  let n = 2;
  const timer = setInterval(() => a.tr.send(hb('n0', 'n1', n++)), 5);
  await b2.inbox.until((l) => l.length > 0);
  clearInterval(timer);
  t.ok(a.tr.stats().peers['n1']!.connects >= 2, 'connected again');
});
