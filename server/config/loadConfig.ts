// Builds a typed config from a properties file, command-line overrides and the environment.
// Bad values throw ConfigError; unknown keys only warn, since RocketMQ ignores them too.
import fs from 'node:fs';
import { brokerSchema, type BrokerConfig } from './BrokerConfig.js';
import { ConfigError, type ConfigOrigin } from './ConfigError.js';
import { resolveConfig, type ConfigOf, type ConfigSchema, type KeyTable, type Setting } from './ConfigSchema.js';
import { detectHostInfo, type HostInfo } from './HostInfo.js';
import { parseProperties, PropertiesSyntaxError } from './JavaProperties.js';
import { namesrvSchema, type NamesrvConfig } from './NamesrvConfig.js';

export interface LoadConfigOptions {
  /** A RocketMQ-style .properties file (broker.conf). */
  readonly file?: string;
  /** Values that beat the file, such as -n for namesrvAddr. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Names the overrides in messages; "command line" by default. */
  readonly overrideSource?: string;
  /** NAMESRV_ADDR, ROCKETMQ_HOME; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Fixed host facts for tests; detected by default. */
  readonly host?: Partial<HostInfo>;
}

export interface LoadedConfig<C> {
  readonly config: C;
  /** One line each, naming the file and line: unknown keys, clamped values. */
  readonly warnings: string[];
  readonly file: string | undefined;
  /** Where each explicitly set key came from. */
  readonly origins: ReadonlyMap<string, ConfigOrigin>;
}

export function loadBrokerConfig(opts: LoadConfigOptions = {}): LoadedConfig<BrokerConfig> {
  return loadConfig(brokerSchema, opts);
}

export function loadNamesrvConfig(opts: LoadConfigOptions = {}): LoadedConfig<NamesrvConfig> {
  return loadConfig(namesrvSchema, opts);
}

export function loadConfig<S extends KeyTable>(schema: ConfigSchema<S>, opts: LoadConfigOptions): LoadedConfig<ConfigOf<S>> {
  const layers: Setting[][] = [];
  if (opts.file !== undefined) layers.push(readConfigFile(opts.file));
  if (opts.overrides) {
    const origin: ConfigOrigin = { source: opts.overrideSource ?? 'command line' };
    layers.push(Object.entries(opts.overrides).map(([key, raw]) => ({ key, raw, origin })));
  }
  const given = Object.entries(opts.host ?? {}).filter(([, v]) => v !== undefined);
  const host: HostInfo = { ...detectHostInfo(), ...Object.fromEntries(given) };
  const resolved = resolveConfig(schema, { layers, env: opts.env ?? process.env, host, file: opts.file });
  return { config: resolved.config, warnings: resolved.warnings, file: opts.file, origins: resolved.origins };
}

/** Reads a properties file; every setting keeps its file and line. */
export function readConfigFile(file: string): Setting[] {
  let text: string;
  try {
    // Java's Properties.load(InputStream) reads ISO-8859-1; we read UTF-8, which is what
    // people write, and ASCII files (all of RocketMQ's) read the same either way.
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new ConfigError({ origin: { source: file, file }, expected: `cannot read the config file (${why})` });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not part of the first key
  try {
    return [...parseProperties(text)].map(([key, entry]) => ({
      key,
      raw: entry.value,
      origin: { source: file, file, line: entry.line },
    }));
  } catch (err) {
    if (err instanceof PropertiesSyntaxError) {
      throw new ConfigError({ origin: { source: file, file, line: err.line }, expected: err.message });
    }
    throw err;
  }
}
