// RemotingCommand: one request or response of the RocketMQ remoting protocol, and its two
// header encodings (JSON = serialize type 0, ROCKETMQ binary = 1).
import { FrameError } from './errors.js';
import { writeJsonHeader } from './jsonHeader.js';
import { readU32BE, writeI32BE } from '../bytes.js';
import { languageFromByte, languageToByte } from './LanguageCode.js';

export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

export const RPC_TYPE_RESPONSE = 0x1;
export const RPC_ONEWAY = 0x2;

/** MQVersion ordinal of RocketMQ 4.9.8; what we announce in every command we send. */
export const OUR_VERSION = 409;

export type ExtFields = Record<string, string>;

export interface RemotingCommand {
  code: number;
  /** LanguageCode name, e.g. "JAVA" */
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark?: string | undefined;
  extFields?: ExtFields | undefined;
  serializeType: SerializeType;
  body?: Buffer | undefined;
  /**
   * Called once the connection is done with `body` (the socket took the frame, or the
   * connection was closed): the body's memory may be reused from then on. Not part of the frame.
   */
  onWritten?: (() => void) | undefined;
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_TYPE_RESPONSE) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_ONEWAY) !== 0;
}

export interface NewRequest {
  code: number;
  extFields?: ExtFields | undefined;
  body?: Buffer | undefined;
  oneway?: boolean;
  serializeType?: SerializeType;
  opaque?: number;
}

export function createRequest(req: NewRequest): RemotingCommand {
  return {
    code: req.code,
    language: 'JAVA',
    version: OUR_VERSION,
    opaque: req.opaque ?? 0,
    flag: req.oneway ? RPC_ONEWAY : 0,
    extFields: req.extFields,
    serializeType: req.serializeType ?? SerializeType.JSON,
    body: req.body,
  };
}

/** A response to `request`: same opaque and serialize type, response bit set. */
export function createResponse(
  request: RemotingCommand,
  code: number,
  opts: { remark?: string | undefined; extFields?: ExtFields | undefined; body?: Buffer | undefined; onWritten?: (() => void) | undefined } = {},
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: OUR_VERSION,
    opaque: request.opaque,
    flag: RPC_TYPE_RESPONSE,
    remark: opts.remark,
    extFields: opts.extFields,
    serializeType: request.serializeType,
    body: opts.body,
    onWritten: opts.onWritten,
  };
}

// ---------------------------------------------------------------------------------------
// Encoding

/** The frame as two buffers, [length prefix + header, body], so a socket can write the body without a copy. */
export function encodeCommandParts(cmd: RemotingCommand): Buffer[] {
  const bodyLength = cmd.body?.length ?? 0;
  let head: Buffer;
  let headerLength: number;
  if (cmd.serializeType === SerializeType.ROCKETMQ) {
    const header = encodeBinaryHeader(cmd);
    headerLength = header.length;
    head = Buffer.allocUnsafe(8 + headerLength);
    header.copy(head, 8);
  } else {
    const end = writeJsonHeader(cmd, jsonScratch, 8);
    if (end >= 0) {
      headerLength = end - 8;
      head = Buffer.allocUnsafe(end);
      jsonScratch.copy(head, 8, 8, end);
    } else {
      const text = jsonHeaderText(cmd);
      headerLength = Buffer.byteLength(text, 'utf8');
      head = Buffer.allocUnsafe(8 + headerLength);
      head.write(text, 8, 'utf8');
    }
  }
  if (headerLength > 0xffffff) throw new FrameError(`header of ${headerLength} bytes exceeds the 24-bit length field`);
  if (4 + headerLength + bodyLength > 0x7fffffff) throw new FrameError(`frame of ${4 + headerLength + bodyLength} bytes exceeds the 32-bit length field`);
  writeI32BE(head, 0, 4 + headerLength + bodyLength);
  writeI32BE(head, 4, ((cmd.serializeType & 0xff) << 24) | headerLength);
  return bodyLength > 0 ? [head, cmd.body as Buffer] : [head];
}

export function encodeCommand(cmd: RemotingCommand): Buffer {
  const parts = encodeCommandParts(cmd);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

// Printable ASCII without quote or backslash needs no JSON escaping: the common case.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quote(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

// A header is written straight into a scratch buffer, in jsonHeaderText's layout, and copied into
// the frame. Building the text first made about 60 short strings (2 KB of garbage) per response.
// A header longer than the scratch, or with a lone surrogate, takes the text path.
const jsonScratch = Buffer.allocUnsafe(16 * 1024);

// fastjson writes the keys sorted; we do the same so our frames read like the Java ones.
/** The JSON header text (the layout writeJsonHeader follows byte for byte). Exported for tests. */
export function jsonHeaderText(cmd: RemotingCommand): string {
  let s = `{"code":${cmd.code | 0}`;
  if (cmd.extFields) {
    s += ',"extFields":{';
    let first = true;
    for (const key in cmd.extFields) {
      const value = cmd.extFields[key];
      if (value === undefined || value === null) continue;
      s += (first ? '' : ',') + quote(key) + ':' + quote(typeof value === 'string' ? value : String(value));
      first = false;
    }
    s += '}';
  }
  s += `,"flag":${cmd.flag | 0},"language":${quote(cmd.language)},"opaque":${cmd.opaque | 0}`;
  if (cmd.remark !== undefined && cmd.remark !== null) s += `,"remark":${quote(cmd.remark)}`;
  s += `,"serializeTypeCurrentRPC":"JSON","version":${cmd.version | 0}}`;
  return s;
}

function encodeBinaryHeader(cmd: RemotingCommand): Buffer {
  const remark = cmd.remark ? Buffer.from(cmd.remark, 'utf8') : null;
  const entries: Array<[Buffer, Buffer]> = [];
  let extLength = 0;
  if (cmd.extFields) {
    for (const key in cmd.extFields) {
      const value = cmd.extFields[key];
      // Java decodes an empty key or value as null, so it skips them on encode too.
      if (value === undefined || value === null || key === '' || value === '') continue;
      const k = Buffer.from(key, 'utf8');
      const v = Buffer.from(String(value), 'utf8');
      if (k.length > 0x7fff) throw new FrameError(`extFields key of ${k.length} bytes is too long for the binary header`);
      entries.push([k, v]);
      extLength += 2 + k.length + 4 + v.length;
    }
  }
  const out = Buffer.allocUnsafe(21 + (remark?.length ?? 0) + extLength);
  let p = 0;
  out.writeInt16BE((cmd.code << 16) >> 16, p); // codes above 32767 are truncated, as Java does
  p += 2;
  out.writeUInt8(languageToByte(cmd.language), p);
  p += 1;
  out.writeInt16BE((cmd.version << 16) >> 16, p);
  p += 2;
  out.writeInt32BE(cmd.opaque | 0, p);
  p += 4;
  out.writeInt32BE(cmd.flag | 0, p);
  p += 4;
  out.writeInt32BE(remark?.length ?? 0, p);
  p += 4;
  if (remark) p += remark.copy(out, p);
  out.writeInt32BE(extLength, p);
  p += 4;
  for (const [k, v] of entries) {
    out.writeInt16BE(k.length, p);
    p += 2;
    p += k.copy(out, p);
    out.writeInt32BE(v.length, p);
    p += 4;
    p += v.copy(out, p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding

/**
 * Decode one frame without its 4-byte length prefix (what FrameDecoder yields).
 * The body is a view into `frame`, not a copy.
 */
export function decodeCommand(frame: Buffer): RemotingCommand {
  if (frame.length < 4) throw new FrameError(`frame of ${frame.length} bytes is shorter than its header length field`);
  const word = readU32BE(frame, 0);
  const type = word >>> 24;
  const headerLength = word & 0xffffff;
  if (headerLength > frame.length - 4) {
    throw new FrameError(`header length ${headerLength} exceeds the frame's ${frame.length - 4} bytes`);
  }
  const headerBytes = frame.subarray(4, 4 + headerLength);
  let cmd: RemotingCommand;
  if (type === SerializeType.JSON) cmd = decodeJsonHeader(headerBytes);
  else if (type === SerializeType.ROCKETMQ) cmd = decodeBinaryHeader(headerBytes);
  else throw new FrameError(`unknown serialize type ${type}`);
  if (frame.length > 4 + headerLength) cmd.body = frame.subarray(4 + headerLength);
  return cmd;
}

function intField(obj: Record<string, unknown>, key: string, required: boolean): number {
  const v = obj[key];
  if (typeof v === 'number' && (v | 0) === v) return v; // the usual case

  if (v === undefined || v === null) {
    if (required) throw new FrameError(`JSON header has no "${key}"`);
    return 0;
  }
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new FrameError(`JSON header field "${key}" is not a 32-bit integer: ${JSON.stringify(v)}`);
  }
  return n;
}

function decodeJsonHeader(bytes: Buffer): RemotingCommand {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FrameError(`JSON header does not parse: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FrameError('JSON header is not an object');
  }
  const h = parsed as Record<string, unknown>;
  const language = h.language;
  const cmd: RemotingCommand = {
    code: intField(h, 'code', true),
    language:
      typeof language === 'string' ? language : typeof language === 'number' ? languageFromByte(language) : 'OTHER',
    version: intField(h, 'version', false),
    opaque: intField(h, 'opaque', false),
    flag: intField(h, 'flag', false),
    serializeType: SerializeType.JSON,
  };
  if (typeof h.remark === 'string') cmd.remark = h.remark;
  else if (h.remark !== undefined && h.remark !== null) cmd.remark = textOf(h.remark, 'remark');
  const ext = h.extFields;
  if (ext !== undefined && ext !== null) {
    if (typeof ext !== 'object' || Array.isArray(ext)) throw new FrameError('JSON header field "extFields" is not an object');
    cmd.extFields = normalizeExtFields(ext as Record<string, unknown>);
  }
  return cmd;
}

/** String(value), as a FrameError when the value cannot be made text (e.g. a bad toString). */
function textOf(value: unknown, field: string): string {
  try {
    return String(value);
  } catch {
    throw new FrameError(`JSON header field "${field}" cannot be read as text`);
  }
}

/** ali-ons sends numbers and booleans as JSON scalars; everything becomes a string, nulls are dropped. */
function normalizeExtFields(ext: Record<string, unknown>): ExtFields {
  // Java and Go send only strings: keep the parsed object as it is.
  let allStrings = true;
  for (const key in ext) {
    if (typeof ext[key] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return ext as ExtFields;
  const out: ExtFields = {};
  for (const key in ext) {
    const v = ext[key];
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out[key] = String(v);
    else throw new FrameError(`extFields value of "${key}" is not a scalar`);
  }
  return out;
}

function decodeBinaryHeader(b: Buffer): RemotingCommand {
  if (b.length < 21) throw new FrameError(`binary header of ${b.length} bytes is shorter than its fixed 21 bytes`);
  const cmd: RemotingCommand = {
    code: b.readInt16BE(0),
    language: languageFromByte(b.readUInt8(2)),
    version: b.readInt16BE(3),
    opaque: b.readInt32BE(5),
    flag: b.readInt32BE(9),
    serializeType: SerializeType.ROCKETMQ,
  };
  let p = 13;
  const remarkLength = b.readInt32BE(p);
  p += 4;
  if (remarkLength < 0 || remarkLength > b.length - p - 4) {
    throw new FrameError(`binary header remark length ${remarkLength} does not fit the header`);
  }
  if (remarkLength > 0) cmd.remark = b.toString('utf8', p, p + remarkLength);
  p += remarkLength;
  const extLength = b.readInt32BE(p);
  p += 4;
  if (extLength < 0 || extLength !== b.length - p) {
    throw new FrameError(`binary header extFields length ${extLength} does not match the ${b.length - p} bytes left`);
  }
  if (extLength > 0) {
    const ext: ExtFields = {};
    const end = p + extLength;
    while (p < end) {
      if (end - p < 2) throw new FrameError('binary header extFields entry is truncated');
      const kLen = b.readUInt16BE(p);
      p += 2;
      if (kLen > end - p - 4) throw new FrameError(`binary header extFields key length ${kLen} does not fit`);
      const key = b.toString('utf8', p, p + kLen);
      p += kLen;
      const vLen = b.readInt32BE(p);
      p += 4;
      if (vLen < 0 || vLen > end - p) throw new FrameError(`binary header extFields value length ${vLen} does not fit`);
      const value = b.toString('utf8', p, p + vLen);
      p += vLen;
      if (kLen > 0 && vLen > 0) ext[key] = value; // Java reads empty keys and values as null
    }
    cmd.extFields = ext;
  }
  return cmd;
}
