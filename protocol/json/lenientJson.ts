// A JSON reader for what Java's fastjson writes: standard JSON, plus maps with unquoted
// number keys ({0:"a"}) and maps keyed by objects ({{"topic":"t","queueId":0}:{...}}).
// An object key becomes the canonical text of that object (keys sorted), so it can be read back.

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

/** Nesting limit: bodies are small documents; a deeper one is hostile input. */
const MAX_DEPTH = 64;

export function parseLenientJson(text: string): unknown {
  const p = new Reader(text);
  p.skipWs();
  const value = p.value(0);
  p.skipWs();
  if (p.pos !== text.length) p.fail('unexpected text after the document');
  return value;
}

/** Standard JSON with object keys sorted, as fastjson writes (MapSortField); compact. */
export function stringifySorted(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : stringifySorted(v))).join(',') + ']';
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + stringifySorted(obj[k])).join(',') + '}';
  }
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

class Reader {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new JsonSyntaxError(`${what} at position ${this.pos}`);
  }

  skipWs(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('document nested too deeply');
    const c = this.s[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case undefined:
        return this.fail('unexpected end of text');
      default:
        return this.bare();
    }
  }

  private object(depth: number): Record<string, unknown> {
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.skipWs();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      const key = this.key(depth);
      this.skipWs();
      if (this.s[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      this.skipWs();
      out[key] = this.value(depth + 1);
      this.skipWs();
      const c = this.s[this.pos];
      this.pos++;
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  private key(depth: number): string {
    const c = this.s[this.pos];
    if (c === '"') return this.string();
    if (c === '{' || c === '[') return stringifySorted(this.value(depth + 1));
    const start = this.pos;
    while (this.pos < this.s.length && /[A-Za-z0-9_$.+-]/.test(this.s[this.pos] as string)) this.pos++;
    if (this.pos === start) this.fail('expected a key');
    return this.s.slice(start, this.pos);
  }

  private array(depth: number): unknown[] {
    this.pos++; // [
    const out: unknown[] = [];
    this.skipWs();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.value(depth + 1));
      this.skipWs();
      const c = this.s[this.pos];
      this.pos++;
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        try {
          return JSON.parse(s.slice(start, this.pos)) as string;
        } catch {
          this.pos = start;
          return this.fail('bad string');
        }
      }
      this.pos += c === 0x5c ? 2 : 1;
    }
    return this.fail('unterminated string');
  }

  private bare(): unknown {
    const start = this.pos;
    while (this.pos < this.s.length && /[A-Za-z0-9_.+-]/.test(this.s[this.pos] as string)) this.pos++;
    const token = this.s.slice(start, this.pos);
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token === 'null') return null;
    if (token !== '' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token)) return Number(token);
    this.pos = start;
    return this.fail(`unexpected token "${token || this.s[start]}"`);
  }
}
