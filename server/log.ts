// One-line logs to stderr with a timestamp and the component; enough until the metrics issue.
export type Logger = (line: string) => void;

export function createLogger(component: string, write: (s: string) => void = (s) => process.stderr.write(s)): Logger {
  return (line) => write(`${new Date().toISOString()} ${component} ${line}\n`);
}

export const silentLogger: Logger = () => undefined;
