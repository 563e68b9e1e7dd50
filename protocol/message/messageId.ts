// Message ids. The offset message id (broker side) names a record by store host and
// commit-log offset; UNIQ_KEY (client side, the user-visible msgId) is only unique.
import { encodeHostAddress, formatIp, parseIp, type HostAddress, type HostInput } from './hostAddress.js';
import { checkSafeInt64, readSafeInt64 } from './int64.js';
import { MessageFormatError } from './MessageFormatError.js';

export interface OffsetMsgId extends HostAddress {
  /** commit-log (physical) offset of the record */
  offset: number;
}

/**
 * hex_upper(store IP 4|16 bytes, port i32, commit-log offset i64): 32 hex chars for IPv4,
 * 56 for IPv6. `storeHost` may be pre-encoded (encodeHostAddress / the record's bytes).
 */
export function encodeOffsetMsgId(storeHost: HostInput, commitLogOffset: number): string {
  checkSafeInt64(commitLogOffset, 'commitLogOffset');
  if (commitLogOffset < 0) {
    throw new MessageFormatError('VALUE_OUT_OF_RANGE', `commitLogOffset must not be negative, got ${commitLogOffset}`);
  }
  const host = storeHost instanceof Uint8Array ? storeHost : encodeHostAddress(storeHost);
  if (host.length !== 8 && host.length !== 20) {
    throw new MessageFormatError('BAD_ADDRESS', `store host must be 8 or 20 encoded bytes, got ${host.length}`);
  }
  const hi = Math.floor(commitLogOffset / 4294967296);
  return hostHex(host) + hex32(hi) + hex32(commitLogOffset - hi * 4294967296);
}

// A broker names every record with the same store host: its hex is kept, and offsets are hexed
// a byte at a time from a table (one id per stored message).
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
let lastHost: Uint8Array = new Uint8Array(0);
let lastHostHex = '';

function hostHex(host: Uint8Array): string {
  let same = host.length === lastHost.length;
  for (let i = 0; same && i < host.length; i++) same = host[i] === lastHost[i];
  if (!same) {
    let s = '';
    for (let i = 0; i < host.length; i++) s += HEX_BYTE[host[i]!];
    lastHost = Uint8Array.from(host);
    lastHostHex = s;
  }
  return lastHostHex;
}

function hex32(v: number): string {
  return HEX_BYTE[(v >>> 24) & 0xff]! + HEX_BYTE[(v >>> 16) & 0xff]! + HEX_BYTE[(v >>> 8) & 0xff]! + HEX_BYTE[v & 0xff]!;
}

const HEX = /^[0-9a-fA-F]*$/;

export function decodeOffsetMsgId(id: string): OffsetMsgId {
  if ((id.length !== 32 && id.length !== 56) || !HEX.test(id)) {
    throw new MessageFormatError('BAD_MESSAGE_ID', `offset message id ${JSON.stringify(id)} is not 32 or 56 hex chars`);
  }
  const bytes = Buffer.from(id, 'hex');
  const ipLen = bytes.length - 12;
  return {
    address: formatIp(bytes.subarray(0, ipLen)),
    port: bytes.readInt32BE(ipLen),
    offset: readSafeInt64(bytes, ipLen + 4, 'commitLogOffset'),
  };
}

/** The fields of a Java-layout UNIQ_KEY. */
export interface UniqKeyParts {
  /** IP text, or its 4/16 bytes */
  ip: string | Uint8Array;
  /** process id; only the low 16 bits are kept */
  pid: number;
  /** a per-process u32 (Java: the class loader's hash code; Go: 0) */
  processValue: number;
  /** ms since the start of the current month, taken modulo 2^32 */
  monthMillis: number;
  /** per-process counter; only the low 16 bits are kept */
  counter: number;
}

/** UNIQ_KEY layout: IP (4|16) | pid u16 | processValue u32 | monthMillis u32 | counter u16, upper-case hex. */
export function encodeUniqKey(parts: UniqKeyParts): string {
  const ip = typeof parts.ip === 'string' ? parseIp(parts.ip) : parts.ip;
  if (ip.length !== 4 && ip.length !== 16) {
    throw new MessageFormatError('BAD_ADDRESS', `UNIQ_KEY ip must be 4 or 16 bytes, got ${ip.length}`);
  }
  const buf = Buffer.alloc(ip.length + 12);
  buf.set(ip, 0);
  buf.writeUInt16BE(parts.pid & 0xffff, ip.length);
  buf.writeUInt32BE(parts.processValue >>> 0, ip.length + 2);
  buf.writeUInt32BE(parts.monthMillis >>> 0, ip.length + 6);
  buf.writeUInt16BE(parts.counter & 0xffff, ip.length + 10);
  return buf.toString('hex').toUpperCase();
}

export interface ParsedUniqKey {
  ip: string;
  pid: number;
  processValue: number;
  monthMillis: number;
  counter: number;
}

/**
 * Reads a UNIQ_KEY in Java's layout (32 or 56 hex chars, any case: Go mixes cases). Returns
 * undefined for anything else: a UNIQ_KEY is an opaque string to the broker, and other
 * clients (gRPC: 34 chars) use other layouts.
 */
export function parseUniqKey(key: string): ParsedUniqKey | undefined {
  if ((key.length !== 32 && key.length !== 56) || !HEX.test(key)) return undefined;
  const buf = Buffer.from(key, 'hex');
  const ipLen = buf.length - 12;
  return {
    ip: formatIp(buf.subarray(0, ipLen)),
    pid: buf.readUInt16BE(ipLen),
    processValue: buf.readUInt32BE(ipLen + 2),
    monthMillis: buf.readUInt32BE(ipLen + 6),
    counter: buf.readUInt16BE(ipLen + 10),
  };
}

/** [start, end) of the calendar month containing a time, in ms. */
export interface MonthBounds {
  start: number;
  end: number;
}

/** Month bounds in the process's local time zone, as Java's Calendar computes them. */
export function localMonthBounds(nowMs: number): MonthBounds {
  const d = new Date(nowMs);
  return {
    start: new Date(d.getFullYear(), d.getMonth(), 1).getTime(),
    end: new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime(),
  };
}

export interface UniqKeyGeneratorOptions {
  ip: string | Uint8Array;
  pid: number;
  processValue: number;
  /** month bounds for a time; local time by default (inject for tests or a fixed zone) */
  monthBounds?: (nowMs: number) => MonthBounds;
}

/**
 * Generates UNIQ_KEYs for messages that arrive without one. Keeps only a counter and the
 * current month's bounds; the caller passes the clock, so it stays deterministic.
 */
export class UniqKeyGenerator {
  private readonly prefix: string;
  private readonly monthBounds: (nowMs: number) => MonthBounds;
  private month: MonthBounds = { start: 0, end: 0 };
  private counter = 0;

  constructor(options: UniqKeyGeneratorOptions) {
    // ip, pid and processValue never change: hex them once.
    const head = encodeUniqKey({ ip: options.ip, pid: options.pid, processValue: options.processValue, monthMillis: 0, counter: 0 });
    this.prefix = head.slice(0, head.length - 12);
    this.monthBounds = options.monthBounds ?? localMonthBounds;
  }

  next(nowMs: number): string {
    if (nowMs < this.month.start || nowMs >= this.month.end) this.month = this.monthBounds(nowMs);
    const monthMillis = (nowMs - this.month.start) >>> 0;
    const counter = this.counter;
    this.counter = (counter + 1) & 0xffff;
    return this.prefix + hex32(monthMillis) + HEX_BYTE[counter >>> 8]! + HEX_BYTE[counter & 0xff]!;
  }
}
