// Seeded fuzz of the name server's remoting front door: thousands of malformed and odd frames
// on many connections at once. A frame that cannot be decoded must close its own connection
// (one log line) and nothing else; a decodable request must be answered on a connection that
// stays open; a long-lived healthy connection must be served throughout.
// Replay a failure with FUZZ_SEED=<seed> (printed in the test name); FUZZ_FRAMES raises the count.
import { EventEmitter } from 'node:events';
import t from 'tap';
import type { RemotingConnection } from '../../../client/RemotingConnection.js';
import {
  createRequest,
  encodeCommand,
  isResponse,
  SerializeType,
  type RemotingCommand,
} from '../../../protocol/remoting/RemotingCommand.js';
import { RequestCode } from '../../../protocol/remoting/RequestCode.js';
import { ResponseCode } from '../../../protocol/remoting/ResponseCode.js';
import { captureNames, loadCapture } from '../../helpers/fixtures.js';
import { startNamesrv } from '../../helpers/namesrv.js';
import { RawConnection } from '../../helpers/rawConnection.js';

const DEFAULT_SEED = 0x5eed2024;
const SEED = parseSeed(process.env.FUZZ_SEED);
const MIN_FRAMES = Math.max(10_000, Number(process.env.FUZZ_FRAMES ?? 0) || 0);
const MAX_STREAMS = 2 * MIN_FRAMES; // hard bound on connections, whatever the generator does
const CONCURRENCY = 16;
const WAIT_MS = 10_000; // any single wait (generous: the machine may be loaded)
const BUDGET_MS = 100_000; // the whole run (tap gives a file 120 s)
const MAX_FRAME = 16 * 1024 * 1024;
const HEALTHY_EVERY = 50; // streams between two probes on the healthy connection

function parseSeed(s: string | undefined): number {
  if (!s) return DEFAULT_SEED;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer, got "${s}"`);
  return n >>> 0;
}

// ---------------------------------------------------------------------------------------
// PRNG (mulberry32)

class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let x = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }
  /** 0 .. n-1 */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  u32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
  i32(): number {
    return this.u32() | 0;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of table) total += w;
    let x = this.next() * total;
    for (const [w, v] of table) {
      x -= w;
      if (x < 0) return v;
    }
    return (table[table.length - 1] as readonly [number, T])[1];
  }
}

// ---------------------------------------------------------------------------------------
// The oracle: what the spec (§1.2-1.4) and our documented leniencies say about a byte stream.
// Written from the spec, not from the decoder, so that the two can disagree.

interface DecodedVerdict {
  kind: 'request' | 'oneway' | 'response';
  code: number;
  opaque: number;
  ser: number;
  offset: number;
  length: number;
}
type FrameVerdict = { kind: 'bad'; why: string; offset: number } | DecodedVerdict;

interface StreamVerdict {
  frames: FrameVerdict[];
  /** bad: the server must close; partial: it must wait for more; clean: every byte was a whole frame */
  end: 'bad' | 'partial' | 'clean';
}

function judgeStream(b: Buffer): StreamVerdict {
  const frames: FrameVerdict[] = [];
  let p = 0;
  for (;;) {
    if (p === b.length) return { frames, end: 'clean' };
    if (b.length - p < 4) return { frames, end: 'partial' };
    const total = b.readUInt32BE(p);
    if (total < 4 || total > MAX_FRAME) {
      frames.push({ kind: 'bad', why: `length ${total}`, offset: p });
      return { frames, end: 'bad' };
    }
    if (b.length - p - 4 < total) return { frames, end: 'partial' };
    const v = judgeFrame(b.subarray(p + 4, p + 4 + total), p);
    frames.push(v);
    if (v.kind === 'bad') return { frames, end: 'bad' };
    p += 4 + total;
  }
}

function judgeFrame(f: Buffer, offset: number): FrameVerdict {
  const bad = (why: string): FrameVerdict => ({ kind: 'bad', why, offset });
  const word = f.readUInt32BE(0);
  const ser = word >>> 24;
  const h = word & 0xffffff;
  if (h > f.length - 4) return bad('header length past the frame');
  const header = f.subarray(4, 4 + h);
  let head: { code: number; opaque: number; flag: number } | string;
  if (ser === 0) head = judgeJsonHeader(header);
  else if (ser === 1) head = judgeBinaryHeader(header);
  else return bad(`serialize type ${ser}`);
  if (typeof head === 'string') return bad(head);
  const kind = (head.flag & 1) !== 0 ? 'response' : (head.flag & 2) !== 0 ? 'oneway' : 'request';
  return { kind, code: head.code, opaque: head.opaque, ser, offset, length: f.length + 4 };
}

/** The integer rule for code/opaque/flag/version: a number, or a numeric string, that is an int32. */
function int32Of(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : undefined;
}

function judgeJsonHeader(bytes: Buffer): { code: number; opaque: number; flag: number } | string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'JSON does not parse';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'JSON header not an object';
  const o = doc as Record<string, unknown>;
  const field = (k: string, required: boolean): number | string => {
    const v = o[k];
    if (v === undefined || v === null) return required ? `no ${k}` : 0;
    return int32Of(v) ?? `${k} not int32`;
  };
  const code = field('code', true);
  const opaque = field('opaque', false);
  const flag = field('flag', false);
  const version = field('version', false);
  for (const x of [code, opaque, flag, version]) if (typeof x === 'string') return x;
  if (o.remark !== undefined && o.remark !== null) {
    try {
      String(o.remark);
    } catch {
      return 'remark has no string form';
    }
  }
  const ext = o.extFields;
  if (ext !== undefined && ext !== null) {
    if (typeof ext !== 'object' || Array.isArray(ext)) return 'extFields not an object';
    for (const v of Object.values(ext as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object') return 'extFields value not a scalar';
    }
  }
  return { code: code as number, opaque: opaque as number, flag: flag as number };
}

function judgeBinaryHeader(b: Buffer): { code: number; opaque: number; flag: number } | string {
  if (b.length < 21) return 'binary header under 21 bytes';
  const remarkLen = b.readInt32BE(13);
  if (remarkLen < 0 || 17 + remarkLen + 4 > b.length) return 'remark length';
  const extAt = 17 + remarkLen;
  const extLen = b.readInt32BE(extAt);
  if (extLen < 0 || extAt + 4 + extLen !== b.length) return 'ext length';
  let p = extAt + 4;
  while (p < b.length) {
    if (b.length - p < 2) return 'ext entry cut in its key length';
    const k = b.readUInt16BE(p);
    p += 2;
    if (b.length - p < k + 4) return 'ext key past the block';
    p += k;
    const v = b.readInt32BE(p);
    p += 4;
    if (v < 0 || b.length - p < v) return 'ext value past the block';
    p += v;
  }
  return { code: b.readInt16BE(0), opaque: b.readInt32BE(5), flag: b.readInt32BE(9) };
}

// ---------------------------------------------------------------------------------------
// Frame builders and generators

/** The name server's processors and the custom header fields each requires, in schema order. */
const REQUIRED: Readonly<Record<number, readonly string[]>> = {
  [RequestCode.REGISTER_BROKER]: ['brokerName', 'brokerAddr', 'clusterName', 'haServerAddr', 'brokerId'],
  [RequestCode.UNREGISTER_BROKER]: ['brokerName', 'brokerAddr', 'clusterName', 'brokerId'],
  [RequestCode.GET_ROUTEINFO_BY_TOPIC]: ['topic'],
  [RequestCode.GET_TOPICS_BY_CLUSTER]: ['cluster'],
  [RequestCode.PUT_KV_CONFIG]: ['namespace', 'key', 'value'],
  [RequestCode.GET_KV_CONFIG]: ['namespace', 'key'],
  [RequestCode.DELETE_KV_CONFIG]: ['namespace', 'key'],
  [RequestCode.GET_KVLIST_BY_NAMESPACE]: ['namespace'],
  [RequestCode.QUERY_DATA_VERSION]: ['brokerName', 'brokerAddr', 'clusterName', 'brokerId'],
  [RequestCode.WIPE_WRITE_PERM_OF_BROKER]: ['brokerName'],
  [RequestCode.ADD_WRITE_PERM_OF_BROKER]: ['brokerName'],
  [RequestCode.DELETE_TOPIC_IN_NAMESRV]: ['topic'],
};
const HEADERLESS = [RequestCode.GET_BROKER_CLUSTER_INFO, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER];
const REGISTERED = new Set<number>([...Object.keys(REQUIRED).map(Number), ...HEADERLESS]);
const REQUIRED_CODES = Object.keys(REQUIRED).map(Number);

const HEALTHY_NS = 'fuzz-healthy-namespace';
const HEALTHY_TOPIC = 'FuzzHealthyNoSuchTopic';

/** A per-frame expectation beyond the generic ones; returns a problem or undefined. */
type Expect = (r: RemotingCommand) => string | undefined;

interface Gen {
  kind: string;
  bytes: Buffer;
  expect?: Expect;
}

function frameOf(header: Buffer, opts: { ser?: number; body?: Buffer; headerLen?: number; total?: number } = {}): Buffer {
  const body = opts.body ?? Buffer.alloc(0);
  const out = Buffer.alloc(8 + header.length + body.length);
  out.writeUInt32BE(opts.total ?? 4 + header.length + body.length, 0);
  out.writeUInt32BE((((opts.ser ?? 0) & 0xff) << 24 | ((opts.headerLen ?? header.length) & 0xffffff)) >>> 0, 4);
  header.copy(out, 8);
  body.copy(out, 8 + header.length);
  return out;
}

function jsonFrame(obj: unknown, opts: { ser?: number; body?: Buffer; pretty?: boolean } = {}): Buffer {
  return frameOf(Buffer.from(JSON.stringify(obj, null, opts.pretty ? 2 : undefined)), opts);
}

interface BinParts {
  code: number;
  lang?: number;
  version?: number;
  opaque: number;
  flag: number;
  remark?: Buffer;
  remarkLen?: number;
  ext?: Buffer;
  extLen?: number;
}

function binaryHeader(x: BinParts): Buffer {
  const remark = x.remark ?? Buffer.alloc(0);
  const ext = x.ext ?? Buffer.alloc(0);
  const b = Buffer.alloc(21 + remark.length + ext.length);
  b.writeInt16BE((x.code << 16) >> 16, 0);
  b.writeUInt8((x.lang ?? 0) & 0xff, 2);
  b.writeInt16BE(((x.version ?? 409) << 16) >> 16, 3);
  b.writeInt32BE(x.opaque | 0, 5);
  b.writeInt32BE(x.flag | 0, 9);
  b.writeInt32BE((x.remarkLen ?? remark.length) | 0, 13);
  remark.copy(b, 17);
  b.writeInt32BE((x.extLen ?? ext.length) | 0, 17 + remark.length);
  ext.copy(b, 21 + remark.length);
  return b;
}

function extBlock(entries: Array<{ k: Buffer; v: Buffer; kLen?: number; vLen?: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const kl = Buffer.alloc(2);
    kl.writeUInt16BE((e.kLen ?? e.k.length) & 0xffff);
    const vl = Buffer.alloc(4);
    vl.writeInt32BE((e.vLen ?? e.v.length) | 0);
    parts.push(kl, e.k, vl, e.v);
  }
  return Buffer.concat(parts);
}

function extEntries(ext: Record<string, string>): Array<{ k: Buffer; v: Buffer }> {
  return Object.entries(ext).map(([k, v]) => ({ k: Buffer.from(k), v: Buffer.from(v) }));
}

const WORDS = ['FxTopic', 'TBW102', 'DefaultCluster', 'broker-a', '127.0.0.1:10911', 'ns1', 'k', 'v', '0', '-1', 'true', 'é✓', '\u0000', ' ', '%RETRY%g'];
const ODD_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, 1e400, -0, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, '', ' ', 'x', '12', ' 7 ', '0x10', '1e3',
  '-', 'NaN', 'Infinity', [], [1], {}, { a: 1 }, { toString: 1 }, '\u0000', 'é✓\ud800',
];
/** A fresh copy: the edits below mutate what they pick. */
function oddValue(r: Rng): unknown {
  return structuredClone(r.pick(ODD_VALUES));
}
const KEYS = ['code', 'language', 'version', 'opaque', 'flag', 'remark', 'extFields', 'serializeTypeCurrentRPC', '__proto__', 'body'];

function randomOpaque(r: Rng): number {
  return r.chance(0.5) ? r.range(0, 100_000) : r.i32();
}

function requestFlag(r: Rng): number {
  return r.weighted<number>([
    [80, 0],
    [8, 2],
    [4, 1],
    [3, 3],
    [3, 4],
    [2, r.i32()],
  ]);
}

function randomExt(r: Rng, n: number): Record<string, string> {
  const ext: Record<string, string> = {};
  for (let i = 0; i < n; i++) ext[r.chance(0.5) ? r.pick(['topic', 'namespace', 'key', 'value', 'cluster', 'brokerName']) : `k${r.int(20)}`] = r.pick(WORDS) || 'w';
  return ext;
}

function validExtFor(r: Rng, code: number): Record<string, string> {
  const ext: Record<string, string> = {};
  for (const k of REQUIRED[code] ?? []) {
    ext[k] = k === 'brokerId' ? String(r.range(0, 3)) : k === 'namespace' ? r.pick(['ns1', 'ns2', 'ORDER_TOPIC_CONFIG']) : r.pick(WORDS.filter((w) => w.trim() !== '' && w !== '\u0000'));
  }
  return ext;
}

function baseHeader(r: Rng, code: number, ext: Record<string, unknown> | undefined, flag = requestFlag(r)): Record<string, unknown> {
  const h: Record<string, unknown> = { code, language: 'JAVA', version: 409, opaque: randomOpaque(r), flag };
  if (ext) h.extFields = ext;
  h.serializeTypeCurrentRPC = 'JSON';
  return h;
}

/** A well-formed request for a random name server code, in either header encoding. */
function wellFormed(r: Rng, code: number, ext: Record<string, string> | undefined, flag: number): Buffer {
  const body = r.chance(0.2) ? r.bytes(r.range(1, 64)) : undefined;
  if (r.chance(0.3)) {
    return frameOf(binaryHeader({ code, opaque: randomOpaque(r), flag, ext: ext ? extBlock(extEntries(ext)) : undefined }), { ser: 1, body });
  }
  return jsonFrame(baseHeader(r, code, ext, flag), { body, pretty: r.chance(0.1) });
}

interface Captured {
  bytes: Buffer;
  json: Record<string, unknown> | undefined;
}

function loadAllCaptures(): Captured[] {
  const out: Captured[] = [];
  for (const name of captureNames()) {
    for (const f of loadCapture(name)) {
      if (f.dir !== 'c2s' && out.length % 3 !== 0) continue; // mostly requests, some responses
      const hl = f.bytes.readUInt32BE(4) & 0xffffff;
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(f.bytes.subarray(8, 8 + hl).toString('utf8')) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      out.push({ bytes: f.bytes, json });
    }
  }
  return out;
}

function fixLength(b: Buffer): Buffer {
  if (b.length >= 4) b.writeUInt32BE(b.length - 4, 0);
  return b;
}

function mutate(r: Rng, captures: Captured[], c: Captured): { bytes: Buffer; ops: string[] } {
  let b: Buffer = Buffer.from(c.bytes);
  const ops: string[] = [];
  const n = r.chance(0.12) ? 0 : r.range(1, 3);
  for (let i = 0; i < n; i++) {
    const op = r.weighted<string>([
      [10, 'bitflip'],
      [6, 'byte-set'],
      [4, 'truncate-raw'],
      [6, 'truncate-fixed'],
      [5, 'splice'],
      [4, 'insert'],
      [4, 'delete'],
      [4, 'len-delta'],
      [4, 'hdr-delta'],
      [3, 'type-byte'],
      [14, 'json-edit'],
      [5, 'to-binary'],
    ]);
    ops.push(op);
    switch (op) {
      case 'bitflip':
        for (let k = r.range(1, 4); k > 0 && b.length > 0; k--) {
          const at = r.chance(0.3) ? r.int(Math.min(8, b.length)) : r.int(b.length);
          b[at] = (b[at] as number) ^ (1 << r.int(8));
        }
        break;
      case 'byte-set':
        for (let k = r.range(1, 3); k > 0 && b.length > 8; k--) {
          b[r.range(8, b.length - 1)] = r.pick([0x22, 0x7b, 0x7d, 0x3a, 0x2c, 0x5c, 0x00, 0xff, 0x5b, 0x30, r.int(256)]);
        }
        break;
      case 'truncate-raw':
        if (b.length > 1) b = b.subarray(0, r.range(1, b.length - 1));
        break;
      case 'truncate-fixed':
        if (b.length > 5) b = fixLength(Buffer.from(b.subarray(0, r.range(4, b.length - 1))));
        break;
      case 'splice': {
        const other = r.pick(captures).bytes;
        const joined = Buffer.concat([b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length))]);
        b = r.chance(0.6) ? fixLength(joined) : joined;
        break;
      }
      case 'insert': {
        const at = r.int(b.length + 1);
        const joined = Buffer.concat([b.subarray(0, at), r.bytes(r.range(1, 8)), b.subarray(at)]);
        b = r.chance(0.5) ? fixLength(joined) : joined;
        break;
      }
      case 'delete': {
        const at = r.int(b.length);
        const joined = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.range(1, 8)))]);
        b = r.chance(0.5) ? fixLength(joined) : joined;
        break;
      }
      case 'len-delta':
        if (b.length >= 4) b.writeUInt32BE((b.readUInt32BE(0) + r.pick([-8, -3, -1, 1, 2, 7, 1000])) >>> 0, 0);
        break;
      case 'hdr-delta':
        if (b.length >= 8) {
          const w = b.readUInt32BE(4);
          b.writeUInt32BE(((w & 0xff000000) | ((w + r.pick([-20, -2, -1, 1, 3, 0x10000])) & 0xffffff)) >>> 0, 4);
        }
        break;
      case 'type-byte':
        if (b.length >= 5) b[4] = r.pick([1, 2, 0x80, 0xff, r.int(256)]);
        break;
      case 'json-edit': {
        if (!c.json) break;
        const h = structuredClone(c.json);
        const edits = r.range(1, 3);
        for (let e = 0; e < edits; e++) {
          const what = r.int(6);
          if (what === 0) delete h[r.pick(KEYS)];
          else if (what === 1) h[r.pick(KEYS)] = oddValue(r);
          else if (what === 2) h.flag = requestFlag(r);
          else {
            const ext = h.extFields;
            if (ext && typeof ext === 'object' && !Array.isArray(ext)) {
              const keys = Object.keys(ext);
              const k = keys.length > 0 ? r.pick(keys) : 'topic';
              if (what === 3) delete (ext as Record<string, unknown>)[k];
              else if (what === 4) (ext as Record<string, unknown>)[k] = oddValue(r);
              else (ext as Record<string, unknown>)[`x${r.int(5)}`] = r.pick(WORDS);
            } else h.extFields = r.chance(0.5) ? {} : oddValue(r);
          }
        }
        const hl = c.bytes.readUInt32BE(4) & 0xffffff;
        b = jsonFrame(h, { body: c.bytes.subarray(8 + hl) });
        break;
      }
      case 'to-binary': {
        const h = c.json;
        if (!h || typeof h.code !== 'number') break;
        const ext = h.extFields && typeof h.extFields === 'object' ? (h.extFields as Record<string, unknown>) : {};
        const strExt: Record<string, string> = {};
        for (const [k, v] of Object.entries(ext)) if (typeof v === 'string' && v !== '' && k !== '') strExt[k] = v;
        const hl = c.bytes.readUInt32BE(4) & 0xffffff;
        b = frameOf(
          binaryHeader({
            code: h.code,
            opaque: typeof h.opaque === 'number' ? h.opaque : 0,
            flag: typeof h.flag === 'number' ? h.flag : 0,
            ext: extBlock(extEntries(strExt)),
          }),
          { ser: 1, body: c.bytes.subarray(8 + hl) },
        );
        break;
      }
    }
    if (b.length === 0) b = Buffer.from(c.bytes.subarray(0, 1));
  }
  return { bytes: b, ops };
}

function generate(r: Rng, captures: Captured[]): Gen {
  const kind = r.weighted<string>([
    [30, 'capture-mutation'],
    [6, 'random-bytes'],
    [3, 'length-under-4'],
    [3, 'length-over-max'],
    [0.3, 'length-at-max'],
    [3, 'header-len-over-frame'],
    [3, 'unknown-serialize-type'],
    [4, 'json-truncated'],
    [3, 'json-garbage'],
    [3, 'json-not-object'],
    [4, 'json-bad-code'],
    [3, 'json-bad-int-field'],
    [4, 'json-bad-ext'],
    [8, 'json-odd-valid'],
    [6, 'binary-bad'],
    [6, 'binary-valid'],
    [6, 'missing-field'],
    [4, 'unknown-code'],
    [5, 'valid-request'],
    [2, 'truncated'],
  ]);
  switch (kind) {
    case 'capture-mutation': {
      const m = mutate(r, captures, r.pick(captures));
      return { kind: `capture:${m.ops.join('+') || 'as-is'}`, bytes: m.bytes };
    }
    case 'random-bytes': {
      if (r.chance(0.5)) return { kind, bytes: r.bytes(r.range(1, 64)) };
      const n = r.range(4, 60);
      const b = Buffer.concat([Buffer.alloc(4), r.bytes(n)]);
      b.writeUInt32BE(n, 0);
      if (r.chance(0.5)) b[4] = r.pick([0, 1]); // a plausible serialize type, to get past that check
      return { kind, bytes: b };
    }
    case 'length-under-4': {
      const b = Buffer.concat([Buffer.alloc(4), r.bytes(r.range(0, 8))]);
      b.writeUInt32BE(r.range(0, 3), 0);
      return { kind, bytes: b };
    }
    case 'length-over-max': {
      const b = Buffer.concat([Buffer.alloc(4), r.bytes(r.range(0, 16))]);
      b.writeUInt32BE(r.pick([MAX_FRAME + 1, MAX_FRAME + r.range(2, 1 << 20), 0xffffffff, 0x80000000, r.range(MAX_FRAME + 1, 0xffffffff)]) >>> 0, 0);
      return { kind, bytes: b };
    }
    case 'length-at-max': {
      // Exactly the limit is allowed: the server waits for the rest, which never comes.
      const b = jsonFrame(baseHeader(r, RequestCode.GET_BROKER_CLUSTER_INFO, undefined, 0));
      b.writeUInt32BE(MAX_FRAME, 0);
      return { kind, bytes: b };
    }
    case 'header-len-over-frame': {
      const header = Buffer.from(JSON.stringify(baseHeader(r, RequestCode.GET_KV_CONFIG, { namespace: 'ns1', key: 'k' })));
      const body = r.chance(0.5) ? r.bytes(r.range(1, 16)) : undefined;
      const extra = r.pick([1, 2, 17, 1000, 0xffffff - header.length]);
      return { kind, bytes: frameOf(header, { body, headerLen: header.length + (body?.length ?? 0) + extra }) };
    }
    case 'unknown-serialize-type': {
      const ser = r.range(2, 255);
      return { kind, bytes: jsonFrame(baseHeader(r, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'FxTopic' }, 0), { ser }) };
    }
    case 'json-truncated': {
      const text = Buffer.from(JSON.stringify(baseHeader(r, r.pick(REQUIRED_CODES), randomExt(r, r.range(0, 4)))));
      return { kind, bytes: frameOf(text.subarray(0, r.range(0, text.length - 1))) };
    }
    case 'json-garbage': {
      const tokens = ['{', '}', '[', ']', ':', ',', '"code"', '105', '"', '\\', 'null', 'true', ' ', '"extFields"', '{"code":1', '\u00ff'];
      let s = '';
      for (let i = r.range(1, 20); i > 0; i--) s += r.pick(tokens);
      return { kind, bytes: frameOf(r.chance(0.3) ? r.bytes(r.range(1, 40)) : Buffer.from(s)) };
    }
    case 'json-not-object': {
      const text = r.pick(['[]', '1', '"s"', 'null', 'true', '[{"code":105}]', '""', '-0', '[null]', ' 7 ']);
      return { kind, bytes: frameOf(Buffer.from(text)) };
    }
    case 'json-bad-code': {
      const h = baseHeader(r, 105, { topic: 'FxTopic' }, 0);
      if (r.chance(0.3)) delete h.code;
      else h.code = r.pick([null, 'abc', 1.5, true, [], {}, 2 ** 31, -(2 ** 31) - 1, '', ' ', 'NaN', 1e400, '105', ' 0x69 ', '1e2']);
      return { kind, bytes: jsonFrame(h) };
    }
    case 'json-bad-int-field': {
      const h = baseHeader(r, 105, { topic: 'FxTopic' }, 0);
      h[r.pick(['opaque', 'flag', 'version'])] = oddValue(r);
      return { kind, bytes: jsonFrame(h) };
    }
    case 'json-bad-ext': {
      const h = baseHeader(r, r.pick([105, 101, 4242]), undefined, 0);
      h.extFields = r.pick<unknown>([
        'topic=FxTopic',
        1,
        true,
        [],
        ['topic', 'FxTopic'],
        { topic: { name: 'FxTopic' } },
        { topic: ['FxTopic'] },
        { topic: 'FxTopic', nested: { a: { b: 1 } } },
        { a: null, b: [] },
        { __proto__x: {}, topic: 'x' },
      ]);
      return { kind, bytes: jsonFrame(h) };
    }
    case 'json-odd-valid': {
      // Decodable oddities: scalar ext values, numeric strings, unknown keys, odd remark and language.
      const code = r.pick([...REQUIRED_CODES, ...HEADERLESS, 4242, 0, -5]);
      const ext: Record<string, unknown> = validExtFor(r, code);
      if (r.chance(0.5)) ext[r.pick(['queueId', 'brokerId', 'unitMode', 'x'])] = r.pick([3, false, true, null, 1.25, 'str']);
      const h = baseHeader(r, code, ext);
      if (r.chance(0.3)) h.code = String(code);
      if (r.chance(0.3)) h.language = r.pick([9, 'GO', 'HTTP', 'NOT_A_LANGUAGE', 99, null, true]);
      if (r.chance(0.3)) h.remark = r.pick([null, 'r', 12, {}, [1, 2], false]);
      if (r.chance(0.3)) h[`unknown${r.int(3)}`] = oddValue(r);
      if (r.chance(0.2)) delete h.version;
      if (r.chance(0.2)) delete h.opaque;
      return { kind, bytes: jsonFrame(h, { body: r.chance(0.2) ? r.bytes(r.range(1, 32)) : undefined, pretty: r.chance(0.2) }) };
    }
    case 'binary-bad': {
      const ext = extEntries(randomExt(r, r.range(1, 3)));
      const remark = r.chance(0.5) ? Buffer.from('remark') : Buffer.alloc(0);
      const base = { code: r.pick(REQUIRED_CODES), opaque: randomOpaque(r), flag: 0, remark };
      const block = extBlock(ext);
      let header: Buffer;
      switch (r.int(10)) {
        case 0:
          header = r.bytes(r.range(0, 20));
          break;
        case 1:
          header = binaryHeader({ ...base, remarkLen: r.pick([-1, -(2 ** 31), -100]), ext: block });
          break;
        case 2:
          header = binaryHeader({ ...base, remarkLen: remark.length + block.length + r.range(1, 10), ext: block });
          break;
        case 3:
          header = binaryHeader({ ...base, ext: block, extLen: block.length + r.pick([-3, -1, 1, 5, -block.length - 1, 2 ** 30]) });
          break;
        case 4: {
          const cut = block.subarray(0, r.range(1, block.length - 1));
          header = binaryHeader({ ...base, ext: cut });
          break;
        }
        case 5: {
          const e = ext.map((x, i) => (i === ext.length - 1 ? { ...x, kLen: x.k.length + r.range(1, 300) } : x));
          header = binaryHeader({ ...base, ext: extBlock(e) });
          break;
        }
        case 6: {
          const e = ext.map((x, i) => (i === ext.length - 1 ? { ...x, vLen: r.pick([-1, x.v.length + 1, x.v.length + 1000, 2 ** 31 - 1]) } : x));
          header = binaryHeader({ ...base, ext: extBlock(e) });
          break;
        }
        case 7:
          // Trailing bytes after a well-formed ext block: the ext length does not cover the header.
          header = Buffer.concat([binaryHeader({ ...base, ext: r.chance(0.5) ? block : undefined }), r.bytes(r.range(1, 12))]);
          break;
        case 8: {
          // An ext length that ends exactly after the first entry, the other entries left outside it.
          const first = extBlock(ext.slice(0, 1));
          header = binaryHeader({ ...base, ext: Buffer.concat([first, extBlock([{ k: Buffer.from('more'), v: Buffer.from('x') }])]), extLen: first.length });
          break;
        }
        default:
          header = binaryHeader({ ...base, ext: Buffer.concat([block, r.bytes(1)]) });
      }
      return { kind, bytes: frameOf(header, { ser: 1, body: r.chance(0.2) ? r.bytes(8) : undefined }) };
    }
    case 'binary-valid': {
      const code = r.pick([...REQUIRED_CODES, ...HEADERLESS, 4242, -1, 32767]);
      const ext = r.chance(0.7) ? validExtFor(r, code) : randomExt(r, r.range(0, 3));
      const entries = extEntries(ext);
      if (r.chance(0.2)) entries.push({ k: Buffer.alloc(0), v: Buffer.from('empty key') }, { k: Buffer.from('emptyValue'), v: Buffer.alloc(0) });
      const header = binaryHeader({
        code,
        lang: r.int(256),
        version: r.range(-32768, 32767),
        opaque: randomOpaque(r),
        flag: requestFlag(r),
        remark: r.chance(0.3) ? Buffer.from(r.pick(WORDS)) : undefined,
        ext: extBlock(entries),
      });
      return { kind, bytes: frameOf(header, { ser: 1, body: r.chance(0.3) ? r.bytes(r.range(1, 40)) : undefined }) };
    }
    case 'missing-field': {
      const code = r.pick(REQUIRED_CODES);
      const required = REQUIRED[code] as readonly string[];
      const ext = validExtFor(r, code);
      const missing = required.filter((k) => k === required[r.int(required.length)] || r.chance(0.3));
      if (missing.length === 0) missing.push(required[0] as string);
      for (const k of missing) delete ext[k];
      const first = required.find((k) => missing.includes(k)) as string;
      const noExt = Object.keys(ext).length === 0 && r.chance(0.5);
      const expect: Expect = (resp) =>
        resp.code === ResponseCode.SYSTEM_ERROR && resp.remark?.endsWith(`the custom field ${first} is null`)
          ? undefined
          : `missing ${first}: expected SYSTEM_ERROR "... the custom field ${first} is null", got ${resp.code} ${JSON.stringify(resp.remark)}`;
      return { kind, bytes: wellFormed(r, code, noExt ? undefined : ext, 0), expect };
    }
    case 'unknown-code': {
      let code = r.chance(0.5) ? r.range(-32768, 32767) : r.i32();
      if (REGISTERED.has(code)) code = 4242;
      return { kind, bytes: wellFormed(r, (code << 16) >> 16 === code || r.chance(0.5) ? code : 4242, randomExt(r, r.range(0, 2)), 0) };
    }
    case 'valid-request': {
      const code = r.pick([...REQUIRED_CODES.filter((c) => c !== RequestCode.REGISTER_BROKER), ...HEADERLESS]);
      return { kind, bytes: wellFormed(r, code, validExtFor(r, code), requestFlag(r)) };
    }
    default: {
      // truncated: a good request, cut before its end; the server must simply wait.
      const whole = wellFormed(r, RequestCode.GET_KV_CONFIG, { namespace: 'ns1', key: 'k' }, 0);
      return { kind: 'truncated', bytes: whole.subarray(0, r.range(1, whole.length - 1)) };
    }
  }
}

interface Planned {
  index: number;
  bytes: Buffer;
  kinds: string[];
  /** Where the stream is cut into separate writes. */
  cuts: number[];
  /** Yield to the event loop between writes. */
  slow: boolean;
  verdict: StreamVerdict;
  /** expectations by the byte offset of the frame they belong to (when it came out whole) */
  expects: Map<number, { length: number; expect: Expect }>;
}

function plan(r: Rng, captures: Captured[]): { streams: Planned[]; frames: number } {
  const streams: Planned[] = [];
  let frames = 0;
  while (frames < MIN_FRAMES && streams.length < MAX_STREAMS) {
    const want = r.range(1, 6);
    const parts: Buffer[] = [];
    const kinds: string[] = [];
    const expects = new Map<number, { length: number; expect: Expect }>();
    let offset = 0;
    let verdict: StreamVerdict = { frames: [], end: 'clean' };
    for (let i = 0; i < want && verdict.end === 'clean'; i++) {
      const g = generate(r, captures);
      if (g.expect) expects.set(offset, { length: g.bytes.length, expect: g.expect });
      parts.push(g.bytes);
      kinds.push(g.kind);
      offset += g.bytes.length;
      verdict = judgeStream(Buffer.concat(parts));
    }
    frames += parts.length;
    const bytes = Buffer.concat(parts);
    const cuts = Array.from({ length: r.range(0, 2) }, () => r.int(bytes.length + 1)).sort((a, b) => a - b);
    streams.push({ index: streams.length, bytes, kinds, cuts, slow: r.chance(0.1), verdict, expects });
  }
  return { streams, frames };
}

// ---------------------------------------------------------------------------------------
// Running

/** Resolves when cond() holds, re-checked whenever one of the emitters fires one of the events; bounded. */
function when(sources: Array<[EventEmitter, string[]]>, cond: () => boolean, ms: number): Promise<boolean> {
  if (cond()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = (): void => {
      if (cond()) finish(true);
    };
    const finish = (v: boolean): void => {
      clearTimeout(timer);
      for (const [e, names] of sources) for (const n of names) e.off(n, check);
      resolve(v);
    };
    const timer = setTimeout(() => finish(cond()), ms);
    for (const [e, names] of sources) for (const n of names) e.on(n, check);
  });
}

function hexHead(b: Buffer, n = 48): string {
  return b.subarray(0, n).toString('hex') + (b.length > n ? `…(${b.length} bytes)` : '');
}

t.test(`name server survives seeded remoting fuzz (FUZZ_SEED=${SEED})`, async (t) => {
  const started = Date.now();
  const deadline = started + BUDGET_MS;
  const logs: string[] = [];
  const ns = await startNamesrv({ log: (l) => logs.push(l) });
  t.teardown(() => ns.stop());

  // Server-side connection of each client, found by the client's local port. A port the server
  // just closed can come back at once for a new client, so closed entries never count.
  const accepted = new EventEmitter();
  accepted.setMaxListeners(0);
  const serverSide = new Map<number, RemotingConnection>();
  ns.server.onConnection((conn) => {
    serverSide.set(conn.socket.remotePort ?? -1, conn);
    accepted.emit('accept');
  });
  const closedEvents = new EventEmitter();
  ns.server.onConnectionClosed(() => closedEvents.emit('closed'));

  const healthy = await RawConnection.open(ns.port);
  t.teardown(() => healthy.end());
  const put = await healthy.command(
    createRequest({ code: RequestCode.PUT_KV_CONFIG, opaque: 1, extFields: { namespace: HEALTHY_NS, key: 'k', value: 'v' } }),
  );
  t.equal(put.code, ResponseCode.SUCCESS, 'healthy connection: PUT_KV_CONFIG');

  const problems: string[] = [];
  const problem = (s: string): void => {
    if (problems.length < 1000) problems.push(s);
  };
  let healthyOpaque = 1000;
  let healthyProbes = 0;
  const probeHealthy = async (): Promise<void> => {
    const opaque = healthyOpaque++;
    const route = opaque % 2 === 0;
    try {
      const r = route
        ? await healthy.command(createRequest({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, opaque, extFields: { topic: HEALTHY_TOPIC } }), WAIT_MS)
        : await healthy.command(createRequest({ code: RequestCode.GET_KV_CONFIG, opaque, extFields: { namespace: HEALTHY_NS, key: 'k' } }), WAIT_MS);
      const ok = route
        ? r.code === ResponseCode.TOPIC_NOT_EXIST && r.remark?.includes(HEALTHY_TOPIC)
        : r.code === ResponseCode.SUCCESS && r.extFields?.value === 'v';
      if (!ok) problem(`healthy probe ${opaque}: unexpected answer ${r.code} ${JSON.stringify(r.remark)} ${JSON.stringify(r.extFields)}`);
      healthyProbes++;
    } catch (e) {
      problem(`healthy probe ${opaque}: ${(e as Error).message}`);
    }
  };

  const rng = new Rng(SEED);
  const { streams, frames } = plan(rng, loadAllCaptures());

  const stats = { bad: 0, request: 0, oneway: 0, response: 0, partial: 0, answered: 0, streamsBad: 0 };
  const kindCounts = new Map<string, number>();
  for (const s of streams) {
    for (const k of s.kinds) {
      const key = k.startsWith('capture:') ? 'capture-mutation' : k;
      kindCounts.set(key, (kindCounts.get(key) ?? 0) + 1);
    }
    for (const f of s.verdict.frames) stats[f.kind]++;
    if (s.verdict.end === 'partial') stats.partial++;
    if (s.verdict.end === 'bad') stats.streamsBad++;
  }

  const runStream = async (s: Planned): Promise<void> => {
    const where = (): string => `stream ${s.index} [${s.kinds.join(', ')}] end=${s.verdict.end} bytes=${hexHead(s.bytes)}`;
    let c: RawConnection | undefined;
    let port = -1;
    let sconn: RemotingConnection | undefined;
    try {
      c = await RawConnection.open(ns.port);
      port = c.socket.localPort ?? -1;
      const conn = c;
      const live = (): boolean => serverSide.get(port)?.isClosed === false;
      if (!(await when([[accepted, ['accept']]], live, WAIT_MS))) {
        problem(`${where()}: the server never reported the connection`);
        return;
      }
      const server = serverSide.get(port) as RemotingConnection;
      sconn = server;

      let from = 0;
      for (const cut of [...s.cuts, s.bytes.length]) {
        if (cut > from) conn.send(s.bytes.subarray(from, cut));
        from = Math.max(from, cut);
        if (s.slow) await new Promise<void>((r) => setImmediate(r));
      }

      const answers = s.verdict.frames.filter((f) => f.kind === 'request') as DecodedVerdict[];
      const checkAnswers = (got: RemotingCommand[], exact: boolean): void => {
        if (exact ? got.length !== answers.length : got.length > answers.length) {
          problem(`${where()}: ${got.length} answers for ${answers.length} requests (${got.map((g) => g.opaque).join(',')} vs ${answers.map((a) => a.opaque).join(',')})`);
          return;
        }
        got.forEach((resp, i) => {
          const req = answers[i] as (typeof answers)[number];
          if (resp.opaque !== req.opaque) problem(`${where()}: answer ${i} has opaque ${resp.opaque}, expected ${req.opaque}`);
          if (!isResponse(resp)) problem(`${where()}: answer ${i} lacks the response flag`);
          if (resp.serializeType !== req.ser) problem(`${where()}: answer ${i} in serialize type ${resp.serializeType}, request was ${req.ser}`);
          if (!REGISTERED.has(req.code)) {
            if (resp.code !== ResponseCode.REQUEST_CODE_NOT_SUPPORTED || resp.remark !== ` request type ${req.code} not supported`) {
              problem(`${where()}: code ${req.code} answered ${resp.code} ${JSON.stringify(resp.remark)}, expected REQUEST_CODE_NOT_SUPPORTED`);
            }
          } else if (resp.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) {
            problem(`${where()}: registered code ${req.code} answered REQUEST_CODE_NOT_SUPPORTED`);
          }
          const e = s.expects.get(req.offset);
          if (e && e.length === req.length) {
            const why = e.expect(resp);
            if (why) problem(`${where()}: ${why}`);
          }
        });
      };

      if (s.verdict.end === 'bad') {
        try {
          await conn.whenClosed(WAIT_MS);
        } catch {
          problem(`${where()}: bad frame (${(s.verdict.frames.at(-1) as { why: string }).why}) but the server kept the connection open`);
        }
        if (!server.isClosed) problem(`${where()}: the server-side connection is not closed`);
        // Answers to frames before the bad one may be lost when the socket is torn down; none may be extra or wrong.
        checkAnswers(conn.received, false);
        return;
      }

      // The server has read everything we sent: any close it makes happens while reading.
      await when([[server.socket, ['data', 'close']]], () => server.socket.bytesRead >= s.bytes.length || server.isClosed, WAIT_MS);
      if (server.isClosed || conn.closed) {
        problem(`${where()}: the server closed a connection that sent no bad frame (last frames: ${JSON.stringify(s.verdict.frames.slice(-2))})`);
        return;
      }
      if (s.verdict.end === 'partial') {
        await when([[conn.socket, ['data', 'close']]], () => conn.received.length >= answers.length || conn.closed, WAIT_MS);
        checkAnswers(conn.received, true);
        if (server.isClosed) problem(`${where()}: closed while waiting for the rest of a frame`);
        return;
      }
      // clean: a probe after the stream proves the connection is open and everything before it was served.
      const taken = new Set(answers.map((a) => a.opaque));
      let probeOpaque = 0x7ff00000 + s.index;
      while (taken.has(probeOpaque)) probeOpaque++;
      const probe = await conn
        .command(createRequest({ code: RequestCode.GET_KV_CONFIG, opaque: probeOpaque, extFields: { namespace: HEALTHY_NS, key: 'k' } }), WAIT_MS)
        .catch((e: Error) => e);
      if (probe instanceof Error) {
        problem(`${where()}: probe after the stream: ${probe.message}`);
        return;
      }
      if (probe.code !== ResponseCode.SUCCESS || probe.extFields?.value !== 'v') problem(`${where()}: probe answered ${probe.code}`);
      checkAnswers(conn.received.slice(0, -1), true);
    } catch (e) {
      problem(`${where()}: ${(e as Error).stack ?? String(e)}`);
    } finally {
      c?.end();
      if (sconn && serverSide.get(port) === sconn) serverSide.delete(port);
    }
  };

  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= streams.length) return;
      if (Date.now() > deadline) {
        if (i === streams.length - 1 || next === i + 1) problem(`time budget of ${BUDGET_MS} ms exceeded after ${done} streams`);
        next = streams.length;
        return;
      }
      await runStream(streams[i] as Planned);
      done++;
      if (done % HEALTHY_EVERY === 0) await probeHealthy();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  // The healthy connection is still served, in both directions of the route/KV code paths.
  await probeHealthy();
  await probeHealthy();
  t.notOk(healthy.closed, 'the healthy connection was never closed');

  // The same in-process server accepts a new connection and answers well-formed requests in both encodings.
  const fresh = await RawConnection.open(ns.port);
  const kv = await fresh.command(
    createRequest({ code: RequestCode.GET_KV_CONFIG, opaque: 7, extFields: { namespace: HEALTHY_NS, key: 'k' } }),
    WAIT_MS,
  );
  t.equal(kv.code, ResponseCode.SUCCESS, 'new connection: GET_KV_CONFIG answered');
  t.equal(kv.extFields?.value, 'v', 'with the value put at the start');
  const route = await fresh.command(
    createRequest({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, opaque: 8, serializeType: SerializeType.ROCKETMQ, extFields: { topic: HEALTHY_TOPIC } }),
    WAIT_MS,
  );
  t.equal(route.code, ResponseCode.TOPIC_NOT_EXIST, 'new connection: binary GET_ROUTEINFO_BY_TOPIC answered');
  t.equal(route.serializeType, SerializeType.ROCKETMQ, 'in the binary header');
  fresh.end();

  const settled = await when([[closedEvents, ['closed']]], () => ns.server.connectionCount === 1, 5000);
  t.ok(settled, `the server's connections return to the healthy one (now ${ns.server.connectionCount})`);

  const badLines = logs.filter((l) => l.includes('bad frame'));
  t.equal(badLines.length, stats.streamsBad, 'one log line per connection closed for a bad frame');
  t.ok(
    badLines.every((l) => /^closing connection 127\.0\.0\.1:\d+: bad frame: /.test(l)),
    'each names the connection and says bad frame',
  );

  t.ok(frames >= MIN_FRAMES, `${frames} frames thrown (>= ${MIN_FRAMES})`);
  t.ok(healthyProbes >= Math.floor(streams.length / HEALTHY_EVERY), `healthy connection probed ${healthyProbes} times during the run`);
  // The generator must not degenerate into one class.
  t.ok(stats.bad >= 1000, `bad frames: ${stats.bad}`);
  t.ok(stats.request >= 1000, `decodable requests: ${stats.request}`);
  t.ok(stats.oneway + stats.response >= 100, `oneway or response-flag frames: ${stats.oneway + stats.response}`);
  t.ok(stats.partial >= 50, `streams ending in a partial frame: ${stats.partial}`);
  t.same(problems.slice(0, 20), [], `no problems (${problems.length} in all)`);
  t.ok(Date.now() - started < BUDGET_MS, `finished within ${BUDGET_MS} ms`);
  t.comment(
    `seed ${SEED}: ${streams.length} connections, ${frames} frames; ${stats.bad} bad, ${stats.request} requests, ` +
      `${stats.oneway} oneway, ${stats.response} response-flag, ${stats.partial} partial; ${Date.now() - started} ms`,
  );
  t.comment(`kinds: ${[...kindCounts].map(([k, n]) => `${k}=${n}`).join(' ')}`);
});
