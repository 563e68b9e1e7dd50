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

function parseField(header: string, key: string, kind: FieldKind, raw: string): string | number | boolean {
  switch (kind) {
    case 'string':
      return raw;
    case 'boolean':
      // Java's Boolean.parseBoolean: true iff "true" ignoring case.
      return raw.toLowerCase() === 'true';
    case 'int': {
      const n = parseDecimal(raw);
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
        throw new HeaderFieldError(`${header}: the custom field ${key} is not a 32-bit integer: "${raw}"`);
      }
      return n;
    }
    case 'long': {
      const n = parseDecimal(raw);
      // Offsets and timestamps stay far below 2^53; a larger value would lose precision silently.
      if (!Number.isSafeInteger(n)) {
        throw new HeaderFieldError(`${header}: the custom field ${key} is not a 64-bit integer we can hold: "${raw}"`);
      }
      return n;
    }
  }
}

export function defineHeader<S extends HeaderSchema>(name: string, schema: S): HeaderDef<S> {
  const keys = Object.keys(schema);
  return {
    name,
    schema,
    decode(ext) {
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const spec = schema[key] as FieldSpec;
        const raw = ext?.[key];
        if (raw === undefined) {
          if (spec.required) throw new HeaderFieldError(`${name}: the custom field ${key} is null`);
          continue;
        }
        out[key] = parseField(name, key, spec.kind, raw);
      }
      return out as HeaderOf<S>;
    },
    encode(value) {
      const out: ExtFields = {};
      const v = value as Record<string, unknown>;
      for (const key of keys) {
        const field = v[key];
        if (field === undefined || field === null) continue;
        out[key] = String(field);
      }
      return out;
    },
  };
}
