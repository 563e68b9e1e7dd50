// The mqnamesrv / mqbroker command lines, with RocketMQ's flags: -c file, -n namesrvAddr
// (broker), -p print all config, -m print important config (broker), -h help.
// Nothing here exits the process, so every path is testable; bin/ maps results to exit codes.
import { Command, CommanderError } from 'commander';
import { brokerSchema, type BrokerConfig } from './BrokerConfig.js';
import { ConfigError } from './ConfigError.js';
import { formatConfig, type ConfigSchema, type KeyTable } from './ConfigSchema.js';
import type { HostInfo } from './HostInfo.js';
import { loadConfig } from './loadConfig.js';
import { namesrvSchema, type NamesrvConfig } from './NamesrvConfig.js';

export type LauncherKind = 'namesrv' | 'broker';

export type LauncherResult<C> =
  /** Start the server with `config`. */
  | { readonly action: 'run'; readonly config: C; readonly warnings: string[]; readonly file: string | undefined }
  /** -p / -m: write `output` to stdout and exit 0. */
  | {
      readonly action: 'print';
      readonly config: C;
      readonly warnings: string[];
      readonly file: string | undefined;
      readonly output: string;
    }
  /** -h: write `output` to stdout and exit 0. */
  | { readonly action: 'help'; readonly output: string; readonly warnings: string[] };

/** Flags that do not parse (unknown option, missing argument). `usage` is the help text. */
export class LauncherUsageError extends Error {
  override readonly name = 'LauncherUsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

interface Flags {
  configFile?: string;
  namesrvAddr?: string;
  printConfigItem?: boolean;
  printImportantConfig?: boolean;
}

function buildCommand(kind: LauncherKind): Command {
  const cmd = new Command(kind === 'broker' ? 'mqbroker' : 'mqnamesrv')
    .helpOption('-h, --help', 'Print help')
    .option('-c, --configFile <file>', kind === 'broker' ? 'Broker config properties file' : 'Name server config properties file')
    .option('-p, --printConfigItem', 'Print all config items');
  if (kind === 'broker') {
    cmd
      .option('-m, --printImportantConfig', 'Print important config items')
      .option('-n, --namesrvAddr <addr>', "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'");
  }
  return cmd;
}

/**
 * Reads the launcher flags and loads the config they name.
 * Throws ConfigError for bad values and LauncherUsageError for bad flags.
 * `argv` excludes node and the script (process.argv.slice(2)).
 */
export function parseLauncherArgs(
  kind: 'namesrv',
  argv: readonly string[],
  env?: NodeJS.ProcessEnv,
  host?: Partial<HostInfo>,
): LauncherResult<NamesrvConfig>;
export function parseLauncherArgs(
  kind: 'broker',
  argv: readonly string[],
  env?: NodeJS.ProcessEnv,
  host?: Partial<HostInfo>,
): LauncherResult<BrokerConfig>;
export function parseLauncherArgs(
  kind: LauncherKind,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  host?: Partial<HostInfo>,
): LauncherResult<NamesrvConfig | BrokerConfig> {
  const cmd = buildCommand(kind);
  let out = '';
  let err = '';
  cmd.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') {
        return { action: 'help', output: out, warnings: [] };
      }
      throw new LauncherUsageError(err.trim() || e.message, cmd.helpInformation());
    }
    throw e;
  }
  const flags = cmd.opts<Flags>();
  const schema: ConfigSchema<KeyTable> = kind === 'broker' ? brokerSchema : namesrvSchema;
  const overrides: Record<string, string> = {};
  if (flags.namesrvAddr !== undefined) overrides['namesrvAddr'] = flags.namesrvAddr;
  const loaded = loadConfig(schema, {
    file: flags.configFile,
    overrides,
    overrideSource: 'command line -n',
    env,
    host: host ?? {},
  });
  const common = { config: loaded.config as NamesrvConfig | BrokerConfig, warnings: loaded.warnings, file: loaded.file };
  // RocketMQ checks -p before -m.
  if (flags.printConfigItem || flags.printImportantConfig) {
    const output = formatConfig(schema, loaded.config, { importantOnly: !flags.printConfigItem });
    return { action: 'print', output, ...common };
  }
  return { action: 'run', ...common };
}

/** Start with `config`, or exit with `exitCode` (0 after -h/-p/-m, 1 after an error). */
export type LaunchPlan<C> = { readonly config: C; readonly file: string | undefined } | { readonly exitCode: number };

export interface LaunchIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * What bin/mqnamesrv and bin/mqbroker call: prints help, -p/-m output, warnings and errors,
 * and returns either the config to start with or the exit code to exit with.
 */
export function prepareLaunch(
  kind: 'namesrv',
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: LaunchIO,
  host?: Partial<HostInfo>,
): LaunchPlan<NamesrvConfig>;
export function prepareLaunch(
  kind: 'broker',
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: LaunchIO,
  host?: Partial<HostInfo>,
): LaunchPlan<BrokerConfig>;
export function prepareLaunch(
  kind: LauncherKind,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: LaunchIO,
  host?: Partial<HostInfo>,
): LaunchPlan<NamesrvConfig | BrokerConfig> {
  let result: LauncherResult<NamesrvConfig | BrokerConfig>;
  try {
    result = kind === 'broker' ? parseLauncherArgs('broker', argv, env, host) : parseLauncherArgs('namesrv', argv, env, host);
  } catch (e) {
    if (e instanceof LauncherUsageError) {
      io.stderr(`${e.message}\n${e.usage}`);
      return { exitCode: 1 };
    }
    if (e instanceof ConfigError) {
      io.stderr(`${e.message}\n`);
      return { exitCode: 1 };
    }
    throw e;
  }
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (result.action === 'help' || result.action === 'print') {
    io.stdout(result.output);
    return { exitCode: 0 };
  }
  return { config: result.config, file: result.file };
}
