// A config is one table of key descriptors. The table alone drives parsing, defaults,
// validation and printing (-p / -m), so adding a key is adding one row.
import { ConfigError, formatOrigin, type ConfigOrigin } from './ConfigError.js';
import type { HostInfo } from './HostInfo.js';
import type { ValueType } from './valueTypes.js';

export interface DefaultContext {
  readonly host: HostInfo;
  /** The config file being loaded, if any. */
  readonly file: string | undefined;
  /** The resolved value of another key, for defaults derived from it (haListenPort). */
  get(key: string): unknown;
}

export interface KeySpec<T> {
  readonly type: ValueType<T>;
  readonly default: NoInfer<T> | ((ctx: DefaultContext) => NoInfer<T>);
  readonly doc: string;
  /** Printed by -m, like RocketMQ's @ImportantField. */
  readonly important?: boolean;
  /** Environment variable read when neither the file nor a flag sets the key (NAMESRV_ADDR). */
  readonly env?: string;
}

export type KeyTable = Readonly<Record<string, KeySpec<unknown>>>;

/** The typed config object of a table; keys in table order. */
export type ConfigOf<S extends KeyTable> = { readonly [K in keyof S]: S[K] extends KeySpec<infer V> ? V : never };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface CheckContext {
  /** Throws a ConfigError about `key`, naming where its value came from. */
  fail(key: string, expected: string): never;
  warn(key: string, message: string): void;
  /** Whether a file, flag or environment variable set the key. */
  isSet(key: string): boolean;
}

export interface ConfigSchema<S extends KeyTable> {
  /** "broker" or "namesrv": used in messages. */
  readonly name: string;
  readonly keys: S;
  /** Rules across keys; may adjust values the way RocketMQ does (with a warning). */
  check?(config: Mutable<ConfigOf<S>>, ctx: CheckContext): void;
}

export function defineSchema<S extends KeyTable>(schema: ConfigSchema<S>): ConfigSchema<S> {
  return schema;
}

/** Infers T for one row so that `default` is checked against `type`. */
export function key<T>(spec: KeySpec<T>): KeySpec<T> {
  return spec;
}

/** A raw value and where it was written. */
export interface Setting {
  readonly key: string;
  readonly raw: string;
  readonly origin: ConfigOrigin;
}

export interface ResolveInput {
  /** Settings from lowest to highest precedence (file, then command line). */
  readonly layers: readonly (readonly Setting[])[];
  readonly env: NodeJS.ProcessEnv;
  readonly host: HostInfo;
  readonly file: string | undefined;
}

export interface Resolved<C> {
  readonly config: C;
  readonly warnings: string[];
  /** Where each explicitly set key came from. */
  readonly origins: ReadonlyMap<string, ConfigOrigin>;
}

export function resolveConfig<S extends KeyTable>(schema: ConfigSchema<S>, input: ResolveInput): Resolved<ConfigOf<S>> {
  const specs = schema.keys as KeyTable;
  const warnings: string[] = [];
  const chosen = new Map<string, Setting>();

  for (const [name, spec] of Object.entries(specs)) {
    const fromEnv = spec.env === undefined ? undefined : input.env[spec.env];
    if (fromEnv !== undefined && fromEnv.trim() !== '') {
      chosen.set(name, { key: name, raw: fromEnv, origin: { source: `environment ${spec.env}` } });
    }
  }
  for (const layer of input.layers) {
    for (const s of layer) {
      if (Object.hasOwn(specs, s.key)) chosen.set(s.key, s);
      else warnings.push(`${formatOrigin(s.origin)}${unknownKeyMessage(schema.name, specs, s.key)}`);
    }
  }

  const values = new Map<string, unknown>();
  const resolving = new Set<string>();
  const ctx: DefaultContext = { host: input.host, file: input.file, get: (k) => valueOf(k) };
  function valueOf(name: string): unknown {
    if (values.has(name)) return values.get(name);
    const spec = specs[name];
    if (spec === undefined) throw new Error(`config table ${schema.name} has no key ${name}`);
    if (resolving.has(name)) throw new Error(`config table ${schema.name}: default of ${name} depends on itself`);
    resolving.add(name);
    let value: unknown;
    const setting = chosen.get(name);
    if (setting) {
      const parsed = spec.type.parse(setting.raw.trim());
      if (!parsed.ok) {
        const why = parsed.why === undefined ? '' : ` (${parsed.why})`;
        const expected = `expected ${spec.type.expected}${why}`;
        throw new ConfigError({ origin: setting.origin, key: name, value: setting.raw, expected });
      }
      if (parsed.note !== undefined) {
        warnings.push(`${formatOrigin(setting.origin)}${name} = ${JSON.stringify(setting.raw)}: ${parsed.note}`);
      }
      value = parsed.value;
    } else {
      value = typeof spec.default === 'function' ? (spec.default as (c: DefaultContext) => unknown)(ctx) : spec.default;
    }
    resolving.delete(name);
    values.set(name, value);
    return value;
  }

  const config: Record<string, unknown> = {};
  // Settings first, so a bad value is reported even when a default would have needed it.
  for (const name of chosen.keys()) valueOf(name);
  for (const name of Object.keys(specs)) config[name] = valueOf(name);

  const origins = new Map<string, ConfigOrigin>([...chosen].map(([k, s]) => [k, s.origin]));
  if (schema.check) {
    const fileOrigin: ConfigOrigin | undefined = input.file === undefined ? undefined : { source: input.file, file: input.file };
    schema.check(config as Mutable<ConfigOf<S>>, {
      fail(name, expected): never {
        const setting = chosen.get(name);
        if (setting) throw new ConfigError({ origin: setting.origin, key: name, value: setting.raw, expected });
        // Not set: show the default in force, or say that nothing is set.
        const spec = specs[name];
        const shown = spec === undefined ? '' : spec.type.format(config[name]);
        if (shown === '') throw new ConfigError({ origin: fileOrigin, key: name, expected: `${expected} (not set)` });
        throw new ConfigError({ origin: fileOrigin, key: name, value: shown, expected });
      },
      warn(name, message) {
        warnings.push(`${formatOrigin(chosen.get(name)?.origin ?? fileOrigin)}${name}: ${message}`);
      },
      isSet: (name) => chosen.has(name),
    });
  }
  return { config: Object.freeze(config) as ConfigOf<S>, warnings, origins };
}

function unknownKeyMessage(kind: string, specs: KeyTable, name: string): string {
  // Case slips and dLeger/dLedger are the usual causes; suggest a key at most 2 edits away.
  let near: string | undefined;
  let best = 3;
  for (const k of Object.keys(specs)) {
    const d = editDistance(k.toLowerCase(), name.toLowerCase(), best);
    if (d < best) {
      best = d;
      near = k;
    }
  }
  const hint = near === undefined ? '' : `; did you mean "${near}"?`;
  return `unknown ${kind} config key "${name}" is ignored${hint}`;
}

/** Levenshtein distance, or `limit` once it is certain to reach it. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return Math.min(prev[b.length] ?? limit, limit);
}

/** `key=value` lines in table order, like RocketMQ's -p / -m (which print declaration order). */
export function formatConfig<S extends KeyTable>(
  schema: ConfigSchema<S>,
  config: ConfigOf<S>,
  opts: { importantOnly?: boolean } = {},
): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(schema.keys as KeyTable)) {
    if (opts.importantOnly && !spec.important) continue;
    lines.push(`${name}=${spec.type.format((config as Record<string, unknown>)[name])}`);
  }
  return lines.join('\n') + '\n';
}
