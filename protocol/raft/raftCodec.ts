// Raft peer messages <-> bytes. A frame on the wire is a 4-byte big-endian length, then one
// protobuf `Frame` (raftSchema.ts). Entry bodies are protobuf `bytes`: encoded by one copy into
// the frame, decoded as views into the received buffer (no copy). The message shapes mirror
// raft/core's RaftMessage (protocol imports nothing of ours; raft/transport checks they agree).
import protobuf from 'protobufjs/light.js';
import { RAFT_PROTOCOL_VERSION, RAFT_SCHEMA } from './raftSchema.js';
import { APPEND_FRAME_TAG, putVarint, readAppendFrame, varintSize, writeAppendEntries, type AppendFields } from './appendWire.js';
import { asBuffer } from '../bytes.js';

export interface WireEntry {
  index: number;
  term: number;
  magic: number;
  pos: number;
  body: Uint8Array;
  /** the body's CRC-32 (signed) as the sender's log stores it; absent or 0: not given */
  bodyCrc?: number;
}

interface Envelope {
  from: string;
  to: string;
  term: number;
}

export interface WireVoteRequest extends Envelope {
  type: 'vote';
  pre: boolean;
  lastIndex: number;
  lastTerm: number;
  /** a campaign the leader asked for (TimeoutNow): voters grant despite their lease */
  transfer?: boolean;
}
export interface WireVoteResponse extends Envelope {
  type: 'voteResponse';
  pre: boolean;
  granted: boolean;
}
export interface WireAppendRequest extends Envelope {
  type: 'append';
  prevIndex: number;
  prevTerm: number;
  entries: WireEntry[];
  commit: number;
}
export interface WireAppendResponse extends Envelope {
  type: 'appendResponse';
  success: boolean;
  index: number;
  conflictTerm: number;
  conflictIndex: number;
}
export interface WireHeartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
}
export interface WireHeartbeatResponse extends Envelope {
  type: 'heartbeatResponse';
  /** the follower's last index, so a leader notices a follower that lost entries */
  lastIndex?: number;
}
/** Leadership transfer: the receiver campaigns at once (raft/core adds it; the wire has it already). */
export interface WireTimeoutNow extends Envelope {
  type: 'timeoutNow';
}

/** What one CopyChunk carries (raft/node/SegmentCopy.ts). */
export const CopyPart = { BEGIN: 0, LOG: 1, SNAPSHOT: 2, END: 3 } as const;
export type CopyPartValue = (typeof CopyPart)[keyof typeof CopyPart];

/** Segment copy, leader -> follower: one piece of the leader's log or of the application snapshot. */
export interface WireCopyChunk extends Envelope {
  type: 'copyChunk';
  /** the copy's id (leader-chosen), the same on every chunk of one copy */
  copy: number;
  /** 0, 1, 2, ... in order; the follower acknowledges each */
  seq: number;
  part: CopyPartValue;
  /** LOG: log position of data[0]; SNAPSHOT: byte offset in the snapshot */
  offset: number;
  data: Uint8Array;
  /** BEGIN: the copy's manifest as JSON */
  manifest: string;
}
export interface WireCopyAck extends Envelope {
  type: 'copyAck';
  copy: number;
  seq: number;
  ok: boolean;
  /** why the follower gives up on this copy (ok false) */
  reason: string;
}

export type RaftWireMessage =
  | WireCopyChunk
  | WireCopyAck
  | WireVoteRequest
  | WireVoteResponse
  | WireAppendRequest
  | WireAppendResponse
  | WireHeartbeat
  | WireHeartbeatResponse
  | WireTimeoutNow;

export type RaftWireType = RaftWireMessage['type'];

/** First frame on every link: who dials whom, in which group. */
export interface RaftHello {
  group: string;
  from: string;
  to: string;
  version: number;
}

export type RaftFrame = { kind: 'hello'; hello: RaftHello } | { kind: 'message'; message: RaftWireMessage };

/** Bytes that are not a Raft frame. The link that sent them is closed; other links go on. */
export class RaftDecodeError extends Error {
  override readonly name = 'RaftDecodeError';
  readonly code = 'ERR_RAFTMQ_RAFT_DECODE';
}

export const FRAME_HEADER_SIZE = 4;
/** Largest frame accepted: an AppendRequest is capped by the core's maxBytesPerAppend (1 MiB by default). */
export const DEFAULT_MAX_RAFT_FRAME = 64 * 1024 * 1024;
/** Most entries one AppendRequest may carry. */
export const MAX_WIRE_ENTRIES = 65536;
const MAX_ID_LENGTH = 64;
const EMPTY = Buffer.alloc(0);

const root = protobuf.Root.fromJSON(RAFT_SCHEMA as unknown as protobuf.INamespace);
const FrameType = root.lookupType('raftmq.raft.Frame');

const TYPES: readonly RaftWireType[] = ['vote', 'voteResponse', 'append', 'appendResponse', 'heartbeat', 'heartbeatResponse', 'timeoutNow', 'copyChunk', 'copyAck'];
/** Largest manifest or reason string accepted. */
const MAX_COPY_TEXT = 64 * 1024;

/** The protobuf payload of one message (no length prefix). Entry indexes are implied by prevIndex. */
export function encodeRaftMessage(m: RaftWireMessage): Uint8Array {
  // The generated encoder reads only the schema's fields, so the message goes in as it is.
  switch (m.type) {
    case 'vote':
      return FrameType.encode({ vote: m }).finish();
    case 'voteResponse':
      return FrameType.encode({ voteResponse: m }).finish();
    case 'append':
      return FrameType.encode({ append: m }).finish();
    case 'appendResponse':
      return FrameType.encode({ appendResponse: m }).finish();
    case 'heartbeat':
      return FrameType.encode({ heartbeat: m }).finish();
    case 'heartbeatResponse':
      return FrameType.encode({ heartbeatResponse: { ...m, lastIndexPlusTwo: m.lastIndex === undefined ? 0 : m.lastIndex + 2 } }).finish();
    case 'timeoutNow':
      return FrameType.encode({ timeoutNow: m }).finish();
    case 'copyChunk':
      return FrameType.encode({ copyChunk: m }).finish();
    case 'copyAck':
      return FrameType.encode({ copyAck: m }).finish();
    default:
      throw new RaftDecodeError(`cannot encode message type ${(m as { type: unknown }).type}`);
  }
}

const AppendType = root.lookupType('raftmq.raft.AppendRequest');

/**
 * The `entries` field of an AppendRequest on its own. Protobuf fields may come in any order and
 * concatenate, so the same bytes serve every follower that is sent these entries
 * (encodeAppendParts); only the small header differs.
 */
export function encodeAppendEntries(entries: readonly WireEntry[]): Uint8Array {
  return writeAppendEntries(entries) ?? AppendType.encode({ entries }).finish();
}

/** An AppendRequest frame payload as [prefix, entriesBytes]: back to back they decode to the same message as encodeRaftMessage(m). */
export function encodeAppendParts(m: WireAppendRequest, entriesBytes: Uint8Array): [Uint8Array, Uint8Array] {
  const head = AppendType.encode({ from: m.from, to: m.to, term: m.term, prevIndex: m.prevIndex, prevTerm: m.prevTerm, commit: m.commit }).finish();
  const inner = head.length + entriesBytes.length;
  const prefix = Buffer.allocUnsafe(1 + varintSize(inner) + head.length);
  prefix[0] = APPEND_FRAME_TAG;
  prefix.set(head, putVarint(prefix, 1, inner));
  return [prefix, entriesBytes];
}

export function encodeHello(h: RaftHello): Uint8Array {
  return FrameType.encode({ hello: h }).finish();
}

/** The 4-byte length prefix for a payload. */
export function frameHeader(payloadLength: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  b.writeUInt32BE(payloadLength, 0);
  return b;
}

/** Prefix + payload in one buffer (tests, small frames). */
export function encodeFrame(payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b.set(payload, FRAME_HEADER_SIZE);
  return b;
}

type Long = { toNumber(): number };
type Obj = Record<string, unknown>;

/** Decodes one payload. Throws RaftDecodeError for anything that is not a well-formed frame. */
export function decodeRaftFrame(payload: Uint8Array): RaftFrame {
  const buf = asBuffer(payload);
  const a = readAppendFrame(buf, MAX_WIRE_ENTRIES);
  if (a) return { kind: 'message', message: appendFromFields(a) };
  return decodeRaftFrameGeneric(payload);
}

/** decodeRaftFrame without the AppendRequest fast path: every frame through protobufjs (tests compare the two). */
export function decodeRaftFrameGeneric(payload: Uint8Array): RaftFrame {
  let f: Obj;
  try {
    f = FrameType.decode(payload) as unknown as Obj;
  } catch (e) {
    throw new RaftDecodeError(`undecodable frame of ${payload.length} bytes: ${(e as Error).message}`);
  }
  const h = own(f, 'hello');
  if (h) {
    return { kind: 'hello', hello: { group: str(h, 'group', 256), from: id(h, 'from'), to: id(h, 'to'), version: int(h, 'version') } };
  }
  for (const type of TYPES) {
    const m = own(f, type);
    if (m) return { kind: 'message', message: decodeMessage(type, m) };
  }
  throw new RaftDecodeError(`frame of ${payload.length} bytes carries no known message`);
}

function decodeMessage(type: RaftWireType, m: Obj): RaftWireMessage {
  // checked by the same code as the fast reader's appends
  if (type === 'append') return appendFromFields(appendFieldsOf(m));
  const from = id(m, 'from');
  const to = id(m, 'to');
  const term = int(m, 'term');
  if (term < 0) throw new RaftDecodeError(`term ${term} is negative`);
  switch (type) {
    case 'vote':
      return bool(m, 'transfer')
        ? { type, from, to, term, pre: bool(m, 'pre'), lastIndex: int(m, 'lastIndex'), lastTerm: int(m, 'lastTerm'), transfer: true }
        : { type, from, to, term, pre: bool(m, 'pre'), lastIndex: int(m, 'lastIndex'), lastTerm: int(m, 'lastTerm') };
    case 'voteResponse':
      return { type, from, to, term, pre: bool(m, 'pre'), granted: bool(m, 'granted') };
    case 'appendResponse':
      return {
        type,
        from,
        to,
        term,
        success: bool(m, 'success'),
        index: int(m, 'index'),
        conflictTerm: int(m, 'conflictTerm'),
        conflictIndex: int(m, 'conflictIndex'),
      };
    case 'heartbeat':
      return { type, from, to, term, commit: int(m, 'commit') };
    case 'heartbeatResponse': {
      const plusTwo = int(m, 'lastIndexPlusTwo');
      return plusTwo > 0 ? { type, from, to, term, lastIndex: plusTwo - 2 } : { type, from, to, term };
    }
    case 'timeoutNow':
      return { type, from, to, term };
    case 'copyChunk': {
      const part = int(m, 'part');
      if (part < CopyPart.BEGIN || part > CopyPart.END) throw new RaftDecodeError(`copy chunk part ${part} is unknown`);
      let data = m['data'];
      if (!(data instanceof Uint8Array)) {
        if (data === undefined || (Array.isArray(data) && data.length === 0)) data = EMPTY;
        else throw new RaftDecodeError('copy chunk data is not bytes');
      }
      const offset = int(m, 'offset');
      if (offset < 0) throw new RaftDecodeError(`copy chunk offset ${offset} is negative`);
      return { type, from, to, term, copy: int(m, 'copy'), seq: int(m, 'seq'), part: part as CopyPartValue, offset, data: data as Uint8Array, manifest: optStr(m, 'manifest', MAX_COPY_TEXT) };
    }
    case 'copyAck':
      return { type, from, to, term, copy: int(m, 'copy'), seq: int(m, 'seq'), ok: bool(m, 'ok'), reason: optStr(m, 'reason', MAX_COPY_TEXT) };
  }
}

/** protobufjs's AppendRequest in the fast reader's form (numbers NaN where not safe, for appendFromFields). */
function appendFieldsOf(m: Obj): AppendFields {
  const raw = m['entries'];
  const list = Array.isArray(raw) ? (raw as Obj[]) : [];
  const f: AppendFields = { from: m['from'] as string, to: m['to'] as string, term: num(m, 'term'), prevIndex: num(m, 'prevIndex'), prevTerm: num(m, 'prevTerm'), commit: num(m, 'commit'), terms: [], magics: [], positions: [], bodies: [], bodyCrcs: [] };
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    let body = e['body'];
    // an empty body may be left out on the wire; the decoder then shows a default that is not bytes
    if (!(body instanceof Uint8Array)) {
      if (Array.isArray(body) && body.length === 0) body = EMPTY;
      else throw new RaftDecodeError(`entry ${i} has no body bytes`);
    }
    f.terms.push(num(e, 'term'));
    f.magics.push(num(e, 'magic'));
    f.positions.push(num(e, 'pos'));
    f.bodies.push(body as Uint8Array);
    f.bodyCrcs.push(num(e, 'bodyCrc') | 0);
  }
  return f;
}

/** An AppendRequest from either reader, checked. */
function appendFromFields(a: AppendFields): WireAppendRequest {
  const from = idValue(a.from, 'from');
  const to = idValue(a.to, 'to');
  const term = safe(a.term, 'term');
  if (term < 0) throw new RaftDecodeError(`term ${term} is negative`);
  const prevIndex = safe(a.prevIndex, 'prevIndex');
  const n = a.terms.length;
  if (n > MAX_WIRE_ENTRIES) throw new RaftDecodeError(`${n} entries exceed ${MAX_WIRE_ENTRIES} per append`);
  const entries = new Array<WireEntry>(n);
  for (let i = 0; i < n; i++) {
    entries[i] = { index: prevIndex + 1 + i, term: safe(a.terms[i]!, 'term'), magic: safe(a.magics[i]!, 'magic'), pos: safe(a.positions[i]!, 'pos'), body: a.bodies[i]!, bodyCrc: a.bodyCrcs[i]! };
  }
  return { type: 'append', from, to, term, prevIndex, prevTerm: safe(a.prevTerm, 'prevTerm'), entries, commit: safe(a.commit, 'commit') };
}

function safe(n: number, k: string): number {
  if (!Number.isSafeInteger(n)) throw new RaftDecodeError(`field ${k} is not a safe integer`);
  return n;
}

/** A string field that proto3 leaves out when empty. */
function optStr(o: Obj, k: string, max: number): string {
  return o[k] === undefined || o[k] === '' ? '' : str(o, k, max);
}

function own(o: Obj, k: string): Obj | undefined {
  const v = Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
  return v && typeof v === 'object' ? (v as Obj) : undefined;
}

/** A number field as protobufjs gives it (a number or a Long); NaN when it is neither. */
function num(o: Obj, k: string): number {
  const v = o[k];
  return typeof v === 'number' ? v : v && typeof v === 'object' ? (v as Long).toNumber() : NaN;
}

function int(o: Obj, k: string): number {
  return safe(num(o, k), k);
}

function bool(o: Obj, k: string): boolean {
  return o[k] === true;
}

function str(o: Obj, k: string, max: number): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) throw new RaftDecodeError(`field ${k} is not a string of at most ${max} characters`);
  return v;
}

function id(o: Obj, k: string): string {
  return idValue(o[k], k);
}

function idValue(v: unknown, k: string): string {
  if (typeof v !== 'string' || v.length > MAX_ID_LENGTH) throw new RaftDecodeError(`field ${k} is not a string of at most ${MAX_ID_LENGTH} characters`);
  if (v.length === 0) throw new RaftDecodeError(`field ${k} is empty`);
  return v;
}

export { RAFT_PROTOCOL_VERSION };

/**
 * Cuts a byte stream into frame payloads. Payloads inside one chunk are views into it; a frame
 * split across chunks is joined once. A length over the limit throws RaftDecodeError (the
 * decoder is unusable afterwards; the link is closed).
 */
export class RaftFrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrame: number = DEFAULT_MAX_RAFT_FRAME) {}

  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf: Buffer;
    if (this.buffered === 0) buf = chunk;
    else {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      // wait until the whole frame is here before joining the pieces
      if (this.buffered < FRAME_HEADER_SIZE) return out;
      const need = FRAME_HEADER_SIZE + this.checked(this.peekLength());
      if (this.buffered < need) return out;
      buf = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    let p = 0;
    while (buf.length - p >= FRAME_HEADER_SIZE) {
      const len = this.checked(buf.readUInt32BE(p));
      if (buf.length - p - FRAME_HEADER_SIZE < len) break;
      out.push(buf.subarray(p + FRAME_HEADER_SIZE, p + FRAME_HEADER_SIZE + len));
      p += FRAME_HEADER_SIZE + len;
    }
    if (p < buf.length) {
      this.chunks = [p === 0 ? buf : buf.subarray(p)];
      this.buffered = buf.length - p;
    }
    return out;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= FRAME_HEADER_SIZE) return first.readUInt32BE(0);
    return Buffer.concat(this.chunks, this.buffered).readUInt32BE(0);
  }

  private checked(len: number): number {
    if (len === 0) throw new RaftDecodeError('empty frame');
    if (len > this.maxFrame) throw new RaftDecodeError(`frame of ${len} bytes exceeds the limit of ${this.maxFrame}`);
    return len;
  }
}
