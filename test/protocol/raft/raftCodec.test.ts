import t from 'tap';
import {
  RaftDecodeError,
  RaftFrameDecoder,
  decodeRaftFrame,
  encodeAppendEntries,
  encodeAppendParts,
  encodeFrame,
  encodeHello,
  encodeRaftMessage,
  RAFT_PROTOCOL_VERSION,
  type RaftWireMessage,
  type WireAppendRequest,
} from '../../../protocol/raft/index.js';

const append: WireAppendRequest = {
  type: 'append',
  from: 'n0',
  to: 'n1',
  term: 7,
  prevIndex: -1,
  prevTerm: -1,
  commit: -1,
  entries: [
    // bodyCrc 0: not given (left out on the wire); the CRCs are the sender's, not checked here
    { index: 0, term: 7, magic: 2, pos: 0, body: new Uint8Array(0), bodyCrc: 0 },
    { index: 1, term: 7, magic: 1, pos: 48, body: Buffer.from('hello raft'), bodyCrc: -123456789 },
    { index: 2, term: 7, magic: 1, pos: 2 ** 40, body: Buffer.alloc(3000, 0xab), bodyCrc: 0x7fffffff },
  ],
};

const all: RaftWireMessage[] = [
  { type: 'vote', from: 'n1', to: 'n2', term: 3, pre: true, lastIndex: -1, lastTerm: -1 },
  { type: 'vote', from: 'n1', to: 'n2', term: 2 ** 40, pre: false, lastIndex: 2 ** 50, lastTerm: 9 },
  { type: 'voteResponse', from: 'n2', to: 'n1', term: 3, pre: true, granted: true },
  { type: 'voteResponse', from: 'n2', to: 'n1', term: 3, pre: false, granted: false },
  append,
  { type: 'append', from: 'n0', to: 'n2', term: 7, prevIndex: 10, prevTerm: 6, commit: 9, entries: [] },
  { type: 'appendResponse', from: 'n1', to: 'n0', term: 7, success: false, index: 10, conflictTerm: -1, conflictIndex: 4 },
  { type: 'appendResponse', from: 'n1', to: 'n0', term: 7, success: true, index: 2, conflictTerm: -1, conflictIndex: -1 },
  { type: 'heartbeat', from: 'n0', to: 'n1', term: 7, commit: -1 },
  { type: 'heartbeatResponse', from: 'n1', to: 'n0', term: 7 },
  { type: 'heartbeatResponse', from: 'n1', to: 'n0', term: 7, lastIndex: -1 },
  { type: 'heartbeatResponse', from: 'n1', to: 'n0', term: 7, lastIndex: 2 ** 45 },
  { type: 'vote', from: 'n1', to: 'n2', term: 8, pre: false, lastIndex: 12, lastTerm: 7, transfer: true },
  { type: 'timeoutNow', from: 'n0', to: 'n1', term: 7 },
  { type: 'copyChunk', from: 'n0', to: 'n1', term: 7, copy: 2 ** 50, seq: 0, part: 0, offset: 0, data: Buffer.alloc(0), manifest: '{"firstIndex":5}' },
  { type: 'copyChunk', from: 'n0', to: 'n1', term: 7, copy: 3, seq: 9, part: 1, offset: 2 ** 40, data: Buffer.alloc(5000, 7), manifest: '' },
  { type: 'copyAck', from: 'n1', to: 'n0', term: 7, copy: 3, seq: 9, ok: true, reason: '' },
  { type: 'copyAck', from: 'n1', to: 'n0', term: 7, copy: 3, seq: 0, ok: false, reason: 'not a follower of n0' },
];

function plain(m: RaftWireMessage): unknown {
  if (m.type === 'copyChunk') return { ...m, data: Buffer.from(m.data).toString('hex') };
  if (m.type !== 'append') return m;
  return { ...m, entries: m.entries.map((e) => ({ ...e, body: Buffer.from(e.body).toString('hex') })) };
}

t.test('every message type survives encode and decode, -1 and values past 2^32 included', async (t) => {
  for (const m of all) {
    const f = decodeRaftFrame(encodeRaftMessage(m));
    t.equal(f.kind, 'message', m.type);
    if (f.kind === 'message') t.same(plain(f.message), plain(m), `${m.type} round trip`);
  }
});

t.test('hello round trip', async (t) => {
  const h = { group: 'RaftNode00', from: 'n0', to: 'n2', version: RAFT_PROTOCOL_VERSION };
  t.same(decodeRaftFrame(encodeHello(h)), { kind: 'hello', hello: h });
});

t.test('decoded entry bodies are views into the received bytes, not copies', async (t) => {
  const bytes = Buffer.from(encodeRaftMessage(append));
  const f = decodeRaftFrame(bytes);
  if (f.kind !== 'message' || f.message.type !== 'append') throw new Error('not an append');
  const body = f.message.entries[2]!.body;
  t.equal(body.buffer, bytes.buffer, 'same backing memory');
  t.equal(Buffer.from(body).toString('hex'), Buffer.alloc(3000, 0xab).toString('hex'));
});

t.test('an append split into shared entry bytes and a per-follower prefix decodes to the same message', async (t) => {
  const entries = encodeAppendEntries(append.entries);
  for (const to of ['n1', 'n2']) {
    const m = { ...append, to, commit: 1 };
    const f = decodeRaftFrame(Buffer.concat(encodeAppendParts(m, entries)));
    t.same(f.kind === 'message' ? plain(f.message) : f, plain(m), `to ${to}`);
  }
});

t.test('bytes that are not a frame give RaftDecodeError', async (t) => {
  const bad: Array<[string, Uint8Array]> = [
    ['random bytes', Buffer.from('ffffffffffffffffffff01', 'hex')],
    ['an empty frame', Buffer.alloc(0)],
    ['a truncated append', Buffer.from(encodeRaftMessage(append)).subarray(0, 40)],
    ['a frame with an empty sender', encodeRaftMessage({ type: 'heartbeat', from: '', to: 'n1', term: 1, commit: 0 })],
    ['a negative term', encodeRaftMessage({ type: 'heartbeatResponse', from: 'n0', to: 'n1', term: -3 })],
  ];
  for (const [what, bytes] of bad) t.throws(() => decodeRaftFrame(bytes), RaftDecodeError, what);
});

t.test('the frame decoder joins split frames and cuts several frames out of one chunk', async (t) => {
  const frames = all.map((m) => encodeFrame(encodeRaftMessage(m)));
  const stream = Buffer.concat(frames);
  for (const step of [1, 3, 7, 100, stream.length]) {
    const d = new RaftFrameDecoder();
    const out: Buffer[] = [];
    for (let p = 0; p < stream.length; p += step) out.push(...d.push(stream.subarray(p, p + step)));
    t.equal(out.length, all.length, `chunks of ${step}`);
    t.same(out.map((b) => b.toString('hex')), frames.map((f) => f.subarray(4).toString('hex')));
    t.equal(d.pendingBytes, 0);
  }
});

t.test('the frame decoder refuses a length over its limit and an empty frame', async (t) => {
  const d = new RaftFrameDecoder(1024);
  const big = Buffer.alloc(4);
  big.writeUInt32BE(1025, 0);
  t.throws(() => d.push(big), RaftDecodeError);
  t.throws(() => new RaftFrameDecoder().push(Buffer.alloc(4)), RaftDecodeError);
});

t.test('a copy chunk with an unknown part or a negative offset is refused', async (t) => {
  const ok = { type: 'copyChunk', from: 'n0', to: 'n1', term: 1, copy: 1, seq: 1, part: 1, offset: 0, data: Buffer.alloc(1), manifest: '' } as const;
  t.throws(() => decodeRaftFrame(encodeRaftMessage({ ...ok, part: 7 as 1 })), RaftDecodeError);
  t.throws(() => decodeRaftFrame(encodeRaftMessage({ ...ok, offset: -5 })), RaftDecodeError);
});
