// Typed custom headers. A request's extFields are a string map on the wire; each header is
// declared once as a schema, and decode/encode follow it (Java maps fields by exact name).
import type { ExtFields } from '../remoting/RemotingCommand.js';
import { HeaderFieldError } from '../remoting/errors.js';

export type FieldKind = 'string' | 'int' | 'long' | 'boolean';

export interface FieldSpec<K extends FieldKind = FieldKind, R extends boolean = boolean> {
  kind: K;
  required: R;
}

export type HeaderSchema = Record<string, FieldSpec>;

type ValueOf<K extends FieldKind> = K extends 'string' ? string : K extends 'boolean' ? boolean : number;

type RequiredKeys<S extends HeaderSchema> = { [P in keyof S]: S[P]['required'] extends true ? P : never }[keyof S];
type OptionalKeys<S extends HeaderSchema> = Exclude<keyof S, RequiredKeys<S>>;

/** The decoded value of a schema: required fields present, optional ones may be undefined. */
export type HeaderOf<S extends HeaderSchema> = { [P in RequiredKeys<S>]: ValueOf<S[P]['kind']> } & {
  [P in OptionalKeys<S>]?: ValueOf<S[P]['kind']> | undefined;
};

// Field constructors: R = required (Java @CFNotNull), o = optional.
export const str = { R: { kind: 'string', required: true }, o: { kind: 'string', required: false } } as const;
export const int = { R: { kind: 'int', required: true }, o: { kind: 'int', required: false } } as const;
export const long = { R: { kind: 'long', required: true }, o: { kind: 'long', required: false } } as const;
export const bool = { R: { kind: 'boolean', required: true }, o: { kind: 'boolean', required: false } } as const;

export interface HeaderDef<S extends HeaderSchema> {
  readonly name: string;
  readonly schema: S;
  decode(ext: ExtFields | undefined): HeaderOf<S>;
  encode(value: HeaderOf<S>): ExtFields;
}

/** Decimal integer text (optional sign, surrounding spaces allowed) to a number; NaN if it is not one. */
function parseDecimal(raw: string): number {
  let start = 0;
  let end = raw.length;
  while (start < end && raw.charCodeAt(start) === 0x20) start++;
  while (end > start && raw.charCodeAt(end - 1) === 0x20) end--;
  let negative = false;
  const sign = raw.charCodeAt(start);
  if (sign === 0x2d || sign === 0x2b) {
    negative = sign === 0x2d;
    start++;
  }
  if (start === end || end - start > 19) return NaN;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = raw.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

function parseInt32(header: string, key: string, raw: string): number {
  const n = parseDecimal(raw);
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new HeaderFieldError(`${header}: the custom field ${key} is not a 32-bit integer: "${raw}"`);
  }
  return n;
}

function parseLong(header: string, key: string, raw: string): number {
  const n = parseDecimal(raw);
  // Offsets and timestamps stay far below 2^53; a larger value would lose precision silently.
  if (!Number.isSafeInteger(n)) {
    throw new HeaderFieldError(`${header}: the custom field ${key} is not a 64-bit integer we can hold: "${raw}"`);
  }
  return n;
}

/** Java's Boolean.parseBoolean: true iff "true" ignoring case. */
function parseBoolean(raw: string): boolean {
  return raw.toLowerCase() === 'true';
}

/**
 * A decoder for one schema, with the field names written into its code: V8 then reads and writes
 * them as named properties, where one loop over the names, shared by every header, made each
 * read and write a megamorphic keyed access (about a microsecond for a send's 14 fields).
 */
function compileDecoder<S extends HeaderSchema>(name: string, schema: S): (ext: ExtFields | undefined) => HeaderOf<S> {
  const lines = ['const out = {};', 'let raw;'];
  for (const key of Object.keys(schema)) {
    const spec = schema[key] as FieldSpec;
    const k = JSON.stringify(key);
    const value =
      spec.kind === 'string' ? 'raw' : spec.kind === 'boolean' ? 'parseBoolean(raw)' : spec.kind === 'int' ? `parseInt32(header, ${k}, raw)` : `parseLong(header, ${k}, raw)`;
    lines.push(`raw = ext == null ? undefined : ext[${k}];`);
    lines.push(`if (raw !== undefined) out[${k}] = ${value};`);
    if (spec.required) lines.push(`else throw missing(${k});`);
  }
  lines.push('return out;');
  const make = new Function('header', 'missing', 'parseInt32', 'parseLong', 'parseBoolean', `'use strict'; return function decode(ext) {\n${lines.join('\n')}\n};`) as (
    header: string,
    missing: (key: string) => Error,
    int32: typeof parseInt32,
    long: typeof parseLong,
    bool: typeof parseBoolean,
  ) => (ext: ExtFields | undefined) => HeaderOf<S>;
  return make(name, (key) => new HeaderFieldError(`${name}: the custom field ${key} is null`), parseInt32, parseLong, parseBoolean);
}

/** An encoder for one schema, compiled like the decoder: the fields that are set, as strings, in schema order. */
function compileEncoder<S extends HeaderSchema>(schema: S): (value: HeaderOf<S>) => ExtFields {
  const lines = ['const out = {};', 'let field;'];
  for (const key of Object.keys(schema)) {
    const k = JSON.stringify(key);
    lines.push(`field = value[${k}];`);
    lines.push(`if (field !== undefined && field !== null) out[${k}] = typeof field === 'string' ? field : String(field);`);
  }
  lines.push('return out;');
  return new Function('value', `'use strict';\n${lines.join('\n')}`) as (value: HeaderOf<S>) => ExtFields;
}

export function defineHeader<S extends HeaderSchema>(name: string, schema: S): HeaderDef<S> {
  return { name, schema, decode: compileDecoder(name, schema), encode: compileEncoder(schema) };
}
