// A reader for Java `.properties` text that follows java.util.Properties.load, so a broker.conf
// written for the Java broker means the same here. It also remembers where each key was
// defined, which Java does not, so that a bad value can be reported with its line.

export interface PropertyEntry {
  readonly value: string;
  /** 1-based line where the (last) definition of the key starts. */
  readonly line: number;
}

/** Text that Properties.load would reject; only a malformed \uXXXX escape does that. */
export class PropertiesSyntaxError extends Error {
  override readonly name = 'PropertiesSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** One logical line: natural lines joined at continuations, with where each piece began. */
interface LogicalLine {
  readonly text: string;
  /** starts[i] is the offset in `text` where natural line lines[i] contributes. */
  readonly starts: number[];
  readonly lines: number[];
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\f';
const isEol = (c: string | undefined): boolean => c === '\n' || c === '\r';

/** Parses properties text; the last definition of a key wins, as in Java. */
export function parseProperties(text: string): Map<string, PropertyEntry> {
  const out = new Map<string, PropertyEntry>();
  for (const logical of logicalLines(text)) {
    const { keyEnd, valueStart } = splitKeyValue(logical.text);
    const key = unescape(logical, 0, keyEnd);
    const value = unescape(logical, valueStart, logical.text.length);
    // Delete first so the map's order is the order of the definitions that won.
    out.delete(key);
    out.set(key, { value, line: logical.lines[0] ?? 1 });
  }
  return out;
}

// Mirrors the LineReader of Properties.load (JDK 9 and later): whitespace before a logical
// line is skipped, a logical line that is still empty may be a comment, an odd number of
// trailing backslashes joins the next natural line with its leading whitespace dropped.
function* logicalLines(text: string): Generator<LogicalLine> {
  const n = text.length;
  let pos = 0;
  let line = 1;
  while (true) {
    let buf = '';
    let starts: number[] = [];
    let lines: number[] = [];
    let skipWhitespace = true;
    let continuing = false; // just joined a line: a line break now ends the logical line
    let escaped = false; // buf ends with an odd run of backslashes
    while (true) {
      if (pos >= n) {
        if (buf === '') return;
        yield { text: escaped ? buf.slice(0, -1) : buf, starts, lines };
        return;
      }
      const c = text[pos++] as string;
      const eol = isEol(c);
      // Java looks for the end of input before it swallows the "\n" of "\r\n".
      const lastChar = pos >= n;
      if (eol) {
        if (c === '\r' && text[pos] === '\n') pos++; // "\r\n" is one line break
        line++;
      }
      if (skipWhitespace) {
        if (isBlank(c)) continue;
        if (eol && !continuing) continue;
        skipWhitespace = false;
        continuing = false;
      }
      if (buf === '' && (c === '#' || c === '!')) {
        // A comment is the rest of this natural line; a trailing backslash does not continue it.
        while (pos < n && !isEol(text[pos])) pos++;
        skipWhitespace = true;
        continue;
      }
      if (!eol) {
        if (lines[lines.length - 1] !== line) {
          starts.push(buf.length);
          lines.push(line);
        }
        buf += c;
        escaped = c === '\\' ? !escaped : false;
        continue;
      }
      if (buf === '') {
        skipWhitespace = true;
        continue;
      }
      if (lastChar) {
        yield { text: escaped ? buf.slice(0, -1) : buf, starts, lines };
        return;
      }
      if (!escaped) break;
      buf = buf.slice(0, -1);
      if (buf === '') {
        starts = [];
        lines = [];
      }
      skipWhitespace = true;
      continuing = true;
      escaped = false;
    }
    yield { text: buf, starts, lines };
  }
}

/**
 * The key ends at the first unescaped '=', ':' or blank. Blanks around the separator, and at
 * most one '=' or ':' after blanks, belong to neither side.
 */
function splitKeyValue(s: string): { keyEnd: number; valueStart: number } {
  let keyEnd = 0;
  let valueStart = s.length;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < s.length; keyEnd++) {
    const c = s[keyEnd];
    if (!escaped && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && isBlank(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
  }
  for (; valueStart < s.length; valueStart++) {
    const c = s[valueStart];
    if (isBlank(c)) continue;
    if (!hasSeparator && (c === '=' || c === ':')) {
      hasSeparator = true;
      continue;
    }
    break;
  }
  return { keyEnd, valueStart };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Resolves backslash escapes in logical.text[from, to). */
function unescape(logical: LogicalLine, from: number, to: number): string {
  const s = logical.text;
  const first = s.indexOf('\\', from);
  if (first < 0 || first >= to) return s.slice(from, to);
  let out = '';
  let i = from;
  while (i < to) {
    const c = s[i++] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (i >= to) break; // unreachable: load never leaves an odd trailing backslash
    const e = s[i++] as string;
    if (e === 'u') {
      const hex = s.slice(i, Math.min(i + 4, to));
      if (!HEX4.test(hex)) {
        throw new PropertiesSyntaxError(
          lineAt(logical, i - 2),
          `malformed \\uXXXX escape "\\u${hex}": expected 4 hex digits`,
        );
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[e] ?? e;
    }
  }
  return out;
}

function lineAt(logical: LogicalLine, offset: number): number {
  let line = logical.lines[0] ?? 1;
  for (let k = 0; k < logical.starts.length; k++) {
    if ((logical.starts[k] ?? 0) <= offset) line = logical.lines[k] ?? line;
  }
  return line;
}
