// A configuration the process must not start with. The message names where the value came
// from, the key, the value and what was expected, so an operator can fix it without reading
// code: `conf/broker.conf:7: listenPort = "abc": expected an integer port 1..65535`.

/** Where a setting came from: a file line, the command line, the environment. */
export interface ConfigOrigin {
  /** Shown before the message: a file path, "command line -n", "environment NAMESRV_ADDR". */
  readonly source: string;
  /** Set when the setting came from a config file. */
  readonly file?: string;
  readonly line?: number;
}

export interface ConfigErrorFields {
  readonly origin?: ConfigOrigin;
  readonly key?: string;
  /** The value as written (before trimming), or the default in force when none was. */
  readonly value?: string;
  /** What a good value looks like, or what went wrong when no key is at fault. */
  readonly expected: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_RAFTMQ_CONFIG';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly source: string | undefined;
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly expected: string;

  constructor(fields: ConfigErrorFields) {
    super(formatConfigProblem(fields));
    this.file = fields.origin?.file;
    this.line = fields.origin?.line;
    this.source = fields.origin?.source;
    this.key = fields.key;
    this.value = fields.value;
    this.expected = fields.expected;
  }
}

/** "source:line: " or "source: " or "". */
export function formatOrigin(origin: ConfigOrigin | undefined): string {
  if (origin === undefined) return '';
  return origin.line === undefined ? `${origin.source}: ` : `${origin.source}:${origin.line}: `;
}

function formatConfigProblem(f: ConfigErrorFields): string {
  const where = formatOrigin(f.origin);
  if (f.key === undefined) return where + f.expected;
  const value = f.value === undefined ? '' : ` = ${JSON.stringify(f.value)}`;
  return `${where}${f.key}${value}: ${f.expected}`;
}
