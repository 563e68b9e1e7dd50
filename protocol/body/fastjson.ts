// What the admin and client bodies share: a lenient reader for the fields of a parsed fastjson
// document, and a writer for the two things stringifySorted cannot say: maps keyed by objects
// (fastjson writes the key object itself, spec §2.3 b) and Java doubles ("0.0", "1.0E7").
import { JsonSyntaxError, parseLenientJson, stringifySorted } from '../json/lenientJson.js';
import { BodyError } from './RegisterBrokerBody.js';

export { BodyError };

/** Text written as it is, inside a document that writeFastJson renders. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A Java double as fastjson writes it: integral values keep ".0", large and tiny ones use "E". */
export function javaDouble(n: number): RawJson {
  if (!Number.isFinite(n)) return new RawJson('null');
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) {
    const [mantissa, exp] = n.toExponential().split('e') as [string, string];
    const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
    return new RawJson(`${m}E${exp.startsWith('+') ? exp.slice(1) : exp}`);
  }
  const s = String(n);
  return new RawJson(s.includes('.') ? s : `${s}.0`);
}

/** A map whose keys are objects, written fastjson's way: {{"k":1}:{...},...}. */
export function objectKeyedMap(entries: Iterable<readonly [unknown, unknown]>): RawJson {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${writeFastJson(k)}:${writeFastJson(v)}`);
  return new RawJson(`{${parts.join(',')}}`);
}

/** Compact JSON with sorted keys (like stringifySorted), honouring RawJson parts. */
export function writeFastJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => writeFastJson(v)).join(',') + ']';
  if (value instanceof Map) return writeFastJson(Object.fromEntries(value));
  if (value instanceof Set) return writeFastJson([...value]);
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + writeFastJson(obj[k])).join(',') + '}';
  }
  return stringifySorted(value);
}

export function fastJsonBody(value: unknown): Buffer {
  return Buffer.from(writeFastJson(value), 'utf8');
}

/** Parse a body with the lenient reader; an empty body is an empty object. */
export function parseBody(body: Buffer | undefined, what: string): Record<string, unknown> {
  if (!body || body.length === 0) return {};
  let doc: unknown;
  try {
    doc = parseLenientJson(body.toString('utf8'));
  } catch (e) {
    throw new BodyError(`${what} body is not JSON: ${(e as JsonSyntaxError).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BodyError(`${what} body is not a JSON object`);
  return doc as Record<string, unknown>;
}

export function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A number field; strings holding numbers are accepted (fastjson reads "5" into a long). */
export function numberField(v: unknown, fallback = 0): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

export function stringField(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fallback;
}

/** Java's Boolean from JSON: true, or the text "true" in any case. */
export function booleanField(v: unknown, fallback = false): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.toLowerCase() === 'true';
  return fallback;
}

/** An enum written by name; a value outside the known names gives the fallback. */
export function enumField<T extends string>(v: unknown, names: readonly T[], fallback: T): T {
  return typeof v === 'string' && (names as readonly string[]).includes(v) ? (v as T) : fallback;
}
