import t from 'tap';
import protobuf from 'protobufjs/light.js';
import {
  RAFT_SCHEMA,
  RaftDecodeError,
  decodeRaftFrame,
  decodeRaftFrameGeneric,
  encodeAppendEntries,
  encodeAppendParts,
  encodeRaftMessage,
  type RaftFrame,
  type WireAppendRequest,
  type WireEntry,
} from '../../../protocol/raft/index.js';
import { SeededRandom } from '../../../raft/core/SeededRandom.js';

const root = protobuf.Root.fromJSON(RAFT_SCHEMA as unknown as protobuf.INamespace);
const AppendType = root.lookupType('raftmq.raft.AppendRequest');

/** Numbers as they come: small, around 2^31 and 2^32, up to 2^53 - 1. */
function number(r: SeededRandom): number {
  switch (r.int(5)) {
    case 0:
      return r.int(128);
    case 1:
      return r.int(70_000);
    case 2:
      return 2 ** 31 - 2 + r.int(4);
    case 3:
      return 2 ** 32 - 2 + r.int(4);
    default:
      return Number.MAX_SAFE_INTEGER - r.int(2 ** 30);
  }
}

function randomAppend(r: SeededRandom): WireAppendRequest {
  const n = r.int(4) === 0 ? 0 : 1 + r.int(40);
  const prevIndex = r.int(3) === 0 ? -1 : number(r) - 100;
  const entries: WireEntry[] = [];
  for (let i = 0; i < n; i++) {
    const body = Buffer.alloc(r.int(3) === 0 ? r.int(3) : r.int(3000));
    for (let j = 0; j < body.length; j++) body[j] = r.int(256);
    const e: WireEntry = { index: prevIndex + 1 + i, term: number(r), magic: r.int(2) === 0 ? 1 + r.int(3) : number(r) % 2 ** 31, pos: number(r), body };
    // a body CRC left out, 0 (left out too), or any signed 32-bit value
    const crc = r.int(3);
    if (crc > 0) e.bodyCrc = crc === 1 ? 0 : (r.int(2 ** 16) * 2 ** 16 + r.int(2 ** 16)) | 0;
    entries.push(e);
  }
  return { type: 'append', from: `n${r.int(1000)}`, to: `n${r.int(1000)}`, term: number(r), prevIndex, prevTerm: r.int(3) === 0 ? -1 : number(r), entries, commit: r.int(3) === 0 ? -1 : number(r) };
}

/** A decode's outcome in comparable form: the message with bodies in hex, or the error's class. */
function outcome(f: () => RaftFrame): unknown {
  try {
    const x = f();
    if (x.kind !== 'message' || x.message.type !== 'append') return x;
    return { ...x.message, entries: x.message.entries.map((e) => ({ ...e, body: Buffer.from(e.body).toString('hex') })) };
  } catch (e) {
    return e instanceof RaftDecodeError ? 'RaftDecodeError' : `other: ${(e as Error).message}`;
  }
}

const same = (payload: Buffer): [unknown, unknown] => [outcome(() => decodeRaftFrame(payload)), outcome(() => decodeRaftFrameGeneric(payload))];

t.test('the hand-written entries are byte for byte what protobufjs writes', async (t) => {
  const r = new SeededRandom(11);
  for (let k = 0; k < 300; k++) {
    const m = randomAppend(r);
    const ours = Buffer.from(encodeAppendEntries(m.entries));
    const theirs = Buffer.from(AppendType.encode({ entries: m.entries }).finish());
    if (!ours.equals(theirs)) return t.fail(`append ${k}: ${m.entries.length} entries differ`);
  }
  t.pass('300 random appends');
});

t.test('the fast reader and protobufjs read every append alike', async (t) => {
  const r = new SeededRandom(12);
  for (let k = 0; k < 300; k++) {
    const m = randomAppend(r);
    for (const payload of [Buffer.from(encodeRaftMessage(m)), Buffer.concat(encodeAppendParts(m, encodeAppendEntries(m.entries)))]) {
      const [fast, generic] = same(payload);
      if (JSON.stringify(fast) !== JSON.stringify(generic)) return t.fail(`append ${k}: ${JSON.stringify(fast).slice(0, 200)} against ${JSON.stringify(generic).slice(0, 200)}`);
    }
    t.equal(typeof same(Buffer.from(encodeRaftMessage(m)))[0], 'object');
  }
});

t.test('values the writer does not take go through protobufjs and still decode alike', async (t) => {
  const body = Buffer.from('x');
  for (const e of [
    { index: 0, term: -1, magic: 1, pos: 0, body },
    { index: 0, term: 1, magic: -5, pos: 0, body },
    { index: 0, term: 1, magic: 1, pos: -(2 ** 40), body },
  ]) {
    const m: WireAppendRequest = { type: 'append', from: 'n0', to: 'n1', term: 3, prevIndex: -1, prevTerm: -1, entries: [e], commit: -1 };
    const bytes = Buffer.concat(encodeAppendParts(m, encodeAppendEntries(m.entries)));
    const [fast, generic] = same(bytes);
    t.same(fast, generic, JSON.stringify({ ...e, body: undefined }));
    t.same((fast as WireAppendRequest).entries[0]!.term, e.term);
    t.same((fast as WireAppendRequest).entries[0]!.magic, e.magic);
    t.same((fast as WireAppendRequest).entries[0]!.pos, e.pos);
  }
});

/** An append payload written field by field, for shapes our encoder never makes. */
function frame(write: (w: protobuf.Writer) => void): Buffer {
  const inner = protobuf.Writer.create();
  write(inner);
  const append = inner.finish();
  const w = protobuf.Writer.create();
  w.uint32((4 << 3) | 2).bytes(append);
  return Buffer.from(w.finish());
}

/** A 64-bit value by its two 32-bit halves (2^53 + 1 is not a JS number). */
const long = (low: number, high: number): protobuf.Long => ({ low, high, unsigned: false }) as unknown as protobuf.Long;
const head = (w: protobuf.Writer): protobuf.Writer => w.uint32((1 << 3) | 2).string('n0').uint32((2 << 3) | 2).string('n1').uint32(3 << 3).int64(5);
const entry = (fields: (w: protobuf.Writer) => void): Uint8Array => {
  const w = protobuf.Writer.create();
  fields(w);
  return w.finish();
};

t.test('other shapes: field order, unknown fields, repeats, wrong wire types, bad numbers, non-ASCII ids', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['entry fields in reverse order', frame((w) => head(w).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32((4 << 3) | 2).bytes(Buffer.from('abc')).uint32(3 << 3).int64(99).uint32(2 << 3).int32(1).uint32(1 << 3).int64(5))))],
    ['an entry without a body', frame((w) => head(w).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32(1 << 3).int64(5).uint32(2 << 3).int32(1))))],
    ['an empty entry', frame((w) => head(w).uint32((6 << 3) | 2).bytes(new Uint8Array(0)))],
    ['unknown fields of every wire type', frame((w) => head(w).uint32(9 << 3).uint64(7).uint32((10 << 3) | 1).fixed64(1).uint32((11 << 3) | 2).string('zz').uint32((12 << 3) | 5).fixed32(3).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32(1 << 3).int64(5).uint32((8 << 3) | 5).fixed32(1).uint32((4 << 3) | 2).bytes(Buffer.from('q')))))],
    ['a scalar given twice (the last wins)', frame((w) => head(w).uint32(3 << 3).int64(9).uint32((7 << 3) | 0).sint64(4).uint32((7 << 3) | 0).sint64(6))],
    ['entries between the other fields', frame((w) => head(w).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32(1 << 3).int64(5))).uint32(4 << 3).sint64(10).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32(1 << 3).int64(6))))],
    ['term as a length-delimited field', frame((w) => w.uint32((1 << 3) | 2).string('n0').uint32((2 << 3) | 2).string('n1').uint32((3 << 3) | 2).bytes(Buffer.from([1])))],
    ['an entry term past 2^53', frame((w) => head(w).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32(1 << 3).uint64(long(1, 0x200000)))))],
    ['a prevIndex past 2^53', frame((w) => head(w).uint32(4 << 3).sint64(long(-1, 0xffdfffff | 0)))],
    ['a negative term', frame((w) => w.uint32((1 << 3) | 2).string('n0').uint32((2 << 3) | 2).string('n1').uint32(3 << 3).int64(-2))],
    ['a negative entry pos', frame((w) => head(w).uint32((6 << 3) | 2).bytes(entry((e) => e.uint32(3 << 3).int64(-7))))],
    ['a non-ASCII sender', frame((w) => w.uint32((1 << 3) | 2).string('nö').uint32((2 << 3) | 2).string('n1').uint32(3 << 3).int64(2))],
    ['an empty receiver', frame((w) => w.uint32((1 << 3) | 2).string('n0').uint32(3 << 3).int64(2))],
    ['a group (wire type 3)', frame((w) => head(w).uint32((13 << 3) | 3))],
    ['field number 0', frame((w) => head(w).uint32(0 | 0).uint32(1))],
  ];
  for (const [what, bytes] of cases) {
    const [fast, generic] = same(bytes);
    t.same(fast, generic, what);
  }
  const [reversed] = same(cases[0]![1]);
  t.same((reversed as WireAppendRequest).entries[0], { index: 1, term: 5, magic: 1, pos: 99, body: Buffer.from('abc').toString('hex'), bodyCrc: 0 }, 'fields read whatever their order (prevIndex left out: 0)');
  t.equal(same(cases[7]![1])[0], 'RaftDecodeError', 'a term past 2^53 is refused');
});

t.test('damaged frames: both readers give the same message or both refuse it', async (t) => {
  const r = new SeededRandom(13);
  let refused = 0;
  for (let k = 0; k < 2000; k++) {
    const m = randomAppend(r);
    m.entries = m.entries.slice(0, 3);
    const bytes = Buffer.from(encodeRaftMessage(m));
    const bad = r.int(2) === 0 ? bytes.subarray(0, r.int(bytes.length)) : Buffer.from(bytes);
    if (bad.length === bytes.length) for (let i = 0; i < 1 + r.int(3); i++) bad[r.int(bad.length)] = r.int(256);
    const [fast, generic] = same(bad);
    if (JSON.stringify(fast) !== JSON.stringify(generic)) return t.fail(`case ${k}: ${JSON.stringify(fast).slice(0, 300)} against ${JSON.stringify(generic).slice(0, 300)}`);
    if (fast === 'RaftDecodeError') refused++;
  }
  t.ok(refused > 100 && refused < 2000, `both refused ${refused} of 2000`);
});

t.test('the entry count limit holds on the fast path', async (t) => {
  const e = entry((w) => w.uint32(1 << 3).int64(1));
  const many = frame((w) => {
    head(w);
    for (let i = 0; i < 65537; i++) w.uint32((6 << 3) | 2).bytes(e);
  });
  t.throws(() => decodeRaftFrame(many), RaftDecodeError);
  t.throws(() => decodeRaftFrameGeneric(many), RaftDecodeError);
});

