// The JSON header (serialize type 0) written straight into a buffer, byte for byte what
// jsonHeaderText gives, escapes and UTF-8 included. A send's properties hold \u0001 and \u0002
// separators, so escapes are the common case, not the exception.
import type { RemotingCommand } from './RemotingCommand.js';

const HEX = '0123456789abcdef';
/** JSON.stringify's two-character escapes, by char code (0 = none). */
const SHORT_ESCAPE = new Uint8Array(128);
SHORT_ESCAPE[0x08] = 0x62; // \b
SHORT_ESCAPE[0x09] = 0x74; // \t
SHORT_ESCAPE[0x0a] = 0x6e; // \n
SHORT_ESCAPE[0x0c] = 0x66; // \f
SHORT_ESCAPE[0x0d] = 0x72; // \r
SHORT_ESCAPE[0x22] = 0x22; // \"
SHORT_ESCAPE[0x5c] = 0x5c; // \\

/**
 * Writes `s` as JSON.stringify(s) would, quotes included, at p; returns the end, or -1 when it
 * does not fit or holds a lone surrogate (JSON.stringify's \udxxx escapes are left to the text path).
 */
function putJsonString(b: Buffer, p: number, s: string): number {
  // at most 6 bytes a char (\u00xx); checked once for the usual short strings
  const roomy = p >= 0 && p + 2 + 6 * s.length <= b.length;
  if (!roomy && (p < 0 || p + 2 + s.length > b.length)) return -1;
  const limit = b.length;
  b[p++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) {
      if (!roomy && p + 1 > limit) return -1;
      b[p++] = c;
    } else if (c < 0x80) {
      if (!roomy && p + 6 > limit) return -1;
      b[p++] = 0x5c;
      const short = SHORT_ESCAPE[c]!;
      if (short !== 0) b[p++] = short;
      else {
        b[p++] = 0x75;
        b[p++] = 0x30;
        b[p++] = 0x30;
        b[p++] = HEX.charCodeAt(c >> 4);
        b[p++] = HEX.charCodeAt(c & 15);
      }
    } else {
      // UTF-8, as the text path's Buffer.write gives it
      if (!roomy && p + 4 > limit) return -1;
      if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        const low = s.charCodeAt(i + 1);
        if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return -1;
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 0x3f);
        b[p++] = 0x80 | ((cp >> 6) & 0x3f);
        b[p++] = 0x80 | (cp & 0x3f);
        i++;
      }
    }
  }
  if (p >= limit) return -1;
  b[p++] = 0x22;
  return p;
}

/** Writes the one-byte chars of an ASCII literal at p when they fit; returns the end, or -1. */
function putAscii(b: Buffer, p: number, s: string): number {
  if (p < 0 || p + s.length > b.length) return -1;
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** Writes the decimal digits of an int32 at p; returns the end, or -1 when they do not fit. */
function putInt(b: Buffer, p: number, n: number): number {
  if (p < 0 || p + 11 > b.length) return -1;
  let v = n;
  if (n < 0) {
    b[p++] = 0x2d;
    v = -n;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  let at = p + digits;
  do {
    b[--at] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  return p + digits;
}

/** Writes one byte at p; returns the end, or -1. */
function putByte(b: Buffer, p: number, c: number): number {
  if (p < 0 || p >= b.length) return -1;
  b[p] = c;
  return p + 1;
}

/**
 * jsonHeaderText(cmd) as bytes at `at`; returns the end, or -1 when it does not fit in `b` or a
 * string holds a lone surrogate.
 */
export function writeJsonHeader(cmd: RemotingCommand, b: Buffer, at: number): number {
  let p = putAscii(b, at, '{"code":');
  p = putInt(b, p, cmd.code | 0);
  const ext = cmd.extFields;
  if (ext) {
    p = putAscii(b, p, ',"extFields":{');
    let first = true;
    for (const key in ext) {
      const v = ext[key];
      if (v === undefined || v === null) continue;
      if (!first) p = putByte(b, p, 0x2c);
      first = false;
      p = putJsonString(b, p, key);
      p = putByte(b, p, 0x3a);
      p = putJsonString(b, p, typeof v === 'string' ? v : String(v));
    }
    p = putByte(b, p, 0x7d);
  }
  p = putAscii(b, p, ',"flag":');
  p = putInt(b, p, cmd.flag | 0);
  p = putAscii(b, p, ',"language":');
  p = putJsonString(b, p, cmd.language);
  p = putAscii(b, p, ',"opaque":');
  p = putInt(b, p, cmd.opaque | 0);
  if (cmd.remark !== undefined && cmd.remark !== null) {
    p = putAscii(b, p, ',"remark":');
    p = putJsonString(b, p, cmd.remark);
  }
  p = putAscii(b, p, ',"serializeTypeCurrentRPC":"JSON","version":');
  p = putInt(b, p, cmd.version | 0);
  return putByte(b, p, 0x7d);
}
